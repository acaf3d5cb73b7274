"""How a track becomes windows and how window probabilities become a track's probability.

One home for the three rules that serving (``genre.classifier``) and every trainer share, so
reported accuracy is measured the way the app classifies:

* :func:`window_starts`: the grid of window start frames over a track;
* :func:`loop_to_length`: a clip shorter than one window is looped (not zero-padded) to fill it;
* :func:`mean_probability` / :func:`track_probabilities`: a track's probability is the mean of
  its windows' probabilities (softmax outputs).

Works on NumPy arrays and, for looping, on torch tensors too, without importing torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch

Frames = TypeVar("Frames", np.ndarray, "torch.Tensor")


def window_starts(n_frames: int, window: int, hop: int) -> list[int]:
    """Start frames of windows covering ``n_frames``, ``hop`` apart from 0.

    A track no longer than one window gets the single start 0 (it is looped to fill it, see
    :func:`loop_to_length`). When the regular grid leaves more than half a hop uncovered at
    the end, one more window is added that ends exactly at the track's end; a shorter tail is
    left out rather than analysed twice.
    """
    if n_frames <= window:
        return [0]
    starts = list(range(0, n_frames - window + 1, hop))
    if n_frames - window - starts[-1] > hop // 2:
        starts.append(n_frames - window)
    return starts


def loop_to_length(frames: Frames, length: int, axis: int = -1) -> Frames:
    """``frames`` repeated end to end along ``axis`` and cut to ``length`` when shorter;
    returned as it is when already ``length`` or longer.

    Looping rather than zero padding: a 1-s clip in a 3-s window then looks like music
    throughout, which is what the shipped bundles were trained and scored on.
    """
    n = frames.shape[axis]
    if n >= length:
        return frames
    if n == 0:
        raise ValueError("Cannot loop an empty clip to fill a window.")
    # Index by position modulo n: the same values as tiling ceil(length / n) times and
    # cutting, for NumPy arrays and torch tensors alike.
    key: list[slice | np.ndarray] = [slice(None)] * frames.ndim
    key[axis] = np.arange(length) % n
    return frames[tuple(key)]


def mean_probability(window_probs: np.ndarray) -> np.ndarray:
    """One track's probabilities [classes]: the mean of its windows' [windows, classes]."""
    return np.asarray(window_probs).mean(axis=0)


def track_probabilities(
    window_probs: np.ndarray, owner: np.ndarray, tracks: np.ndarray | list[int]
) -> np.ndarray:
    """Per-track probabilities [len(tracks), classes], in the order of ``tracks``.

    ``window_probs`` [windows, classes] holds every window's probabilities and ``owner``
    [windows] the track each window belongs to. A track is the :func:`mean_probability` of
    its windows (taken in their given order); a track without windows gets a row of zeros.
    """
    probs = np.asarray(window_probs)
    owner = np.asarray(owner)
    wanted = np.asarray(tracks)
    dtype = probs.dtype if np.issubdtype(probs.dtype, np.floating) else np.float64
    out = np.zeros((len(wanted), *probs.shape[1:]), dtype=dtype)
    # Group the windows by track once (stable: each track's windows keep their order), so a
    # call costs a sort rather than one scan of every window per track.
    order = np.argsort(owner, kind="stable")
    grouped, keys = probs[order], owner[order]
    first = np.searchsorted(keys, wanted, side="left")
    last = np.searchsorted(keys, wanted, side="right")
    for row, (begin, end) in enumerate(zip(first, last, strict=True)):
        if end > begin:
            out[row] = mean_probability(grouped[begin:end])
    return out
