"""Verdicts: what the evidence allows us to say, and thresholds measured on held-out tracks."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from genre.bundle import load_bundle
from genre.classifier import Classifier
from genre.labels import GTZAN_GENRES
from genre.paths import REPO_ROOT, default_bundle_dir
from genre.verdict import (
    MIN_HELD_OUT_TRACKS,
    NOT_MUSIC_HEADING,
    TARGET_ACCURACY,
    VerdictThresholds,
    decide,
    thresholds_from_held_out,
)

LABELS = GTZAN_GENRES
T = VerdictThresholds(clear=0.6, close_pair=0.8, mix_share=0.3)
SHORT = 0.25  # minutes of a clip analysed where the test needs a real prediction, not all 30 s


def probs_of(**named: float) -> np.ndarray:
    """A probability vector over the ten genres: the named ones, the rest shared evenly."""
    out = np.zeros(len(LABELS))
    for genre, p in named.items():
        out[LABELS.index(genre)] = p
    rest = [i for i, g in enumerate(LABELS) if g not in named]
    out[rest] = (1 - sum(named.values())) / len(rest)
    return out


def windows_of(*genres: str) -> np.ndarray:
    """Window probabilities where each window is clearly one genre."""
    return np.stack([probs_of(**{g: 0.9}) for g in genres])


def test_clear_close_unsure_headings_and_details() -> None:
    clear = decide(probs_of(jazz=0.9), LABELS, thresholds=T)
    assert (clear.kind, clear.heading, clear.genres) == ("clear", "Jazz", ("jazz",))
    assert clear.detail == "jazz 90%"
    close = decide(probs_of(jazz=0.48, blues=0.41), LABELS, thresholds=T)
    assert (close.kind, close.heading) == ("close", "Jazz or blues")
    assert close.genres == ("jazz", "blues")
    assert close.detail == "jazz 48%, blues 41%"
    flat = decide(probs_of(jazz=0.3, blues=0.25, rock=0.2), LABELS, thresholds=T)
    assert flat.kind == "unsure"
    assert flat.heading == "Hard to say — closest: jazz, blues, rock"
    assert flat.detail == "jazz 30%, blues 25%, rock 20%"
    hiphop = decide(probs_of(hiphop=0.7), LABELS, thresholds=T)
    assert hiphop.heading == "Hip-hop" and hiphop.genres == ("hiphop",)


def test_thresholds_move_the_boundaries() -> None:
    p = probs_of(jazz=0.55, blues=0.3)
    assert decide(p, LABELS, thresholds=T).kind == "close"
    assert decide(p, LABELS, thresholds=VerdictThresholds(0.5, 0.8, 0.3)).kind == "clear"
    assert decide(p, LABELS, thresholds=VerdictThresholds(0.6, 0.9, 0.3)).kind == "unsure"


def test_mix_needs_two_genres_leading_in_enough_windows() -> None:
    windows = windows_of(*["reggae"] * 6, *["pop"] * 4)
    mix = decide(windows.mean(0), LABELS, window_probs=windows, thresholds=T)
    assert (mix.kind, mix.heading) == ("mix", "A mix of reggae and pop")
    assert mix.genres == ("reggae", "pop")
    assert "reggae leads in 60%" in mix.detail and "pop in 40%" in mix.detail
    # one stray window is not a mix; neither are too few windows
    mostly = windows_of(*["reggae"] * 9, "pop")
    assert decide(mostly.mean(0), LABELS, window_probs=mostly, thresholds=T).kind == "clear"
    short = windows_of("reggae", "pop", "reggae")
    assert decide(short.mean(0), LABELS, window_probs=short, thresholds=T).kind != "mix"


@pytest.mark.parametrize("sounds_like", ["speech", "noise", "a steady tone", "silence", None])
def test_not_music_names_no_genre(sounds_like: str | None) -> None:
    verdict = decide(
        probs_of(hiphop=0.99), LABELS, thresholds=T, is_music=False, sounds_like=sounds_like
    )
    assert (verdict.kind, verdict.heading, verdict.genres) == ("not_music", NOT_MUSIC_HEADING, ())
    if sounds_like:
        assert verdict.detail == f"It sounds like {sounds_like}."
    else:
        assert "hard to tell" in verdict.detail


def held_out_set(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tracks whose chance of being right grows with their confidence (as a calibrated
    model's would): confidence c is right with probability c."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, len(LABELS), n)
    probs = np.zeros((n, len(LABELS)))
    for i, c in enumerate(rng.uniform(0.2, 1.0, n)):
        guess = truth[i] if rng.random() < c else (truth[i] + 1) % len(LABELS)
        probs[i] = (1 - c) / (len(LABELS) - 1)
        probs[i, guess] = c
    return probs, truth


def test_thresholds_from_held_out_meet_the_target() -> None:
    probs, truth = held_out_set(400)
    evidence = thresholds_from_held_out(probs, truth)
    t = evidence.thresholds
    assert evidence.fitted and evidence.n_tracks == 400
    top = probs.max(1)
    right = probs.argmax(1) == truth
    assert right[top >= t.clear].mean() >= TARGET_ACCURACY
    assert evidence.accuracy_at_clear == pytest.approx(right[top >= t.clear].mean())
    # the first confidences below the threshold are not yet right often enough
    below = (top < t.clear) & (top >= t.clear - 0.15)
    assert right[below].mean() < TARGET_ACCURACY
    assert t.clear <= t.close_pair <= 0.98
    assert evidence.share_clear + evidence.share_close + evidence.share_unsure == pytest.approx(1)


def test_mix_share_keeps_single_genre_tracks_single() -> None:
    probs, truth = held_out_set(60)
    # every held-out track: 10 windows, 3 of them won by another genre
    windows = [np.stack([p] * 7 + [np.roll(p, 1)] * 3) for p in probs]
    evidence = thresholds_from_held_out(probs, truth, windows)
    assert evidence.thresholds.mix_share > 0.3
    assert evidence.false_mix_rate is not None and evidence.false_mix_rate <= 0.05


def test_too_few_held_out_tracks_keep_the_defaults() -> None:
    probs, truth = held_out_set(MIN_HELD_OUT_TRACKS - 1)
    evidence = thresholds_from_held_out(probs, truth)
    assert not evidence.fitted and evidence.thresholds == VerdictThresholds()
    assert "too few" in evidence.note and "defaults" in evidence.describe()


def test_thresholds_from_bundle_metadata() -> None:
    assert VerdictThresholds.from_meta(None) == VerdictThresholds()
    assert VerdictThresholds.from_meta({"clear": 0.7}).clear == 0.7
    garbled = VerdictThresholds.from_meta({"clear": "high", "close_pair": 7, "mix_share": -1})
    assert garbled == VerdictThresholds()


def test_prediction_verdict_uses_the_bundle_thresholds(gtzan_clip: Path) -> None:
    bundle = load_bundle(default_bundle_dir())
    classifier = Classifier(bundle)
    assert classifier.thresholds == VerdictThresholds.from_meta(bundle.extra.get("verdict"))
    prediction = classifier.predict(gtzan_clip, max_minutes=SHORT)
    assert len(prediction.window_probs) >= 4  # enough windows for the mix rule to count
    assert prediction.thresholds == classifier.thresholds
    expected = decide(
        prediction.probs, prediction.labels, window_probs=prediction.window_probs,
        thresholds=classifier.thresholds,
    )  # fmt: skip
    assert prediction.verdict == expected
    assert prediction.to_json()["verdict"] == {"kind": expected.kind, "heading": expected.heading}


def test_a_bundle_without_verdict_block_gets_the_defaults(tmp_path: Path, gtzan_clip: Path):
    copy = tmp_path / "bundle"
    shutil.copytree(default_bundle_dir(), copy)
    meta = json.loads((copy / "bundle.json").read_text(encoding="utf-8"))
    meta.pop("verdict", None)
    (copy / "bundle.json").write_text(json.dumps(meta), encoding="utf-8")
    prediction = Classifier(copy).predict(gtzan_clip, max_minutes=0.05)
    assert prediction.thresholds == VerdictThresholds()


def test_cli_json_carries_the_verdict(gtzan_dir: Path) -> None:
    clips = [gtzan_dir / "audio" / g / f"{g}.00001.ogg" for g in ("jazz", "metal")]
    done = subprocess.run(
        [sys.executable, "-m", "genre", "classify", "--json", "--max-minutes", str(SHORT),
         *map(str, clips)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    classifier = Classifier(default_bundle_dir())
    for clip, line in zip(clips, lines, strict=True):
        verdict = classifier.predict(clip, max_minutes=SHORT).verdict
        assert line["verdict"] == {"kind": verdict.kind, "heading": verdict.heading}


def clips_folder(root: Path, gtzan_dir: Path, genres: tuple[str, ...], per_genre: int) -> Path:
    for genre in genres:
        (root / genre).mkdir(parents=True)
        for i in range(per_genre):
            name = f"{genre}.{i:05d}.ogg"
            (root / genre / name).symlink_to(gtzan_dir / "audio" / genre / name)
    return root


def train_run(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", "genre", "train", *args, "--json"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_run_bundle_gets_thresholds_from_its_own_held_out_tracks(
    tmp_path: Path, gtzan_dir: Path
) -> None:
    data = clips_folder(tmp_path / "clips", gtzan_dir, ("classical", "metal", "pop"), 8)
    result = train_run("--model", "linear_mel", "--dataset", str(data), "--split", "kfold",
                       "--folds", "2", "--epochs", "1")  # fmt: skip
    bundle = load_bundle(result["bundle"])
    evidence = bundle.metrics["verdict_evidence"]["value"]
    assert evidence["fitted"] and evidence["n_tracks"] == 24  # every clip held out once
    assert evidence["thresholds"] == bundle.extra["verdict"]
    thresholds = VerdictThresholds.from_meta(bundle.extra["verdict"])
    assert 0.5 <= thresholds.clear <= thresholds.close_pair <= 0.98
    assert Classifier(bundle).thresholds == thresholds
    assert "Verdict thresholds from 24 held-out tracks" in bundle.model_card


def test_a_musicnn_run_with_few_held_out_tracks_keeps_the_defaults_and_says_so() -> None:
    import torch

    from genre.training.head_loop import held_out_thresholds

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 4)  # 12 tracks, every one held out once, 5 windows each
    tracks = [np.repeat(np.arange(6), 5), np.repeat(np.arange(6, 12), 5)]
    logits = [torch.from_numpy(rng.normal(0, 2, (30, 3))) for _ in tracks]
    evidence = held_out_thresholds(logits, tracks, y, temperature=0.5)
    assert not evidence.fitted and evidence.n_tracks == 12
    assert evidence.thresholds == VerdictThresholds() and "too few" in evidence.note
    many = [np.repeat(np.arange(30), 2)]  # 30 tracks: enough to measure
    y30 = np.arange(30) % 3
    fitted = held_out_thresholds([torch.from_numpy(rng.normal(0, 2, (60, 3)))], many, y30, 1.0)
    assert fitted.fitted and fitted.n_tracks == 30
