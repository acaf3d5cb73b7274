"""What a training run needs to know, as one JSON-friendly dataclass (stored with the run).

This is the one home of every training default: the Training page reads them with
:meth:`RunConfig.default`, and ``python -m genre train`` builds its options from these fields
(:mod:`genre.training.config_cli`), each option's help from the field's ``help`` metadata.
"""

from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any, Literal

from audio import MelSpec
from genre.errors import GenreError

FrontendKind = Literal["mel", "stft"]
Schedule = Literal["cosine", "one-cycle"]


def _option(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass
class RunConfig:
    model: str
    split: str = _option("filtered", "how tracks are kept apart: filtered, holdout or kfold")
    dataset: str | None = _option(None, "folder of class folders of audio files")
    features: str | None = _option(None, "per-track feature table (CSV)")
    classes: str = _option(
        "", "comma-separated class names the model predicts, in this order; empty: the data's"
    )
    epochs: int = _option(20, "training epochs (networks trained from spectrograms)")
    folds: int = _option(5, "folds, for --split kfold")
    fold_block: int = _option(
        0, "k-fold: neighbouring IDs held out together; 0: about the largest ID / folds"
    )
    final_fit: bool = _option(False, "after cross-validation, train the saved model on every track")
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
    lr_schedule: Schedule = field(
        default="cosine",
        metadata={"help": "learning rate: cosine decay per epoch, or one-cycle per batch"},
    )
    label_smoothing: float = _option(0.0, "label smoothing of the training loss")
    crops_per_track: int = _option(8, "random crops per track and epoch when augmenting")
    augment: bool = _option(True, "random-crop windows each epoch (else the fixed window grid)")
    mixup: float = _option(0.0, "Beta(α, α) mixup of window pairs; 0 turns it off")
    patience: int = _option(
        0, "early stopping after this many epochs without a better validation loss; 0: off"
    )
    # the genre head on the frozen musicnn backbone (musicnn_genre runs)
    # (their defaults are the shipped head's recipe, genre.training.musicnn_head.HeadConfig)
    head_epochs: int = _option(0, "full-batch epochs of a musicnn genre head; 0: the recipe's")
    head_hidden: int = _option(
        -1, "hidden units of a musicnn genre head (0: linear); -1: the recipe's"
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
            (self.fold_block >= 0, "the k-fold block must not be negative"),
            (self.lr_schedule in ("cosine", "one-cycle"), "the schedule: cosine or one-cycle"),
            (0 <= self.label_smoothing < 1, "label smoothing must be in [0, 1)"),
            (self.head_epochs >= 0, "head epochs must not be negative"),
            (self.head_hidden >= -1, "head hidden units must be -1 (the recipe's) or more"),
        ]
        for ok, message in checks:
            if not ok:
                raise GenreError(f"Invalid training setting: {message}.")
        try:  # the bundle it makes must load: the same front-end checks as loading (MelSpec)
            MelSpec.checked({"sample_rate": self.sample_rate, "n_fft": self.n_fft,
                             "hop": self.hop, "n_mels": self.n_mels})  # fmt: skip
        except ValueError as err:
            raise GenreError(f"Invalid training setting: {err}.") from err

    @property
    def class_names(self) -> list[str]:
        """The classes named by ``classes`` (empty: the data's own)."""
        return [c.strip() for c in self.classes.split(",") if c.strip()]

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
