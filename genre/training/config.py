"""What a training run needs to know, as one JSON-friendly dataclass (stored with the run).

This is the one home of every training default: the Training page reads them with
:meth:`RunConfig.default`, and ``python -m genre train`` builds its options from these fields
(:mod:`genre.training.config_cli`), each option's help from the field's ``help`` metadata.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Literal

from genre.errors import GenreError

FrontendKind = Literal["mel", "stft"]


def _option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class RunConfig:
    model: str
    split: str = _option("filtered", "how tracks are kept apart: filtered, holdout or kfold")
    dataset: str | None = _option(None, "folder of class folders of audio files")
    features: str | None = _option(None, "per-track feature table (CSV)")
    epochs: int = _option(20, "training epochs (networks trained from spectrograms)")
    folds: int = _option(5, "folds, for --split kfold")
    seed: int = _option(0, "random seed of the split, the crops and the weights")
    # spectrogram front-end and windows
    frontend: FrontendKind = field(default="mel", metadata={"help": "spectrogram: mel or stft"})
    sample_rate: int = _option(22050, "audio is resampled to this rate (Hz)")
    n_fft: int = _option(2048, "FFT size (samples)")
    hop: int = _option(512, "spectrogram hop (samples)")
    n_mels: int = _option(128, "mel bands")
    window_s: float = _option(3.0, "window length (s)")
    hop_s: float = _option(1.5, "hop between windows (s)")
    # optimisation
    batch_size: int = _option(32, "windows per batch")
    lr: float = _option(1e-3, "learning rate")
    weight_decay: float = _option(1e-4, "AdamW weight decay")
    crops_per_track: int = _option(8, "random crops per track and epoch when augmenting")
    augment: bool = _option(True, "random-crop windows each epoch (else the fixed window grid)")
    mixup: float = _option(0.0, "Beta(α, α) mixup of window pairs; 0 turns it off")
    patience: int = _option(
        0, "early stopping after this many epochs without a better validation loss; 0: off"
    )
    # One thread is fastest when several runs or apps share the CPU, where extra threads only
    # spin; raise it on an idle machine.
    threads: int = _option(1, "torch CPU threads; 0: torch's default (all cores)")

    def __post_init__(self) -> None:
        if (self.dataset is None) == (self.features is None):
            raise GenreError("Give exactly one data source: a dataset folder or a feature table.")
        checks = [
            (self.epochs >= 1, "epochs must be at least 1"),
            (2 <= self.folds <= 20, "folds must be between 2 and 20"),
            (self.frontend in ("mel", "stft"), "the front-end must be 'mel' or 'stft'"),
            (self.sample_rate >= 4000, "the sample rate must be at least 4000 Hz"),
            (8 <= self.n_mels <= 512, "n_mels must be between 8 and 512"),
            (0 < self.hop_s <= self.window_s, "window hop must be positive and at most the window"),
            (self.batch_size >= 1, "batch size must be at least 1"),
            (self.lr > 0, "the learning rate must be positive"),
            (self.crops_per_track >= 1, "crops per track must be at least 1"),
            (self.mixup >= 0, "mixup α must not be negative"),
            (self.patience >= 0, "patience must not be negative"),
        ]
        for ok, message in checks:
            if not ok:
                raise GenreError(f"Invalid training setting: {message}.")

    @property
    def data_source(self) -> str:
        return str(self.dataset or self.features)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    @classmethod
    def default(cls, name: str) -> Any:
        """The default of field ``name``: the one place the page and the CLI take it from."""
        for option in fields(cls):
            if option.name == name and option.default is not MISSING:
                return option.default
        raise KeyError(f"RunConfig has no default for {name!r}")
