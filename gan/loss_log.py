"""A GAN run's per-step loss log, ``losses.csv``: its columns, reading it back, trimming it to a
checkpoint's step when a run resumes, and the summary a run's record keeps."""

from __future__ import annotations

import csv
from pathlib import Path

LOSS_COLUMNS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "aux_real", "aux_fake", "elapsed_s")


def truncate_log(log_path: Path, last_step: int) -> None:
    """Drop rows written after the checkpoint we resume from (they will be redone)."""
    if not log_path.is_file():
        return
    with log_path.open(newline="", encoding="utf-8") as f:
        rows = [row for row in csv.DictReader(f) if int(row["step"]) <= last_step]
    with log_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=LOSS_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def read_losses(log_path: Path) -> list[dict[str, float]]:
    with log_path.open(newline="", encoding="utf-8") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def loss_summary(losses: list[dict[str, float]], last: int = 200) -> dict[str, float]:
    """Mean of each loss over the last ``last`` steps (one step's GAN losses are too noisy)."""
    tail = losses[-last:]
    if not tail:
        return {}
    return {
        f"{key}_last{len(tail)}": round(sum(row[key] for row in tail) / len(tail), 4)
        for key in ("d_loss", "g_loss", "d_real", "d_fake", "aux_real", "aux_fake")
        if key in tail[0]
    }
