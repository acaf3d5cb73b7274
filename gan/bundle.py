"""The shipped generator: ``generator.safetensors`` + ``gan.json`` + ``MODEL_CARD.md`` + curves.

The metadata file is called ``gan.json`` (not ``bundle.json``) so tools that list genre
classifier bundles never mistake a generator for a classifier.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from audio import MelSpec
from gan.bundle_checks import (
    META_FILE,
    checked_frontend,
    checked_hole_limits,
    checked_labels,
    checked_level_floors,
    checked_normalisation,
    checked_picker,
    checked_truncation,
    metrics_problem,
    optional_section,
)
from gan.card import render_card
from gan.config import CRITIC_KEY, HOLE_LIMITS_KEY, LEVEL_FLOORS_KEY, RECORDINGS_KEY
from gan.critic import critic_entry, load_critic, save_critic
from gan.data import DB_CEIL, DB_FLOOR, PATCH_FRAMES, PATCH_SPEC
from gan.errors import GanError
from gan.holes import HoleLimits
from gan.loss_log import loss_summary, read_losses, truncate_log
from gan.model import (
    Discriminator,
    GanConfig,
    Generator,
    count_parameters,
    recalibrate_batch_norm,
)
from gan.recordings import PICKER_SEED, RecordingPicker, label_genres
from gan.start_record import started_from
from gan.state import export_state
from genre.paths import ASSETS_DIR, data_dir, write_pointer

WEIGHTS_FILE = "generator.safetensors"
LOG_FILE = "training_log.csv"
CARD_FILE = "MODEL_CARD.md"
DEFAULT_GAN_NAME = "gan-cgan"
REQUIRED_KEYS = ("name", "kind", "labels", "frontend", "normalisation", "model", "weights")


def default_gan_dir() -> Path:
    return ASSETS_DIR / DEFAULT_GAN_NAME


# The generator the Generate page uses, chosen on the Training page. Like the classifier's
# ``active_bundle.txt`` (genre.paths) it lives in the data folder, so updates never reset it.
def _active_gan_pointer() -> Path:
    return data_dir() / "active_generator.txt"


def promoted_gan_dir() -> Path | None:
    """The generator the user promoted, whether or not it still loads; None for the shipped."""
    pointer = _active_gan_pointer()
    if not pointer.is_file():
        return None
    chosen = pointer.read_text(encoding="utf-8").strip()
    return Path(chosen) if chosen else None


def set_active_gan_dir(bundle_dir: Path | None) -> None:
    """Promote ``bundle_dir`` for the Generate page; ``None`` restores the shipped generator."""
    write_pointer(_active_gan_pointer(), bundle_dir)


# The least ψ offered for sampling: gan.pick tries down to it; below, a genre's clips sound alike.
MIN_TRUNCATION = 0.5


@dataclass
class GanBundle:
    path: Path
    meta: dict[str, Any]
    labels: tuple[str, ...]
    spec: MelSpec
    config: GanConfig
    generator: Generator
    db_floor: float
    db_ceil: float
    # The truncation trick (Brock et al. 2018, BigGAN): every noise vector is scaled by ψ
    # before the generator, trading variety for more typical sounds. 1 leaves the noise as
    # trained; the bundle's ``sampling.truncation`` sets it (see gan.pick).
    truncation: float = 1.0
    # Per label, the quietest real level (dB, gan.levels): a patch below it is a dropout and is
    # drawn again. None (bundles made before it existed): patches are kept as drawn.
    level_floors: torch.Tensor | None = None
    # A patch whose sound, or a band of it, dips deeper than these for half a second
    # (gan.holes) is drawn again too. None (bundles made before 2026-11-27): kept as drawn.
    hole_limits: HoleLimits | None = None
    # The discriminator it was trained against, shipped to choose each clip's noise among
    # ``candidates`` walks (gan.critic); None: every clip plays its first walk.
    critic: Discriminator | None = None
    candidates: int = 1
    # Why the stored quality figures were left out (gan.bundle_checks.metrics_problem); None
    # when they could be read. The generator plays either way.
    metrics_note: str | None = None
    # With one class per recording (gan.recordings), what turns a genre into one of its
    # recordings; None: the generator's classes are the genres.
    picker: RecordingPicker | None = None

    def condition(self, y: torch.Tensor, first_noise: torch.Tensor) -> torch.Tensor:
        """The generator's condition for genre ids [N] or genre weights [N, n_genres]: the
        same, or with one class per recording the recording each picks by ``first_noise``
        [N, z_dim] (pass each clip's first noise vector for all its patches, so a long clip
        keeps one recording throughout)."""
        return y if self.picker is None else self.picker.condition(y, first_noise)

    @property
    def class_labels(self) -> tuple[str, ...]:
        """A label per class of the generator: the genres, or the recordings."""
        if self.picker is None:
            return self.labels
        return tuple(self.meta[RECORDINGS_KEY]["labels"])

    def class_floors(self) -> torch.Tensor | None:
        """``level_floors`` per class of the generator: per recording, its genre's."""
        if self.level_floors is None or self.picker is None:
            return self.level_floors
        return self.level_floors[self.picker.genres_of]

    @property
    def truncation_range(self) -> tuple[float, float]:
        """The ψ it may be sampled at: down to MIN_TRUNCATION, or to its own ψ if lower (a
        bundle may store any ψ in (0, 1])."""
        return min(MIN_TRUNCATION, self.truncation), 1.0

    def with_truncation(self, truncation: float) -> GanBundle:
        """The same generator sampled at another ψ (the Generate page's variety slider)."""
        low, high = self.truncation_range
        if not low <= truncation <= high:
            raise GanError(f"The variety (truncation) must lie between {low:g} and {high:g}, "
                           f"not {truncation}.")  # fmt: skip
        return replace(self, truncation=float(truncation))

    def with_level_floors(self, floors: dict[str, float]) -> GanBundle:
        """The same generator drawing dropouts again below ``floors`` (dB per genre)."""
        return replace(self, level_floors=checked_level_floors(floors, self.labels, self.path))

    def with_hole_limits(self, limits: dict[str, float] | None) -> GanBundle:
        """The same generator drawing patches with holes deeper than ``limits`` again."""
        return replace(self, hole_limits=checked_hole_limits(limits, self.path))

    @property
    def name(self) -> str:
        return str(self.meta["name"])

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.meta.get("metrics", {}))

    @property
    def model_card(self) -> str:
        card = self.path / CARD_FILE
        return card.read_text(encoding="utf-8") if card.is_file() else ""

    @property
    def training_log(self) -> Path | None:
        log = self.path / LOG_FILE
        return log if log.is_file() else None

    def genre_index(self, genre: str) -> int:
        if genre not in self.labels:
            raise GanError(
                f"Unknown genre '{genre}'. The generator knows: {', '.join(self.labels)}."
            )
        return self.labels.index(genre)

    def genres_asked(self, genres: Sequence[str] | None) -> list[tuple[int, str]]:
        """(id, name) of each genre asked for, in the bundle's order; every genre when none is."""
        if not genres:
            return list(enumerate(self.labels))
        ids = sorted({self.genre_index(genre) for genre in genres})
        return [(i, self.labels[i]) for i in ids]


def load_gan_bundle(path: str | Path | None = None) -> GanBundle:
    """Read and check a generator bundle; raises :class:`GanError` with the exact problem."""
    folder = Path(path) if path is not None else default_gan_dir()
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise GanError(
            f"No trained generator at {folder} ({META_FILE} is missing). "
            "Train one with: python -m gan train --export " + str(folder)
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise GanError(f"The generator at {folder} has unreadable metadata ({err}).") from err
    if not isinstance(meta, dict):
        raise GanError(f"The generator at {folder} has no JSON object in {META_FILE}.")
    missing = [k for k in REQUIRED_KEYS if k not in meta]
    if missing:
        raise GanError(f"The generator at {folder} lacks {', '.join(missing)} in {META_FILE}.")
    try:
        config = GanConfig.from_dict(meta["model"])
    except (TypeError, ValueError, AttributeError) as err:
        raise GanError(f"The generator at {folder} has an invalid model description.") from err
    recordings = meta.get(RECORDINGS_KEY)  # one class per recording (gan.recordings)
    labels = checked_labels(meta["labels"], None if recordings else config.n_classes, folder)
    picker = checked_picker(recordings, labels, config.n_classes, config.z_dim, folder)
    spec = checked_frontend(meta["frontend"], config.n_mels, folder)
    db_floor, db_ceil = checked_normalisation(meta["normalisation"], folder)
    sampling = optional_section(meta, "sampling", folder)
    optional_section(meta, "training", folder)  # the pages read its steps
    truncation = checked_truncation(sampling, folder)
    generator = Generator(config)
    try:
        generator.load_state_dict(load_file(str(folder / str(meta["weights"]))), strict=True)
    except Exception as err:  # safetensors raises several types for damaged or missing files
        raise GanError(f"The generator weights at {folder} cannot be loaded: {err}") from err
    critic, candidates = load_critic(folder, meta, config)
    problem = metrics_problem(meta.get("metrics"))
    return GanBundle(
        level_floors=checked_level_floors(sampling.get(LEVEL_FLOORS_KEY), labels, folder),
        hole_limits=checked_hole_limits(sampling.get(HOLE_LIMITS_KEY), folder),
        path=folder,
        meta={**meta, "metrics": {}} if problem or meta.get("metrics") is None else meta,
        labels=labels,
        spec=spec,
        config=config,
        generator=generator.eval(),
        db_floor=db_floor,
        db_ceil=db_ceil,
        truncation=truncation,
        critic=critic,
        candidates=candidates,
        picker=picker,
        metrics_note=(
            f"This generator's quality figures in {META_FILE} cannot be read ({problem}), so "
            f"none are shown; `python -m gan evaluate --bundle {folder} --write` measures them "
            "again."
            if problem
            else None
        ),
    )


def load_active_gan_bundle(
    load: Callable[[Path], GanBundle] | None = None,
) -> tuple[GanBundle, str | None]:
    """The promoted generator, else the shipped one; plus a warning when the promoted one fails.

    ``load`` lets a caller cache loading (the page does); a promoted generator that cannot be
    loaded (its run deleted, its files damaged) must not take the page down with it.
    """
    load = load or load_gan_bundle
    promoted = promoted_gan_dir()
    if promoted is None:
        return load(default_gan_dir()), None
    try:
        return load(promoted), None
    except GanError as err:
        warning = (
            f"The generator chosen on the Training page ({promoted.parent.name}/{promoted.name}) "
            f"cannot be loaded, so the shipped one is used instead. {err}"
        )
    return load(default_gan_dir()), warning


def export_run(
    run_dir: Path,
    out_dir: Path,
    command: str = "",
    recalibrate_batches: int = 32,
    snapshot: Path | None = None,
    critic_candidates: int = 0,
) -> Path:
    """Turn a run's checkpoint into a shipped bundle (EMA weights, re-measured batch norm);
    with ``snapshot``, the EMA generator kept at that step instead of the latest one; with
    ``critic_candidates``, the discriminator of the same step ships as its critic (gan.critic)."""
    state = export_state(run_dir, snapshot)
    generator = state.ema.model
    if snapshot is not None:
        kept = torch.load(snapshot, map_location="cpu", weights_only=True)
        generator.load_state_dict(kept["ema"])
        state.step = int(kept["step"])
        if critic_candidates and "discriminator" not in kept:
            raise GanError(
                f"The snapshot of step {state.step} keeps no discriminator (it was saved before "
                "snapshots kept one): export without a critic, or from a later snapshot."
            )
        if critic_candidates:
            state.discriminator.load_state_dict(kept["discriminator"])
    recalibrate_batch_norm(generator, batches=recalibrate_batches, seed=state.config.seed)
    critic = critic_entry(critic_candidates, state.step) if critic_candidates else None
    out_dir.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in generator.state_dict().items()}
    save_file(tensors, str(out_dir / WEIGHTS_FILE))
    (out_dir / WEIGHTS_FILE).chmod(
        0o644
    )  # safetensors writes 0600; the app may run as another user
    losses = read_losses(run_dir / "losses.csv") if (run_dir / "losses.csv").is_file() else []
    losses = [row for row in losses if row["step"] <= state.step]  # a snapshot's, up to it
    if snapshot is not None and losses:
        state.elapsed_s = losses[-1].get("elapsed_s", state.elapsed_s)
    if losses:
        shutil.copyfile(run_dir / "losses.csv", out_dir / LOG_FILE)
        if snapshot is not None:  # the curve up to the chosen step
            truncate_log(out_dir / LOG_FILE, state.step)
    run_info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    meta = {
        "name": out_dir.name,
        "kind": "cgan-dcgan",
        "title": "Genre-conditioned DCGAN on log-mel spectrograms",
        "labels": list(label_genres(state.labels)),
        "frontend": PATCH_SPEC.to_dict(),
        "patch_frames": PATCH_FRAMES,
        "normalisation": {"db_floor": DB_FLOOR, "db_ceil": DB_CEIL},
        "model": state.config.model.to_dict(),
        "parameters": count_parameters(generator),
        "weights": WEIGHTS_FILE,
        "training": {
            "config": state.config.to_dict(),
            "steps": state.step,
            "seconds": round(state.elapsed_s, 1),
            "clips": run_info.get("clips"),
            "command": command,
            "threads": run_info.get("threads"),
            "losses": loss_summary(losses),
        },
        "trained_on": {
            "dataset": "GTZAN clips 00000-00009 of every genre (the 100 shared clips)",
            "files": run_info.get("clips"),
        },
        "metrics": {},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "licence": "MIT (weights trained by this project; GTZAN audio is for research use)",
    }
    if state.config.condition == "recording":
        meta[RECORDINGS_KEY] = {"labels": list(state.labels), "picker_seed": PICKER_SEED}
    if critic is not None:
        save_critic(state.discriminator, out_dir)
        meta[CRITIC_KEY] = critic
    source = started_from(run_dir)
    if source is not None:  # a run started from another run's checkpoint (--start-from)
        meta["training"]["started_from"] = source
    write_meta(out_dir, meta)
    load_gan_bundle(out_dir)  # prove the bundle loads before anyone relies on it
    return out_dir


def write_meta(folder: Path, meta: dict[str, Any]) -> None:
    (folder / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (folder / CARD_FILE).write_text(render_card(meta), encoding="utf-8")
