"""tools/gan_probe_discriminator.py: which changes to real patches cost a discriminator's genre
head its accuracy (the diagnosis behind ``--augment …,pitch``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from gan.data import PatchSampler
from gan.state import GanState, save_checkpoint
from tests.test_gan_model import one_thread, synthetic_clips, tiny_config  # noqa: F401
from tests.tool_loading import TOOLS_DIR, load_tool

TOOL = TOOLS_DIR / "gan_probe_discriminator.py"


def head_taught_genres(sampler: PatchSampler) -> GanState:
    """A tiny run whose discriminator's genre head has learnt the synthetic clips' genres
    (supervised, as test set-up: a GAN run that small would take minutes to get there)."""
    state = GanState.fresh(tiny_config())
    optimiser = torch.optim.Adam(state.discriminator.parameters(), lr=3e-3)
    rng = torch.Generator().manual_seed(0)
    for _ in range(150):
        real, genres = sampler.sample(20, rng)
        _, logits = state.discriminator.score_and_classify(
            real.contiguous(memory_format=torch.channels_last), genres
        )
        optimiser.zero_grad()
        F.cross_entropy(logits, genres).backward()
        optimiser.step()
    return state


def test_the_probe_tells_what_the_head_relies_on(one_thread) -> None:  # noqa: F811
    """The synthetic genres are bright bands at fixed mel bins, the same in every frame: a head
    that learnt them keeps them when time runs backwards or the loudness contour is flattened,
    and loses them when each patch's average spectrum is taken away."""
    tool = load_tool(TOOL)
    sampler = PatchSampler(synthetic_clips())
    report = tool.probe(head_taught_genres(sampler), sampler, patches=200, seed=1)
    changes = {name: result["accuracy"] for name, result in report["changes"].items()}
    assert list(changes) == list(tool.CHANGES)
    assert changes["none"] >= 0.9
    assert changes["time reversed"] >= changes["none"] - 0.05
    assert changes["blocks of 16 frames shuffled"] >= changes["none"] - 0.05
    assert changes["loudness contour flattened"] >= changes["none"] - 0.05  # the other axis
    assert changes["average spectrum flattened"] <= 0.3
    assert set(report["generated"]["per_genre"]) <= set(GanState.fresh(tiny_config()).labels)


def test_the_probe_shows_a_discriminator_taught_with_negatives_calls_backwards_fake(
    one_thread,  # noqa: F811
) -> None:
    from tests.test_gan_negatives import trained_on_swelling_clips

    state, sampler = trained_on_swelling_clips(negatives=1.0)
    changes = load_tool(TOOL).probe(state, sampler, 64, seed=1)["changes"]
    realness = {name: result["realness"] for name, result in changes.items()}
    # (a block shuffle changes nothing here: these notes repeat every 16 frames, as blocks do)
    assert realness["time reversed"] < -1.0 < realness["none"] - 1.0


def test_the_tool_prints_json_and_says_what_is_wrong(tmp_path: Path, gtzan_dir: Path) -> None:
    save_checkpoint(GanState.fresh(tiny_config()), tmp_path / "checkpoint.pt")
    command = [sys.executable, str(TOOL), "--data", str(gtzan_dir / "audio"), "--patches", "30"]
    done = subprocess.run([*command, "--checkpoint", str(tmp_path / "checkpoint.pt")],
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["step"] == 0 and report["patches"] == 30
    assert "moved up 2 mel bins" in report["changes"]
    for result in [*report["changes"].values(), report["generated"]]:
        assert 0.0 <= result["accuracy"] <= 1.0 and isinstance(result["realness"], float)
        assert all(0.0 <= share <= 1.0 for share in result["per_genre"].values())
    missing = subprocess.run([*command, "--checkpoint", str(tmp_path / "none.pt")],
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert missing.returncode == 2
    assert "cannot be read" in missing.stderr and "Traceback" not in missing.stderr
