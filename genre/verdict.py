"""What the evidence allows us to say: "Jazz", "Jazz or blues", "A mix of reggae and pop",
"Hard to say — closest: …", or "This doesn't sound like music".

The thresholds come from held-out tracks (:func:`thresholds_from_held_out`): ``clear`` is the
confidence from which held-out tracks were right at least 80 % of the time, ``close_pair`` the
top-two sum from which the right genre was among the two named at least 80 % of the time. A
bundle stores them in ``bundle.json`` under ``"verdict"``; bundles without get the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

from audio.spectrogram import finite_number

TARGET_ACCURACY = 0.8  # "right at least 80 % of the time"
MIN_HELD_OUT_TRACKS = 20  # fewer held-out tracks measure noise: keep the defaults
MIN_MIX_WINDOWS = 4  # a mix needs at least this many (music) windows, ~12 s
FALSE_MIX_RATE = 0.05  # single-genre held-out tracks called a mix at most this often
MIX_SHARE_GRID = (0.25, 0.3, 0.35, 0.4, 0.45)
# Bounds on thresholds learned from few tracks: a clear winner holds at least half the
# probability; 0.95 keeps "clear" reachable.
CLEAR_BOUNDS = (0.5, 0.95)
CLOSE_PAIR_BOUNDS = (0.5, 0.98)
DISPLAY_NAMES = {"hiphop": "hip-hop"}
MUSIC_WINDOW_THRESHOLD = 0.5  # a window's music score from which it counts as music
# The music detector's not-music kinds in the words a visitor reads (one home for both).
SOUNDS_LIKE = {"speech": "speech", "noise": "noise", "tone": "a steady tone", "silence": "silence"}
NOT_MUSIC_HEADING = "This doesn't sound like music"

Kind = Literal["not_music", "clear", "close", "mix", "unsure"]


@dataclass(frozen=True)
class VerdictThresholds:
    clear: float = 0.6  # top probability at/above which held-out tracks are right >= 80 %
    close_pair: float = 0.8  # top-two sum at/above which "X or Y" is right >= 80 %
    mix_share: float = 0.3  # share of windows each of two genres must win for "a mix"

    def to_json(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}

    @classmethod
    def from_meta(cls, block: Any) -> VerdictThresholds:
        """From a bundle's ``"verdict"`` block; the defaults for what it lacks or garbles."""
        defaults = cls()
        if not isinstance(block, Mapping):
            return defaults
        values = {}
        for name, default in asdict(defaults).items():
            value = block.get(name, default)
            ok = finite_number(value) and 0 < value <= 1
            values[name] = float(value) if ok else default
        return cls(**values)


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    heading: str
    genres: tuple[str, ...]  # the genres the heading names, best first
    detail: str  # one plain sentence


def display_name(genre: str) -> str:
    return DISPLAY_NAMES.get(genre, genre)


def _pct(p: float) -> str:
    return f"{p:.0%}"


def _listing(pairs: Sequence[tuple[str, float]]) -> str:
    return ", ".join(f"{display_name(g)} {_pct(p)}" for g, p in pairs)


def music_window_mask(prediction: Any, n_windows: int) -> np.ndarray | None:
    """Which windows are music (bool per window), or None where the prediction cannot tell."""
    flags = getattr(prediction, "window_is_music", None)
    if flags is None:
        scores = getattr(prediction, "window_music_scores", None)
        if scores is None or len(scores) != n_windows:
            return None
        flags = np.asarray(scores, dtype=np.float64) >= MUSIC_WINDOW_THRESHOLD
    flags = np.asarray(flags, dtype=bool)
    # no music window at all: the model's guess over all windows (shown only as small print)
    return flags if len(flags) == n_windows and flags.any() else None


def window_wins(window_probs: np.ndarray, n_labels: int) -> np.ndarray:
    """Share of windows each label wins. [labels]"""
    window_probs = np.asarray(window_probs)
    if window_probs.ndim != 2 or not len(window_probs):
        return np.zeros(n_labels)
    counts = np.bincount(window_probs.argmax(axis=1), minlength=n_labels)
    return counts / len(window_probs)


def _mix_pair(
    probs: np.ndarray, window_probs: np.ndarray | None, mix_share: float
) -> tuple[int, int] | None:
    """The two labels that each win at least ``mix_share`` of enough windows, if any."""
    if window_probs is None or len(window_probs) < MIN_MIX_WINDOWS:
        return None
    shares = window_wins(window_probs, len(probs))
    first, second = np.argsort(-shares, kind="stable")[:2]
    if shares[second] < mix_share:
        return None
    return (first, second) if probs[first] >= probs[second] else (second, first)


def decide(
    probs: np.ndarray,
    labels: Sequence[str],
    *,
    window_probs: np.ndarray | None = None,
    thresholds: VerdictThresholds | None = None,
    is_music: bool = True,
    sounds_like: str | None = None,
) -> Verdict:
    """The verdict for track probabilities ``probs`` [labels]; ``window_probs`` [windows,
    labels] are the (music) windows' probabilities, used to recognise a mix."""
    t = thresholds or VerdictThresholds()
    probs = np.asarray(probs, dtype=np.float64)
    if not is_music:
        detail = (
            f"It sounds like {sounds_like}."
            if sounds_like in SOUNDS_LIKE.values()
            else "What it sounds like instead is hard to tell."
        )
        return Verdict("not_music", NOT_MUSIC_HEADING, (), detail)
    order = np.argsort(-probs, kind="stable")
    ranked = [(labels[i], float(probs[i])) for i in order]
    pair = _mix_pair(probs, window_probs, t.mix_share)
    if pair is not None and window_probs is not None:
        a, b = labels[pair[0]], labels[pair[1]]
        shares = window_wins(window_probs, len(probs))
        return Verdict(
            "mix",
            f"A mix of {display_name(a)} and {display_name(b)}",
            (a, b),
            f"{display_name(a)} leads in {_pct(shares[pair[0]])} of the music, "
            f"{display_name(b)} in {_pct(shares[pair[1]])} ({_listing(ranked[:2])} overall)",
        )
    (top, p_top), (second, p_second) = ranked[0], ranked[1]
    if p_top >= t.clear:
        return Verdict("clear", display_name(top).capitalize(), (top,), _listing(ranked[:1]))
    if p_top + p_second >= t.close_pair:
        heading = f"{display_name(top).capitalize()} or {display_name(second)}"
        return Verdict("close", heading, (top, second), _listing(ranked[:2]))
    closest = ranked[:3]
    heading = "Hard to say — closest: " + ", ".join(display_name(g) for g, _ in closest)
    return Verdict("unsure", heading, tuple(g for g, _ in closest), _listing(closest))


# --- thresholds from held-out tracks ---------------------------------------------------------


def _isotonic_threshold(score: np.ndarray, right: np.ndarray, bounds: tuple[float, float]) -> float:
    """The lowest score from which a monotone fit of P(right | score) reaches the target."""
    from sklearn.isotonic import IsotonicRegression

    fit = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    fitted = fit.fit_transform(score, right.astype(np.float64))
    reached = score[fitted >= TARGET_ACCURACY]
    value = float(reached.min()) if len(reached) else bounds[1]
    return float(np.clip(value, *bounds))


def false_mix_rate(window_probs: Sequence[np.ndarray], probs: np.ndarray, share: float) -> float:
    """Share of (single-genre) tracks that would be called a mix at ``share``."""
    calls = [_mix_pair(p, w, share) is not None for p, w in zip(probs, window_probs, strict=True)]
    return float(np.mean(calls)) if calls else 0.0


@dataclass(frozen=True)
class ThresholdEvidence:
    thresholds: VerdictThresholds
    n_tracks: int
    fitted: bool  # False: too few held-out tracks, the defaults are used
    accuracy_at_clear: float | None  # held-out accuracy of the tracks at/above ``clear``
    share_clear: float | None  # share of held-out tracks at/above ``clear``
    pair_accuracy_at_close: float | None  # right genre among the two, tracks below clear
    share_close: float | None  # share of held-out tracks called a close call
    share_unsure: float | None
    false_mix_rate: float | None
    note: str

    def describe(self) -> str:
        """One paragraph for a model card."""
        t = self.thresholds
        if not self.fitted:
            return f"Verdict thresholds: the defaults ({self.note})."
        return (
            f"Verdict thresholds from {self.n_tracks} held-out tracks: a single genre is named "
            f"from a top probability of {t.clear:.2f} (held-out tracks there were right "
            f'{_pct(self.accuracy_at_clear or 0)} of the time), two ("X or Y") from a top-two '
            f"sum of {t.close_pair:.2f}, a mix when two genres each lead in {t.mix_share:.0%} "
            'of the windows; otherwise "Hard to say".'
        )

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["thresholds"] = self.thresholds.to_json()
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


def thresholds_from_held_out(
    probs: np.ndarray, truth: np.ndarray, window_probs: Sequence[np.ndarray] | None = None
) -> ThresholdEvidence:
    """Verdict thresholds from held-out tracks' probabilities [tracks, labels] and true label
    indices; ``window_probs`` (one [windows, labels] array per track) set ``mix_share``."""
    probs, truth = np.asarray(probs, dtype=np.float64), np.asarray(truth)
    n = len(probs)
    if n < MIN_HELD_OUT_TRACKS:
        return ThresholdEvidence(
            VerdictThresholds(), n, False, None, None, None, None, None, None,
            f"{n} held-out tracks are too few to measure thresholds (at least "
            f"{MIN_HELD_OUT_TRACKS} needed): the defaults are used",
        )  # fmt: skip
    ordered = np.sort(probs, axis=1)[:, ::-1]
    top, pair = ordered[:, 0], ordered[:, 0] + ordered[:, 1]
    top_two = np.argsort(-probs, axis=1, kind="stable")[:, :2]
    right = top_two[:, 0] == truth
    pair_right = (top_two == truth[:, None]).any(axis=1)
    clear = _isotonic_threshold(top, right, CLEAR_BOUNDS)
    close_pair = max(_isotonic_threshold(pair, pair_right, CLOSE_PAIR_BOUNDS), clear)
    mix_share, mix_rate = VerdictThresholds().mix_share, None
    if window_probs is not None:
        for share in MIX_SHARE_GRID:
            mix_rate = false_mix_rate(window_probs, probs, share)
            mix_share = share
            if mix_rate <= FALSE_MIX_RATE:
                break
    is_clear = top >= clear
    is_close = ~is_clear & (pair >= close_pair)
    return ThresholdEvidence(
        thresholds=VerdictThresholds(clear, close_pair, mix_share),
        n_tracks=n,
        fitted=True,
        accuracy_at_clear=float(right[is_clear].mean()) if is_clear.any() else None,
        share_clear=float(is_clear.mean()),
        pair_accuracy_at_close=float(pair_right[is_close].mean()) if is_close.any() else None,
        share_close=float(is_close.mean()),
        share_unsure=float((~is_clear & ~is_close).mean()),
        false_mix_rate=mix_rate,
        note=f"isotonic fit of held-out correctness on {n} tracks; target "
        f"{TARGET_ACCURACY:.0%}, clear within {CLEAR_BOUNDS}, close pair within "
        f"{CLOSE_PAIR_BOUNDS}; mix share: smallest with ≤ {FALSE_MIX_RATE:.0%} of single-genre "
        "tracks called a mix",
    )
