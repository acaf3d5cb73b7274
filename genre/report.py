"""Plain-words summaries of predictions for people: the page's heading and its batch table.

Percentages are written as the rest of the app writes them ("87%"); failed files get empty
cells and their error without the file name repeated; not-music files say so in the genre
column. No Streamlit here, so the wording is testable on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from genre.classifier import Prediction
from genre.verdict import Verdict, decide, display_name, music_window_mask

NOT_MUSIC = "not music"
# Bundle metrics that measure accuracy on tracks the model never trained on, best evidence first.
HELD_OUT_ACCURACY_KEYS = ("grouped_cv_accuracy_mean", "test_accuracy")


def percent(fraction: float) -> str:
    return f"{fraction:.0%}"


@dataclass(frozen=True)
class Headline:
    """What the page shows first: the heading in large type and the sentence under it."""

    kind: str  # "clear" | "close" | "mix" | "unsure" | "not_music" (as genre.verdict's kinds)
    heading: str
    detail: str
    genres: tuple[str, ...]  # the genres the heading names, best first
    small_print: str = ""  # the genre model's guess when the track is not music


def music_windows(prediction: Prediction) -> np.ndarray | None:
    """One bool per window (is it music?), or None where the model does not tell."""
    n_windows = len(prediction.window_probs)
    mask = music_window_mask(prediction, n_windows)
    scores = getattr(prediction, "window_music_scores", ())
    if mask is None and not is_music(prediction) and len(scores) == n_windows:
        return np.zeros(n_windows, dtype=bool)  # all of it greyed
    return mask


def is_music(prediction: Prediction) -> bool:
    # Predictions of a classifier without the music detector count as music.
    return bool(getattr(prediction, "is_music", True))


def verdict_of(prediction: Prediction) -> Verdict:
    """The prediction's own verdict; one from its probabilities where it has none."""
    verdict = getattr(prediction, "verdict", None)
    if isinstance(verdict, Verdict):
        return verdict
    return decide(
        prediction.probs,
        prediction.labels,
        window_probs=prediction.window_probs,
        is_music=is_music(prediction),
        sounds_like=getattr(prediction, "sounds_like", None),
    )


def model_guess(prediction: Prediction) -> str:
    genre, probability = prediction.ranked()[0]
    return f"{display_name(genre)} ({percent(probability)})"


def headline(prediction: Prediction) -> Headline:
    """The verdict in words, with the genre model's guess as small print when not music."""
    verdict = verdict_of(prediction)
    small = ""
    if verdict.kind == "not_music":
        small = f"The genre model's guess, for what it is worth: {model_guess(prediction)}."
    detail = verdict.detail[:1].upper() + verdict.detail[1:]  # a sentence under the heading
    return Headline(verdict.kind, verdict.heading, detail, tuple(verdict.genres), small)


def text_line(name: str, prediction: Prediction) -> str:
    """One line of ``genre classify``'s text output: the page's verdict, then the figures."""
    if not is_music(prediction):
        like = f"sounds like {prediction.sounds_like}; " if prediction.sounds_like else ""
        return (
            f"{name}: not music ({like}music score {prediction.music_score:.2f}; "
            f"the genre model's guess would be {prediction.genre})"
        )
    (top, p_top), (runner_up, p_next) = prediction.ranked()[:2]
    verdict = verdict_of(prediction)
    figures = f"{p_top:.0%}; next {runner_up} {p_next:.0%}"
    if verdict.kind == "clear":
        return f"{name}: {top} ({figures})"
    return f"{name}: {verdict.heading} ({top} {figures})"


def held_out_accuracy(metrics: Mapping[str, Any]) -> float | None:
    """The bundle's accuracy on tracks it never trained on, when its metrics record one."""
    for key in HELD_OUT_ACCURACY_KEYS:
        entry = metrics.get(key)
        value = entry.get("value") if isinstance(entry, Mapping) else entry
        if isinstance(value, (int, float)) and 0 <= value <= 1:
            return float(value)
    return None


def model_label(metrics: Mapping[str, Any]) -> str:
    """The model expander's title, with the held-out accuracy where the bundle knows it."""
    accuracy = held_out_accuracy(metrics)
    if accuracy is None:
        return "About the model"
    return f"About the model — {percent(accuracy)} on clips it never heard"


def error_for_table(error: str, name: str) -> str:
    """The error as a table cell: the row already names the file, so the text need not."""
    if error.startswith(name):
        error = "The file" + error[len(name) :]
    return error.replace(name, "the file")


@dataclass(frozen=True)
class Row:
    """One file of a batch; every field empty where it does not apply."""

    file: str
    genre: str = ""
    confidence: float | None = None
    runner_up: str = ""
    runner_up_probability: float | None = None
    seconds: float | None = None
    note: str = ""


def batch_row(name: str, prediction: Prediction | None, error: str | None) -> Row:
    if prediction is None:
        return Row(file=name, note=error_for_table(error or "Not analysed.", name))
    seconds = round(prediction.duration_s, 1)
    line = headline(prediction)
    if line.kind == "not_music":
        note = " ".join(part for part in (line.detail, line.small_print) if part)
        return Row(file=name, genre=NOT_MUSIC, seconds=seconds, note=note)
    (top, p_top), (second, p_second) = prediction.ranked()[:2]
    return Row(
        file=name,
        genre=display_name(top),
        confidence=p_top,
        runner_up=display_name(second),
        runner_up_probability=p_second,
        seconds=seconds,
        note="" if line.kind == "clear" else line.heading,  # "Jazz or blues", "A mix of ..."
    )


def display_table(rows: Sequence[Row]) -> pd.DataFrame:
    """For the page: four text columns, genre and confidence next to the file (phone screens)."""

    def note(r: Row) -> str:
        if r.note or r.runner_up_probability is None:
            return r.note
        return f"runner-up: {r.runner_up} {percent(r.runner_up_probability)}"

    return pd.DataFrame(
        [
            {
                "file": r.file,
                "genre": r.genre,
                "confidence": "" if r.confidence is None else percent(r.confidence),
                "note": note(r),
            }
            for r in rows
        ],
        columns=["file", "genre", "confidence", "note"],
    )


def csv_table(rows: Sequence[Row]) -> pd.DataFrame:
    """For the download: numbers as numbers (percent, 1 decimal), empty where not applicable."""

    def pct(fraction: float | None) -> float | None:
        return None if fraction is None else round(100 * fraction, 1)

    return pd.DataFrame(
        [
            {
                "file": r.file,
                "genre": r.genre,
                "confidence %": pct(r.confidence),
                "runner-up": r.runner_up,
                "runner-up %": pct(r.runner_up_probability),
                "seconds": r.seconds,
                "note": r.note,
            }
            for r in rows
        ],
        columns=["file", "genre", "confidence %", "runner-up", "runner-up %", "seconds", "note"],
    )
