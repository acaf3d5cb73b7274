"""A signal that arrives while a file is decoded is never lost (a Cancel, a Ctrl-C).

soundfile used to read our files through cffi callbacks into Python; an exception raised by a
signal handler inside one was printed as "Exception ignored from cffi callback" and decoding
went on, so the Cancel's SIGTERM or the user's Ctrl-C did nothing. Now libsndfile reads the
descriptor itself and the handler's exception leaves ``load_audio`` like any other.
"""

from __future__ import annotations

import signal
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from audio import load_audio

SWALLOWED = "Exception ignored from cffi callback"
# With callbacks 28 of 40 were swallowed (measured 2026-11-27).
TRIES = 40


class Interrupted(BaseException):
    """What the test's handler raises, as the trainers' SIGTERM handler does."""


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five minutes of PCM (about 60 ms to decode here): decoding it is mostly reading, where
    the callbacks were."""
    path = tmp_path_factory.mktemp("signals") / "long.wav"
    rng = np.random.default_rng(0)
    sf.write(path, rng.uniform(-0.5, 0.5, 44100 * 300).astype(np.float32), 44100,
             subtype="PCM_16")  # fmt: skip
    return path


def interrupted_while_decoding(path: Path, after_s: float) -> bool:
    """Decode ``path`` with one SIGALRM ``after_s`` in, whose handler raises; whether the
    exception left ``load_audio`` (a swallowed one lets decoding finish)."""

    def interrupt(signum: int, frame: object) -> None:
        raise Interrupted

    before = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, after_s)
        load_audio(path, max_minutes=10)
    except Interrupted:
        return True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
    return False


def test_a_signal_during_decoding_is_never_swallowed(
    long_wav: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    delays = np.random.default_rng(1).uniform(0.001, 0.015, TRIES)  # well inside the decode
    outcomes = [interrupted_while_decoding(long_wav, float(delay)) for delay in delays]
    assert SWALLOWED not in capfd.readouterr().err
    assert all(outcomes), f"{outcomes.count(False)} of {TRIES} signals were lost while decoding"
