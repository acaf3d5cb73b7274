"""The words and table cells the Classify page shows, from real predictions of the shipped model."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from genre.classifier import Classifier, Prediction
from genre.labels import GTZAN_GENRES
from genre.paths import default_bundle_dir
from genre.report import (
    batch_row,
    csv_table,
    display_name,
    display_table,
    error_for_table,
    headline,
    held_out_accuracy,
    model_label,
    music_windows,
)
from ui.charts import genre_timeline, not_music_spans


@pytest.fixture(scope="module")
def reggae(gtzan_dir: Path) -> Prediction:
    classifier = Classifier(default_bundle_dir())
    return classifier.predict(gtzan_dir / "audio" / "reggae" / "reggae.00002.ogg")


def test_error_cell_does_not_repeat_the_file_name() -> None:
    assert error_for_table("a.wav is empty (0 bytes).", "a.wav") == "The file is empty (0 bytes)."
    assert (
        error_for_table("The format of a.mp4 (MP4) is not supported.", "a.mp4")
        == "The format of the file (MP4) is not supported."
    )
    assert error_for_table("Something else.", "a.wav") == "Something else."


def test_model_label_reads_the_held_out_accuracy_from_the_metrics() -> None:
    cv = {"grouped_cv_accuracy_mean": {"value": 0.9214, "how": "held-out blocks"}}
    assert model_label(cv) == "About the model — 92% on clips it never heard"
    run = {"test_accuracy": {"value": 0.55, "how": "test split"}}
    assert model_label(run) == "About the model — 55% on clips it never heard"
    assert held_out_accuracy({"train_accuracy": {"value": 1.0}}) is None
    assert model_label({}) == "About the model"


def test_a_failed_file_has_empty_cells_and_its_reason() -> None:
    row = batch_row("broken.wav", None, "broken.wav is silent: there is no sound to analyse.")
    shown = display_table([row]).iloc[0]
    assert shown.to_dict() == {
        "file": "broken.wav",
        "genre": "",
        "confidence": "",
        "note": "The file is silent: there is no sound to analyse.",
    }
    saved = csv_table([row]).iloc[0]
    assert saved["confidence %"] is None and saved["seconds"] is None


def test_a_music_row_gives_genre_and_percentages(reggae: Prediction) -> None:
    row = batch_row("reggae.ogg", reggae, None)
    (top, p_top), (second, p_second) = reggae.ranked()[:2]
    shown = display_table([row]).iloc[0]
    assert row.genre != "not music"  # real music is never rejected
    assert shown["genre"] == display_name(top)
    assert shown["confidence"] == f"{p_top:.0%}"
    assert shown["note"] == f"runner-up: {display_name(second)} {p_second:.0%}"
    saved = csv_table([row]).iloc[0]
    assert saved["confidence %"] == round(100 * p_top, 1)
    assert saved["seconds"] == pytest.approx(reggae.duration_s, abs=0.05)
    assert top in GTZAN_GENRES


def test_not_music_stretches_are_greyed_in_the_timeline(reggae: Prediction) -> None:
    starts = np.array([0.0, 3.0, 6.0, 9.0, 12.0])
    music = np.array([False, False, True, False, True])
    assert not_music_spans(starts, music, 3.0) == [(0.0, 6.0), (9.0, 12.0)]
    probs = reggae.window_probs[:5]
    figure = genre_timeline(starts, probs, reggae.labels, 3.0, music=music)
    assert [(s.x0, s.x1) for s in figure.layout.shapes] == [(0.0, 6.0), (9.0, 12.0)]
    assert "not music" in [t.name for t in figure.data]
    plain = genre_timeline(starts, probs, reggae.labels, 3.0)
    assert not plain.layout.shapes and "not music" not in [t.name for t in plain.data]


def as_not_music(prediction: Prediction, scores: list[float], sounds_like: str) -> Prediction:
    """The same real prediction with the music detector's fields (genre.classifier's contract)
    saying it is not music."""
    other = copy.copy(prediction)
    other.window_music_scores = np.array(scores)
    other.music_score = float(np.mean(scores))
    other.is_music = False
    other.sounds_like = sounds_like
    return other


def test_not_music_gets_no_genre_and_the_guess_only_as_small_print(reggae: Prediction) -> None:
    n = len(reggae.window_probs)
    speech = as_not_music(reggae, [0.1] * n, "speech")
    line = headline(speech)
    assert (line.kind, line.heading) == ("not_music", "This doesn't sound like music")
    assert line.detail == "It sounds like speech."
    top, p_top = reggae.ranked()[0]
    assert line.small_print == (
        f"The genre model's guess, for what it is worth: {display_name(top)} ({p_top:.0%})."
    )
    row = display_table([batch_row("talk.wav", speech, None)]).iloc[0]
    assert (row["genre"], row["confidence"]) == ("not music", "")
    assert row["note"].startswith("It sounds like speech.")
    saved = csv_table([batch_row("talk.wav", speech, None)]).iloc[0]
    assert saved["genre"] == "not music" and saved["confidence %"] is None
    assert not music_windows(speech).any()  # the whole timeline greyed


def test_talk_first_then_music_greys_only_the_talk(reggae: Prediction) -> None:
    n = len(reggae.window_probs)
    scores = [0.05, 0.1] + [0.9] * (n - 2)
    talk_then_music = as_not_music(reggae, scores, "speech")
    talk_then_music.is_music = True
    assert list(music_windows(talk_then_music)) == [False, False] + [True] * (n - 2)
    assert headline(talk_then_music).kind != "not_music"
