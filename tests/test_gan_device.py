"""Training on another device than the CPU (``gan train --device``): the random streams stay on
the CPU, everything drawn from them is moved to the networks' device."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan.augment import augment
from gan.config import AUGMENTATIONS, TrainConfig
from gan.negatives import spectral_negatives, temporal_negatives
from gan.state import GanState, load_checkpoint, save_checkpoint
from gan.train import train_step, training_device
from tests.test_gan_model import TINY, one_thread  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def on_meta() -> torch.Tensor:
    """A batch on the meta device: an operation that mixes it with a CPU tensor raises, as it
    would with a GPU tensor, so this finds random draws left behind on the CPU."""
    return torch.zeros(4, 1, 128, 64, device="meta")


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_every_augmentation_keeps_the_patches_on_their_device(name: str) -> None:
    out = augment(on_meta(), (name,), torch.Generator().manual_seed(0))
    assert out.device.type == "meta" and out.shape == (4, 1, 128, 64)


def test_negatives_keep_the_patches_on_their_device() -> None:
    rng = torch.Generator().manual_seed(0)
    assert temporal_negatives(on_meta(), rng).device.type == "meta"
    assert spectral_negatives(on_meta(), rng).device.type == "meta"


def test_a_state_moved_to_a_device_trains_and_resumes_with_the_same_draws(tmp_path: Path) -> None:
    config = TrainConfig(batch_size=4, model=TINY, augment="shift,cutout,gain,pitch",
                         negatives=1.0, local_weight=1.0)  # fmt: skip
    real, genres = torch.rand(4, 1, 128, 128) * 2 - 1, torch.tensor([0, 1, 2, 3])
    torch.manual_seed(0)
    state = GanState.fresh(config)
    train_step(state, real, genres)
    save_checkpoint(state, tmp_path / "checkpoint.pt")
    moved = load_checkpoint(tmp_path / "checkpoint.pt").to_device("cpu")
    assert moved.device.type == "cpu"
    # optimiser state and random streams came along: the next step is the same either way
    same = load_checkpoint(tmp_path / "checkpoint.pt")
    assert train_step(moved, real, genres) == train_step(same, real, genres)


def test_auto_is_the_cpu_without_a_gpu_and_a_missing_gpu_is_one_clear_line(tmp_path: Path) -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: 'auto' picks it")
    assert training_device("auto") == torch.device("cpu")
    done = subprocess.run(
        [sys.executable, "-m", "gan", "train", "--run", str(tmp_path / "r"), "--device", "cuda",
         "--steps", "2"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2
    assert "No CUDA GPU" in done.stderr and "--device cpu" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()  # refused before any run folder or registry entry
