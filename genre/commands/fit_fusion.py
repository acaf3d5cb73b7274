"""``python -m genre fit-fusion``: tag fusion, verdict thresholds and calibration of a bundle."""

from __future__ import annotations

from genre.fusion_fit import configure, run

NAME = "fit-fusion"
HELP = (
    "Choose the tag-fusion weight and the verdict thresholds of the default bundle by grouped "
    "CV; write them, the calibration and the model card section into the bundle."
)

__all__ = ["HELP", "NAME", "configure", "run"]
