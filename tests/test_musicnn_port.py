"""The PyTorch musicnn port against the original TensorFlow graph's outputs on real GTZAN clips.

The fixture was made by ``tools/convert_musicnn.py``: the original graph, imported from the
wheel's ``.meta`` and restored, fed with librosa's float32 log-mel of our decoded samples.
Here the same samples go through our torch front-end and network.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from audio import LogMel, load_audio
from genre.musicnn import (
    MSD_TAGS,
    MUSICNN_FRONTEND,
    PATCH_FRAMES,
    Musicnn,
    load_musicnn,
    tf_to_torch,
)
from genre.musicnn_fast import FastFrontend
from genre.paths import ASSETS_DIR

FIXTURE = Path(__file__).parent / "fixtures" / "musicnn"
WEIGHTS = ASSETS_DIR / "musicnn-msd" / "weights.safetensors"


@pytest.fixture(scope="module")
def reference() -> tuple[dict, dict[str, np.ndarray]]:
    meta = json.loads((FIXTURE / "msd_reference.json").read_text(encoding="utf-8"))
    return meta, dict(np.load(FIXTURE / "msd_reference.npz"))


@pytest.fixture(scope="module")
def ported() -> Musicnn:
    return load_musicnn(WEIGHTS)


def patches_of(path: Path) -> torch.Tensor:
    samples = load_audio(path, sample_rate=16000).samples
    with torch.inference_mode():
        mel = LogMel(MUSICNN_FRONTEND)(torch.from_numpy(samples))
    starts = range(0, mel.shape[1] - PATCH_FRAMES + 1, PATCH_FRAMES)  # as musicnn batches
    return torch.stack([mel[:, s : s + PATCH_FRAMES] for s in starts])


def assert_matches_tensorflow(model: Musicnn, gtzan_dir: Path, reference) -> None:
    meta, ref = reference
    assert len(meta["clips"]) == 5
    for clip, info in meta["clips"].items():
        path = gtzan_dir / info["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == info["sha256"], clip
        with torch.inference_mode():
            out = model(patches_of(path))
        taggram = ref[f"{clip}/taggram"]
        assert out["tags"].shape == taggram.shape == (10, 50)
        np.testing.assert_allclose(out["tags"].numpy(), taggram, atol=1e-4, rtol=0, err_msg=clip)
        np.testing.assert_allclose(
            out["penultimate"].numpy(), ref[f"{clip}/penultimate"], atol=1e-4, rtol=0, err_msg=clip
        )
        if f"{clip}/mean_pool" in ref:
            np.testing.assert_allclose(
                out["mean_pool"].numpy(), ref[f"{clip}/mean_pool"], atol=1e-4, rtol=0
            )
            # Max-pooled activations reach ~100, where float32 spacing alone is ~1e-5: relative.
            np.testing.assert_allclose(
                out["max_pool"].numpy(), ref[f"{clip}/max_pool"], atol=1e-4, rtol=1e-5
            )


def test_port_matches_tensorflow_on_five_real_clips(gtzan_dir, reference, ported) -> None:
    assert ported.fast_precision is None  # the reference path
    assert_matches_tensorflow(ported, gtzan_dir, reference)


def test_fast_path_computed_in_float32_matches_tensorflow_too(gtzan_dir, reference) -> None:
    """The serving path's restructuring (running max, skipped channels, banded GEMM) is exact:
    in float32 it meets the same 1e-4 bound, so bfloat16 rounding is its only approximation."""
    fast = load_musicnn(WEIGHTS).use_fast_frontend("float32")
    assert_matches_tensorflow(fast, gtzan_dir, reference)
    # The switched-off channels it skips, as the module documents them.
    alive = FastFrontend(fast.timbral, fast.temporal, "float32").alive
    assert [int((~a).sum()) for a in alive] == [17, 7, 22, 29, 24]


@pytest.mark.parametrize(
    ("precision", "max_gap", "mean_gap"), [("bfloat16", 0.02, 5e-4), ("int8", 0.03, 1e-3)]
)
def test_fast_path_in_low_precision_stays_close_to_tensorflow(
    gtzan_dir, reference, precision, max_gap, mean_gap
) -> None:
    meta, ref = reference
    fast = load_musicnn(WEIGHTS).use_fast_frontend(precision)
    for clip in meta["clips"]:
        with torch.inference_mode():
            out = fast(patches_of(gtzan_dir / meta["clips"][clip]["file"]))
        gap = np.abs(out["tags"].numpy() - ref[f"{clip}/taggram"])
        assert gap.max() < max_gap and gap.mean() < mean_gap, (clip, gap.max(), gap.mean())
        top = np.argsort(-ref[f"{clip}/taggram"].mean(axis=0))[:3]
        assert list(np.argsort(-out["tags"].numpy().mean(axis=0))[:3]) == list(top), clip


def test_fast_path_follows_new_weights() -> None:
    """Loading other weights drops the fast path's derived copy of the old ones."""
    model = Musicnn().eval().use_fast_frontend("float32")
    mel = torch.rand(2, 96, PATCH_FRAMES) * 3
    with torch.inference_mode():
        before = model(mel)["penultimate"]
        other = Musicnn()
        for parameter in other.parameters():
            torch.nn.init.normal_(parameter, std=0.1)
        model.load_state_dict(other.state_dict())
        after = model(mel)["penultimate"]
        expected = other.eval()(mel)["penultimate"]
    assert not torch.allclose(before, after)
    torch.testing.assert_close(after, expected, atol=1e-4, rtol=1e-4)


def test_reference_tags_are_musically_sensible(reference) -> None:
    """Guards the fixture itself: the float16 pitfall gives every clip the same garbage tags."""
    _, ref = reference

    def top(clip: str, n: int) -> list[str]:
        mean = ref[f"{clip}/taggram"].mean(axis=0)
        return [MSD_TAGS[i] for i in np.argsort(-mean)[:n]]

    assert top("blues.00000", 1) == ["blues"]
    assert top("hiphop.00002", 1) == ["Hip-Hop"]
    assert {"metal", "heavy metal"} <= set(top("metal.00003", 5))
    firsts = {top(clip, 1)[0] for clip in ("blues.00000", "classical.00001", "hiphop.00002")}
    assert len(firsts) == 3


def test_conversion_maps_tf_layouts_onto_torch() -> None:
    """Synthetic TF-named variables go exactly where the shapes say (no silent transposes)."""
    rng = np.random.default_rng(0)
    model = Musicnn()
    shapes = {
        "conv2d/kernel": (7, 38, 1, 204), "conv2d_1/kernel": (7, 67, 1, 204),
        "conv2d_2/kernel": (128, 1, 1, 51), "conv2d_3/kernel": (64, 1, 1, 51),
        "conv2d_4/kernel": (32, 1, 1, 51), "conv2d_5/kernel": (7, 561, 1, 64),
        "conv2d_6/kernel": (7, 64, 1, 64), "conv2d_7/kernel": (7, 64, 1, 64),
        "dense/kernel": (1506, 200), "dense_1/kernel": (200, 50),
    }  # fmt: skip
    variables = {
        name: rng.standard_normal(shape).astype(np.float32) for name, shape in shapes.items()
    }
    for name, shape in shapes.items():
        variables[name.replace("kernel", "bias")] = rng.standard_normal(shape[-1]).astype(
            np.float32
        )
    widths = [1, 204, 204, 51, 51, 51, 64, 64, 64, 1506, 200]
    for i, width in enumerate(widths):
        scope = "batch_normalization" + (f"_{i}" if i else "")
        for leaf in ("gamma", "beta", "moving_mean", "moving_variance"):
            variables[f"{scope}/{leaf}"] = rng.random(width).astype(np.float32) + 0.5
    state = tf_to_torch(variables)
    model.load_state_dict(state, strict=True)
    # One exact spot check per kind of layer.
    assert torch.equal(
        model.timbral[0].conv.weight[5, 0, 2, 7],
        torch.tensor(variables["conv2d/kernel"][2, 7, 0, 5]),
    )
    assert torch.equal(
        model.midend[0].conv.weight[3, 100, 6],
        torch.tensor(variables["conv2d_5/kernel"][6, 100, 0, 3]),
    )
    assert torch.equal(
        model.dense.weight[7, 1000], torch.tensor(variables["dense/kernel"][1000, 7])
    )
