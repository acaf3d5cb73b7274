"""What a training run needs to know, as one JSON-friendly dataclass (stored with the run)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from genre.errors import GenreError

FrontendKind = Literal["mel", "stft"]


@dataclass
class RunConfig:
    model: str
    split: str = "filtered"  # filtered | holdout | kfold
    dataset: str | None = None  # a folder of class folders
    features: str | None = None  # a per-track feature table (CSV)
    epochs: int = 20
    folds: int = 5
    seed: int = 0
    # spectrogram front-end and windows
    frontend: FrontendKind = "mel"
    sample_rate: int = 22050
    n_fft: int = 2048
    hop: int = 512
    n_mels: int = 128
    window_s: float = 3.0
    hop_s: float = 1.5
    # optimisation
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    crops_per_track: int = 8  # random crops per track and epoch when augmenting
    augment: bool = True  # random-crop windows (else the fixed window grid)
    mixup: float = 0.0  # Beta(α, α) mixup of window pairs; 0 turns it off
    patience: int = 0  # early stopping on validation loss after this many bad epochs; 0: off
    # torch CPU threads; 0 = torch's default (all cores). One thread is fastest when several
    # runs or apps share the CPU, where extra threads only spin; raise it on an idle machine.
    threads: int = 1

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
