"""Why this genre? The explanation of the shipped model, its CLI, on real and synthetic audio."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from audio import load_audio, resample
from genre.classifier import Classifier
from genre.errors import GenreError
from genre.explain import BANDS, CAUTION, Explanation, explain
from genre.paths import default_bundle_dir
from tests.conftest import REPO_ROOT
from tests.test_page_classify import as_wav, open_page, served, served_files  # noqa: F401

RATE = 16000  # the shipped model's sample rate
HALF_S = 12.0


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier(default_bundle_dir())


def drum_loop(seconds: float) -> np.ndarray:
    """Kick on the beat, a noise hi-hat between, at 120 bpm."""
    out = np.zeros(int(seconds * RATE), dtype=np.float32)
    t = np.arange(int(0.15 * RATE)) / RATE
    kick = np.sin(2 * np.pi * (60 + 80 * np.exp(-30 * t)) * t) * np.exp(-20 * t)
    hat_t = np.arange(int(0.05 * RATE)) / RATE
    hat = 0.3 * np.random.default_rng(1).standard_normal(len(hat_t)) * np.exp(-80 * hat_t)
    beat = RATE // 2
    for start in range(0, len(out) - len(kick), beat):
        out[start : start + len(kick)] += 0.8 * kick
        out[start + beat // 2 : start + beat // 2 + len(hat)] += hat
    return out


def steady_tone(seconds: float) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * RATE)) / RATE)).astype(
        np.float32
    )


def real_music(gtzan_dir: Path, seconds: float) -> np.ndarray:
    audio = load_audio(gtzan_dir / "audio/metal/metal.00002.ogg", sample_rate=RATE)
    return resample(audio.samples, audio.sample_rate, RATE)[: int(seconds * RATE)]


def first_half_share(explanation: Explanation) -> float:
    middle = explanation.saliency.shape[1] // 2
    return float(explanation.saliency[:, :middle].sum() / explanation.saliency.sum())


@pytest.mark.parametrize("drums_first", [True, False])
def test_a_drum_loop_beside_silence_is_where_the_model_looked(
    classifier: Classifier, drums_first: bool
) -> None:
    halves = [drum_loop(HALF_S), np.zeros(int(HALF_S * RATE), dtype=np.float32)]
    explanation = explain(classifier, np.concatenate(halves if drums_first else halves[::-1]))
    share = first_half_share(explanation)
    assert share > 0.95 if drums_first else share < 0.05
    windows = len(explanation.window_evidence)
    drum_windows = slice(0, windows // 2) if drums_first else slice(windows // 2, windows)
    assert explanation.window_evidence[drum_windows].sum() > 0.95


@pytest.mark.parametrize("music_first", [True, False])
def test_music_beside_a_steady_tone_is_where_the_model_looked(
    classifier: Classifier, gtzan_dir: Path, music_first: bool
) -> None:
    halves = [real_music(gtzan_dir, HALF_S), steady_tone(HALF_S)]
    samples = np.concatenate(halves if music_first else halves[::-1])
    explanation = explain(classifier, samples, genre="metal")
    assert explanation.genre == "metal"
    share = first_half_share(explanation)
    assert share > 0.75 if music_first else share < 0.25
    music = (0, HALF_S) if music_first else (HALF_S, 2 * HALF_S)
    strongest = explanation.window_span_s(explanation.strongest_window)
    assert music[0] <= strongest[0] < music[1]  # the most metal-like 3 s are music, not tone


def test_shapes_finiteness_and_json(classifier: Classifier, gtzan_dir: Path) -> None:
    samples = real_music(gtzan_dir, 30.0)
    explanation = explain(classifier, samples)
    mel = explanation.mel_db
    assert explanation.saliency.shape == mel.shape == (96, mel.shape[1])
    assert mel.shape[1] == pytest.approx(30.0 / explanation.mel_hop_s, abs=2)
    assert np.isfinite(explanation.saliency).all() and np.isfinite(mel).all()
    assert explanation.saliency.min() >= 0 and explanation.saliency.max() == 1
    windows = len(explanation.window_starts_s)
    assert windows == 10
    assert explanation.window_genre_probs.shape == explanation.window_evidence.shape == (windows,)
    assert np.all((explanation.window_genre_probs >= 0) & (explanation.window_genre_probs <= 1))
    assert explanation.window_evidence.sum() == pytest.approx(1.0)
    assert explanation.genre == classifier.predict_samples(samples).genre  # what the page names
    record = explanation.to_json()
    assert record["caution"] == CAUTION
    assert record["summary"].startswith(f"For {explanation.genre}, the model listened most to")
    assert {r["band"] for r in record["regions"]} <= {words for _, words in BANDS}
    assert len(record["windows"]) == windows
    strongest, weakest = record["strongest_window"], record["weakest_window"]
    probs = [w["genre_probability"] for w in record["windows"]]
    assert probs[strongest] == max(probs) and probs[weakest] == min(probs)
    snippet, rate = sf.read(io.BytesIO(explanation.window_wav(strongest)))
    assert rate == RATE and len(snippet) == pytest.approx(explanation.window_s * RATE, abs=2)
    image = Image.open(io.BytesIO(explanation.overlay_png()))
    assert image.size == (1000, 320)


def test_unknown_genre_is_a_clear_error(classifier: Classifier) -> None:
    with pytest.raises(GenreError, match="'polka' is not one of this model's genres"):
        explain(classifier, steady_tone(3.0), genre="polka")


def run_explain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genre", "explain", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


CONTRACT_KEYS = {
    "file", "genre", "summary", "caution", "window_s", "strongest_window", "weakest_window",
    "regions", "windows", "overlay_png", "json",
}  # fmt: skip


def test_cli_writes_a_png_and_the_documented_json(gtzan_dir: Path, tmp_path: Path) -> None:
    clip = gtzan_dir / "audio/jazz/jazz.00001.ogg"
    out = tmp_path / "why"  # created by the command
    done = run_explain(str(clip), "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert set(printed) == CONTRACT_KEYS
    written = json.loads((out / "jazz.00001.why.json").read_text(encoding="utf-8"))
    assert written == printed
    assert printed["overlay_png"] == str(out / "jazz.00001.why.png")
    with Image.open(printed["overlay_png"]) as image:
        image.load()
        assert image.format == "PNG" and image.size == (1000, 320)
    assert len(printed["windows"]) == 10
    assert {"start_s", "genre_probability", "evidence_share"} == set(printed["windows"][0])
    assert sum(w["evidence_share"] for w in printed["windows"]) == pytest.approx(1, abs=1e-4)

    plain = run_explain(str(clip), "--out", str(out), "--genre", "blues")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.splitlines()[0].startswith("For blues, the model")


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (lambda d: [str(d / "missing.ogg"), "--out", str(d)], "File not found"),
        (lambda d: [str(REPO_ROOT / "README.md"), "--out", str(d)], "not a recognised audio"),
        (
            lambda d: [str(REPO_ROOT / "README.md"), "--out", str(REPO_ROOT / "README.md")],
            "is a file; give a folder",
        ),
    ],
)
def test_cli_bad_input_is_one_line_without_traceback(
    tmp_path: Path, make_args, message: str
) -> None:
    done = run_explain(*make_args(tmp_path))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]
    assert done.stdout == ""


def test_classify_page_explains_an_uploaded_clip_on_demand(
    gtzan_dir: Path,
    served_files: dict[str, bytes],  # noqa: F811 (the fixture imported above)
) -> None:
    at = open_page()
    wav = as_wav(gtzan_dir / "audio/metal/metal.00002.ogg")
    at.file_uploader(key="uploads").set_value(("metal.wav", wav, "audio/wav"))
    at.run()
    assert not at.exception
    assert not at.get("image")  # nothing is computed until asked for
    assert len(at.get("audio")) == 1
    why = at.toggle(key="why-upload-0")
    assert why.label.startswith("Why metal?")
    why.set_value(True)
    at.run()
    assert not at.exception and not at.error
    # The only warning is the Live tab's (AppTest has no WebRTC), none from the explanation.
    assert [w.value for w in at.warning if "Live listening" not in w.value] == []
    images = at.get("image")
    assert len(images) == 1
    assert "Orange marks the sound" in images[0].proto.imgs[0].caption
    with Image.open(io.BytesIO(served(served_files, images[0].proto.imgs[0].url))) as overlay:
        assert overlay.format == "PNG" and overlay.size == (1000, 320)
    shown = "\n".join(m.value for m in at.markdown)
    assert "For metal, the model listened most to" in shown
    assert CAUTION in [c.value for c in at.caption]
    assert "**Most like metal**" in shown and "**Least like metal**" in shown
    players = at.get("audio")
    assert len(players) == 3  # the upload, the most and the least metal-like 3 s
    for player in players[1:]:
        snippet, rate = sf.read(io.BytesIO(served(served_files, player.proto.url)))
        assert rate == RATE and len(snippet) == pytest.approx(2.992 * RATE, abs=2)
    at.run()  # a rerun shows the remembered explanation
    assert len(at.session_state["classify_explanations"]) == 1
    assert len(at.get("image")) == 1
