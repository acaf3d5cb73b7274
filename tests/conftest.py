"""Shared fixtures: the real GTZAN clips, a private data folder, synthesized audio files."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from genre.paths import shared_gtzan_dir
from runs.home import HOME_ENV

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def gtzan_dir() -> Path:
    root = shared_gtzan_dir()
    assert (root / "audio").is_dir(), f"the shared GTZAN clips are expected at {root}"
    return root


@pytest.fixture(scope="session")
def gtzan_clip(gtzan_dir: Path) -> Path:
    return gtzan_dir / "audio" / "blues" / "blues.00000.ogg"


@pytest.fixture(scope="session", autouse=True)
def private_session_data_dir(tmp_path_factory: pytest.TempPathFactory):
    """A data folder for the module- and session-wide fixtures, which are set up before any
    test's own folder (below): without it a module's trained run registered itself in the
    user's own run list on every ``make test``."""
    home = tmp_path_factory.mktemp("studio-session-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(HOME_ENV, str(home))
        yield home


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Every test gets its own data folder, so no test sees a user's runs or another test's."""
    home = tmp_path_factory.mktemp("studio-home")
    monkeypatch.setenv(HOME_ENV, str(home))
    return home


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def tone(seconds: float = 3.0, rate: int = 22050, channels: int = 1, freq: float = 440.0):
    """A harmonic tone with a little noise: real-sounding enough for decoders and models."""
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    mono = 0.3 * np.sin(2 * np.pi * freq * t) + 0.1 * np.sin(2 * np.pi * 2 * freq * t)
    mono += 0.01 * rng.standard_normal(len(t))
    return np.stack([mono * (1 - 0.1 * c) for c in range(channels)], axis=1).astype(np.float32)


def wav_bytes(seconds: float = 3.0, rate: int = 22050, subtype: str = "PCM_16", **kw) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, tone(seconds, rate, **kw), rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


os.environ.setdefault("PYTHONHASHSEED", "0")
