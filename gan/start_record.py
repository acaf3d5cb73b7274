"""The record a run started from elsewhere keeps (``started_from.json``): what it started from
(folder, step, settings), so an exported bundle's card can rebuild the whole chain of commands.

Written by :func:`gan.start_from.start_from`; read when a run is exported (:mod:`gan.bundle`)
and by the CLI. Kept apart from ``gan.start_from``, which loads bundles to start from, so the
bundle code can read a record without importing the code that loads bundles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STARTED_FROM_FILE = "started_from.json"


def started_from(run_dir: Path) -> dict[str, Any] | None:
    """The record :func:`gan.start_from.start_from` left in ``run_dir``, or None for a run
    started afresh."""
    path = run_dir / STARTED_FROM_FILE
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def write_start_record(run_dir: Path, record: dict[str, Any]) -> None:
    (run_dir / STARTED_FROM_FILE).write_text(json.dumps(record, indent=2) + "\n", "utf-8")
