"""The Training page's Cancel while ``python -m genre train`` decodes clips: never lost.

soundfile reads our files through cffi callbacks; a SIGTERM handled while libsndfile is inside
one raises there, and cffi swallows the exception ("Exception ignored from cffi callback").
Before :mod:`runs.stop` the run then trained on and ended "finished" (5 of 20 cancels).
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from genre.training import jobs
from genre.training.config import RunConfig
from runs import launch
from runs.store import RunRegistry
from tests.test_training_jobs import TINY, finished, wait_for

SWALLOWED = "Exception ignored from cffi callback"
MAX_TRIES = 30  # about 1 cancel in 4 lands in a read callback: 30 misses in a row is ~2e-4


def cancel_while_decoding(config: RunConfig, delay_s: float) -> tuple[str, bool]:
    """Launch a run as the page does, cancel it ``delay_s`` into its decoding; how it ended,
    and whether the cancel's raise was swallowed by a read callback."""
    registry = RunRegistry()
    run = jobs.launch(config, registry)
    wait_for(lambda: registry.get(run.id).step >= 2, what="decoding to begin")
    time.sleep(delay_s)
    launch.cancel(run.id, registry)
    done = wait_for(lambda: finished(registry, run.id), what="the run to end")
    return done.status, SWALLOWED in (done.folder / "log.txt").read_text()


@pytest.mark.slow
def test_a_cancel_while_clips_are_decoded_is_never_lost(
    gtzan_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancel each run at a random moment of its decoding, until one cancel was swallowed by
    a read callback; every run must end cancelled, that one included."""
    config = RunConfig(model="linear_mel", dataset=str(gtzan_dir / "audio"), split="holdout",
                       epochs=1, **TINY)  # fmt: skip
    pick = random.Random(0)
    outcomes: list[tuple[str, bool]] = []
    for attempt in range(MAX_TRIES):
        # a fresh data folder each time: cached spectrograms would skip the decoding
        monkeypatch.setenv("GENRE_STUDIO_HOME", str(tmp_path / f"home-{attempt}"))
        outcomes.append(cancel_while_decoding(config, pick.uniform(0.0, 1.5)))
        assert outcomes[-1][0] == "cancelled", outcomes
        if outcomes[-1][1]:
            break
    assert any(swallowed for _, swallowed in outcomes), (
        f"no cancel landed in a read callback in {MAX_TRIES} tries: nothing was tested"
    )
