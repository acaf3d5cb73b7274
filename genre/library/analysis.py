"""One audio file in, everything the library keeps about it out (no database here).

Kept apart from the store so that a worker process (the Ray engine) can analyse files with
nothing but a :class:`Classifier`, and send plain, picklable results back to the writer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from audio import DEFAULT_MAX_MINUTES, AudioError
from genre.classifier import Classifier, Prediction
from genre.logs import get_logger

HASH_CHUNK = 1 << 20
FILE_TAG_KEYS = ("title", "artist", "album", "language", "genre", "date")


@dataclass
class FileStat:
    path: str
    size: int
    mtime: float


@dataclass
class Analysis:
    """What the library stores for one file; ``error`` set means it could not be analysed."""

    stat: FileStat
    sha256: str | None = None
    error: str | None = None
    duration_s: float | None = None
    genre: str | None = None
    confidence: float | None = None
    probabilities: dict[str, float] = field(default_factory=dict)
    tags: dict[str, float] = field(default_factory=dict)
    embedding: np.ndarray | None = None
    is_music: bool | None = None
    music_score: float | None = None
    file_tags: dict[str, str] = field(default_factory=dict)


def stat_file(path: Path) -> FileStat:
    st = path.stat()
    return FileStat(str(path), st.st_size, st.st_mtime)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def bundle_id(classifier: Classifier) -> str:
    """Names the model that produced a row: a changed default bundle gets a new id."""
    return f"{classifier.bundle.name}@{classifier.bundle.created}"


def read_file_tags(path: Path) -> dict[str, str]:
    """Title, artist, album, language… from the file's own tags; {} when it has none."""
    try:
        import mutagen

        tagged = mutagen.File(path, easy=True)
    except Exception as err:  # a damaged tag block must not stop the analysis
        get_logger("genre.library").info("tags of %s unreadable: %s", path, err)
        return {}
    if tagged is None or not tagged.tags:
        return {}
    found: dict[str, str] = {}
    for key in FILE_TAG_KEYS:
        try:
            values = tagged.tags.get(key)
        except (KeyError, ValueError):
            continue
        if values:
            text = str(values[0] if isinstance(values, list) else values).strip()
            if text:
                found[key] = text
    return found


def track_embedding(classifier: Classifier, prediction: Prediction) -> np.ndarray | None:
    """The track's mean embedding (musicnn's penultimate layer over its windows).

    Taken from the prediction when the classifier provides it; otherwise the model is run once
    more on the prediction's log-mel. None for models without an embedding output.
    """
    given = getattr(prediction, "embedding", None)
    if given is not None:
        return np.asarray(given, dtype=np.float32)
    with torch.inference_mode():
        batch, _, _ = classifier.embed_windows(torch.from_numpy(prediction.mel))
        out = classifier.model(batch)
    if not isinstance(out, dict) or "embedding" not in out:
        return None
    return out["embedding"].float().mean(dim=0).numpy().astype(np.float32)


def analyse_file(
    classifier: Classifier, path: Path, *, max_minutes: float = DEFAULT_MAX_MINUTES
) -> Analysis:
    """Never raises for a bad file: the reason goes into ``Analysis.error``."""
    try:
        result = Analysis(stat=stat_file(path))
        result.sha256 = sha256_of(path)
    except OSError as err:
        return Analysis(FileStat(str(path), 0, 0.0), error=f"Cannot read the file: {err}")
    try:
        prediction = classifier.predict(path, max_minutes=max_minutes)
    except AudioError as err:
        result.error = str(err)
        return result
    except Exception as err:  # a bug: logged with its traceback; the run goes on
        get_logger("genre.library").exception("analysing %s failed", path)
        result.error = f"Unexpected error ({type(err).__name__}); details in the log."
        return result
    result.duration_s = float(prediction.source_duration_s)
    result.genre = prediction.genre
    result.confidence = prediction.confidence
    result.probabilities = prediction.probabilities
    result.tags = {k: float(v) for k, v in (prediction.tags or {}).items()}
    result.embedding = track_embedding(classifier, prediction)
    verdict = getattr(prediction, "is_music", None)
    result.is_music = None if verdict is None else bool(verdict)
    score = getattr(prediction, "music_score", None)
    result.music_score = None if score is None else float(score)
    result.file_tags = read_file_tags(path)
    return result


def to_record(analysis: Analysis) -> dict[str, Any]:
    """A plain dict (lists, not arrays) for sending between processes."""
    out = dict(analysis.__dict__)
    out["stat"] = dict(analysis.stat.__dict__)
    if analysis.embedding is not None:
        out["embedding"] = analysis.embedding.tolist()
    return out


def from_record(record: dict[str, Any]) -> Analysis:
    fields = dict(record)
    fields["stat"] = FileStat(**fields["stat"])
    if fields.get("embedding") is not None:
        fields["embedding"] = np.asarray(fields["embedding"], dtype=np.float32)
    return Analysis(**fields)
