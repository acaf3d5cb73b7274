"""Which trainer a registered run's model gets: torch (spectrogram models), sklearn (feature
table) or head (a genre head on frozen backbone embeddings).

The GAN trains through its own worker (``gan/train.py``) and is registered separately.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from genre.models import ModelSpec
from genre.splits import Split
from genre.training.config import RunConfig
from genre.training.data import TrackData
from genre.training.head_loop import HeadTrainer
from genre.training.reporting import Reporter
from genre.training.sklearn_trainer import SklearnTrainer
from genre.training.torch_trainer import TorchTrainer
from genre.training.trainers import Trainer

# Built with the run's model spec, settings, data, splits, reporter and run folder.
TrainerFactory = Callable[[ModelSpec, RunConfig, TrackData, list[Split], Reporter, Path], Trainer]

TRAINERS: dict[str, TrainerFactory] = {
    "torch": TorchTrainer,
    "sklearn": SklearnTrainer,
    "head": HeadTrainer,
}


def trainer_kind(spec: ModelSpec) -> str:
    """The :data:`TRAINERS` key of a model: by what it reads first, then by its family."""
    if spec.input == "embedding":
        return "head"
    return "torch" if spec.family == "torch" else "sklearn"


def trainer_for(spec: ModelSpec) -> TrainerFactory:
    return TRAINERS[trainer_kind(spec)]
