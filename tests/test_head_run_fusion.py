"""A user's musicnn head run chooses its own tag fusion on its held-out folds, records why, and
the bundle it saves serves what it recorded (real clips, real subprocess, real SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import soundfile as sf

from audio import load_audio
from genre.classifier import Classifier
from genre.fusion_choice import HeldOut, choose_fusion
from genre.training.head_fusion import HELD_OUT_FILE
from runs.store import RunRegistry
from tests.test_training_jobs import cli

GENRES = ("blues", "country", "jazz", "metal", "rock")  # genres the MSD tags name


def short_clips(root: Path, gtzan_dir: Path, seconds: float = 10.0) -> Path:
    """The first 10 s of five real clips per genre (25 tracks: 5 held out per fold of 5)."""
    for genre in GENRES:
        (root / genre).mkdir(parents=True)
        for clip in sorted((gtzan_dir / "audio" / genre).glob("*.ogg"))[:5]:
            audio = load_audio(clip)
            head = audio.samples[: int(seconds * audio.sample_rate)]
            sf.write(root / genre / f"{clip.stem}.wav", head, audio.sample_rate)
    return root


def test_a_head_run_chooses_tag_fusion_on_its_folds_and_serves_it(
    tmp_path: Path, gtzan_dir: Path
) -> None:
    data = short_clips(tmp_path / "clips", gtzan_dir)
    done = cli("train", "--model", "musicnn_genre", "--dataset", str(data), "--split", "kfold",
               "--folds", "5", "--json", timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    run = RunRegistry().get(result["run_id"])
    bundle = Path(result["bundle"])
    meta = json.loads((bundle / "bundle.json").read_text(encoding="utf-8"))
    chosen = meta["metrics"]["tag_fusion"]["value"]
    assert set(chosen) >= {"fusion", "head_cv_accuracy", "fused_cv_accuracy"}
    head_accuracy = run.metrics["test_accuracy"]  # the folds' own figure: the head alone
    assert abs(chosen["head_cv_accuracy"] - head_accuracy) < 0.05  # fold means vs pooled
    card = (bundle / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "Tag fusion" in card
    classifier = Classifier(bundle)
    if chosen["fusion"]["weight"] > 0:  # served fused, with the chosen settings
        assert meta["fusion"] == chosen["fusion"]
        assert classifier.fusion is not None
        assert classifier.fusion.weight == chosen["fusion"]["weight"]
        assert "Tag fusion: the head is combined" in card
    else:  # the tags did not help these folds: the head alone is served
        assert "fusion" not in meta and classifier.fusion is None
        assert "Tag fusion: off" in card
    log = (RunRegistry().folder(run.id) / "log.txt").read_text(encoding="utf-8")
    assert "Tag fusion" in log
    # the held-out windows are kept: shipping chooses the same fusion from them, no second CV
    held = HeldOut.load(RunRegistry().folder(run.id) / HELD_OUT_FILE)
    assert len(held.truth) == 25 and len(set(held.fold_of.tolist())) == 5
    assert len(held.log_probs) == len(held.tags) == len(held.track)
    assert choose_fusion(held, GENRES).fusion.to_json() == chosen["fusion"]
