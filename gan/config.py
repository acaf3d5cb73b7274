"""The GAN's settings and their defaults, in one torch-free place.

``python -m gan`` reads its option defaults from here before importing torch, so a usage error
is reported in a fraction of a second; :mod:`gan.model` and :mod:`gan.train` use the same
classes (and re-export them under their old names).
"""

from __future__ import annotations

import os
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any

from gan.errors import GanError

# a run folder's training state (gan.state), which resuming, --start-from and Continue read
CHECKPOINT_FILE = "checkpoint.pt"
SEED_MAX = 2**32 - 1  # seeds are 0 … 2³²−1, as in most tools
# the noise pick and evaluate score with: cards stay comparable; `gan evaluate --seed` varies it
EVALUATION_SEED = 1234


@dataclass(frozen=True)
class GateRule:
    """How ``gan gate`` (gan.gate) judges a generator's recordings and which it leaves out; the
    defaults chose the shipped generator's."""

    seed: int = 4242  # never an evaluation seed (1234 for the card, 1 for the check)
    clips_per_genre: int = 200  # about 20 a recording
    min_share: float = 0.30  # the floor for every genre: a recording below it is left out
    keep: int = 5  # ... but each genre keeps at least its best five, for variety


# a real excerpt counts as covered when a generated clip lies nearer than its 5th-nearest real
# neighbour (gan.metrics.coverage_shares; Naeem et al. 2020 use 5)
COVERAGE_NEIGHBOURS = 5
MAX_SECONDS = 30.0  # the longest generated clip
SCORED_SECONDS = 3.0  # every clip and real segment pick and evaluate score is this long
# Griffin-Lim iterations when a generated mel becomes audio. Measured from a PGHI start
# (bench/bench_sonification.py): 24 → 64 iterations lower the spectral convergence by only
# ~6 % for about twice the time.
GRIFFIN_LIM_ITERS = 24
# Samples per genre in one request. Generation streams (memory does not grow with the count),
# but each 3-s sample costs about a second of CPU: the cap keeps a typo from running for hours.
MAX_SAMPLES = 200
MAX_SAMPLES_ENV = "GAN_MAX_SAMPLES"  # raises (or lowers) the cap
MAX_SAMPLES_RANGE = (1, 10_000)  # what the setting accepts: 10 000 per genre is hours of CPU


def max_samples() -> int:
    """The cap on samples per genre: ``GAN_MAX_SAMPLES`` when set, else :data:`MAX_SAMPLES`.

    A value that is not a whole number in :data:`MAX_SAMPLES_RANGE` is a :class:`GanError`
    naming the variable and the range (the CLI's usage error, exit 2), never a silent default.
    """
    configured = os.environ.get(MAX_SAMPLES_ENV, "").strip()
    if not configured:
        return MAX_SAMPLES
    low, high = MAX_SAMPLES_RANGE
    try:
        value = int(configured)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise GanError(
            f"{MAX_SAMPLES_ENV}={configured!r} is not a whole number between {low} and {high}."
        )
    return value


def too_many_samples(n: int, cap: int) -> str:
    """The one message for a request above the cap (the CLI and the library say the same)."""
    return (
        f"At most {cap} samples per genre can be made in one call (asked for {n}). Run the "
        f"command again with another --seed for more, or raise the cap with {MAX_SAMPLES_ENV}."
    )


UPSAMPLING = ("nearest", "transposed")  # see GanConfig.upsample
NOISE_INTO = ("first", "every")  # see GanConfig.noise_into
DEVICES = ("auto", "cpu", "cuda")  # where `gan train` may train (gan.train.training_device)


def _type_words(value: Any) -> str:
    """What a stored value is, in words, for a message (never Python's own error text)."""
    if isinstance(value, dict):
        return "a set of named settings"
    if isinstance(value, list):
        return "a list"
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "…"


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # JSON's true is not a 1


def stored_fields(cls: type, data: Any, what: str) -> dict[str, Any]:
    """The fields of the dataclass ``cls`` that ``data`` (a stored config: checkpoint, bundle,
    run record) holds, each checked against the type of the field's default; a value of
    another type is a ValueError saying which setting and what it should be in plain words,
    where the dataclass would have failed later with Python's words (or not at all)."""
    if not isinstance(data, dict):
        raise ValueError(f"{what} are {_type_words(data)}, not a set of named settings")
    found: dict[str, Any] = {}
    for spec in fields(cls):
        if spec.name not in data or spec.default is MISSING:
            continue  # absent, or a nested config (read by its own class)
        value, default = data[spec.name], spec.default
        if isinstance(default, tuple):
            ok = isinstance(value, (list, tuple)) and all(_is_whole(v) for v in value)
            expected, value = "a list of whole numbers", tuple(value) if ok else value
        elif isinstance(default, str):
            ok, expected = isinstance(value, str), "text"
        elif isinstance(default, int):
            ok, expected = _is_whole(value), "a whole number"
        else:  # float: a whole number will do
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            expected = "a number"
        if not ok:
            raise ValueError(
                f"{what}: '{spec.name}' should be {expected}, not {_type_words(value)}"
            )
        found[spec.name] = value
    return found


# In a bundle's metadata, sampling.level_floors_db: per genre, the quietest real level (dB);
# a generated patch below it is a dropout and is drawn again (gan.levels.redraw_dropouts).
LEVEL_FLOORS_KEY = "level_floors_db"
# sampling.hole_limits_db: {"whole": dB, "band": dB}; a generated patch whose sound, or one
# band of it, dips deeper than that for half a second (gan.holes) is drawn again too.
HOLE_LIMITS_KEY = "hole_limits_db"
# A shipped critic (gan.critic) keeps the best of at most this many noise walks per clip:
# sampling costs grow with it, and beyond a few the gain is small.
MAX_CANDIDATES = 16
CRITIC_KEY = "critic"  # its entry in gan.json: {"weights", "candidates", "step"}
# A generator with one class per recording (gan.recordings) lists them in gan.json under this
# key: {"labels": ["<genre>/<file name>", …] in class order, "picker_seed": int}.
RECORDINGS_KEY = "recordings"
# in the recordings entry: the recordings sampling never picks (gan.gate)
LEFT_OUT_KEY = "left_out"
GATE_KEY = "gate"  # in gan.json: the rule that chose them and each recording's counts


# The widest layer a generator may ask for (the shipped one's widest is 256): a stored model
# description beyond it would not fit in memory, or not in a torch size at all.
MAX_WIDTH = 4096


@dataclass(frozen=True)
class GanConfig:
    n_classes: int = 10
    z_dim: int = 96
    embed_dim: int = 32
    n_mels: int = 128
    frames: int = 128
    g_channels: tuple[int, ...] = (256, 128, 64, 32, 16)  # at 4, 8, 16, 32, 64 px
    d_channels: tuple[int, ...] = (16, 32, 64, 128, 256)  # at 64, 32, 16, 8, 4 px
    # How the generator doubles its map: "nearest" (copy each pixel, then a 3 × 3 convolution)
    # or "transposed" (a stride-2 4 × 4 transposed convolution, the DCGAN original, whose
    # uneven overlap leaves a frame-to-frame zigzag: 3.8 dB mean change between frames in
    # the old generator's classical, 2.4 dB in real classical).
    upsample: str = "nearest"
    # Where the noise enters the generator: "first" (the first projection only) or "every"
    # (each layer's gain and bias also read it, BigGAN's hierarchical latent)
    noise_into: str = "first"

    def __post_init__(self) -> None:
        if self.upsample not in UPSAMPLING:
            raise ValueError(f"upsampling must be one of {', '.join(UPSAMPLING)}")
        if self.noise_into not in NOISE_INTO:
            raise ValueError(f"noise_into must be one of {', '.join(NOISE_INTO)}")
        steps = len(self.g_channels)
        if self.n_mels != 4 * 2**steps or self.frames != 4 * 2**steps:
            raise ValueError("n_mels and frames must equal 4 · 2^len(g_channels)")
        if len(self.d_channels) != steps:
            raise ValueError("g_channels and d_channels must have the same length")
        sizes = (self.n_classes, self.z_dim, self.embed_dim, *self.g_channels, *self.d_channels)
        if not all(1 <= size <= MAX_WIDTH for size in sizes):
            raise ValueError(f"classes, noise, embedding and channel sizes must lie between 1 "
                             f"and {MAX_WIDTH}")  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GanConfig:
        # Bundles and checkpoints from before the choice existed used transposed convolutions.
        known = {"upsample": "transposed"}
        known.update(stored_fields(cls, data, "the model settings"))
        return cls(**known)


def differs_only_in(name: str, asked: GanConfig, source: GanConfig) -> bool:
    """Whether the model options ``asked`` for a start from ``source`` change only the setting
    ``name`` (defaults elsewhere mean "the source's"; the class count comes from the data or the
    source, not from the options): a change of shape that a run can grow into (gan.widen,
    gan.noise_layers)."""

    def rest(config: GanConfig) -> dict[str, object]:
        return {spec.name: getattr(config, spec.name) for spec in fields(config)
                if spec.name not in (name, "n_classes")}  # fmt: skip

    return rest(asked) in (rest(source), rest(GanConfig()))


AUGMENTATIONS = ("shift", "slide", "cutout", "gain", "pitch", "eq")  # see gan.augment
# What one class of the generator is (TrainConfig.condition): a genre, or one training recording
# (gan.recordings), whose bundles are still asked for genres.
CONDITIONS = ("genre", "recording")
AUX_LEVELS = ("class", "genre")  # see TrainConfig.aux_g_level and musicnn_d_level


def augment_names(text: str) -> tuple[str, ...]:
    """``"shift, cutout"`` → ("shift", "cutout"): an ``augment`` setting's names, blanks left
    out (``""``: no augmentation). Not checked against AUGMENTATIONS here."""
    return tuple(name.strip() for name in text.split(",") if name.strip())


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 4000
    batch_size: int = 16
    lr_g: float = 2e-4
    lr_d: float = 4e-4  # two time-scale update rule: the discriminator learns faster
    beta1: float = 0.0
    beta2: float = 0.9
    ema_decay: float = 0.995
    aux_weight: float = 1.0  # AC-GAN genre loss (0 turns the discriminator's genre head off)
    # The limited-data recipe the shipped generator was trained with, on for new runs
    # (configs stored before it existed load with it off: LEGACY_RECIPE). DiffAugment of real
    # and generated patches before the discriminator (see gan.augment) and an R1 penalty on
    # real patches, applied every r1_every steps (lazy R1).
    augment: str = "shift,cutout,gain"
    r1_gamma: float = 1.0
    r1_every: int = 4
    # Mode-seeking term (Mao et al. 2019): the generator is rewarded when two noises of one
    # genre give different patches. Without it the generators trained here drew one sound
    # per genre whatever the noise, so a genre the judge did not recognise in that one sound
    # scored 0 %.
    mode_seeking: float = 1.0
    # Each pair's distance ratio is clamped here (0: uncapped, as the shipped generator was
    # trained), so silence against sound stops paying; see gan.losses.mode_seeking_loss.
    # Two real patches of one genre lie 0.11-0.23 apart on this scale (10th-90th percentile).
    mode_seeking_cap: float = 0.0
    # Negative data augmentation (gan.negatives): half a batch of real patches played backwards
    # or block-shuffled is shown to the discriminator as fake, with this weight (0: off), so it
    # must judge the order of events and not only each genre's average spectrum.
    negatives: float = 0.0
    # The other half of the batch with its fine frequency detail smeared, replaced by noise or
    # frozen in time (gan.negatives.spectral_negatives), judged fake with this weight (0: off),
    # so the discriminator asks for the changing partials of instruments and voices.
    spectral_negatives: float = 0.0
    # Weight of the discriminator's local head (gan.model.LocalHead; 0: none): realness and
    # genre judged in every half-second, half-octave cell, not only over the whole patch.
    local_weight: float = 0.0
    # Weight of the second discriminator that hears patches through the frozen musicnn
    # backbone (gan.pretrained_judge; 0: none): a genre as a tagger trained on 200 000 songs
    # hears it, not as ten clips a genre can teach. About four times slower.
    musicnn_weight: float = 0.0
    # Weight of the spread term that comes with it (gan.pretrained_judge.spread_loss; 0: none):
    # two noises of one genre should sound as far apart, to musicnn, as two real patches of
    # that genre do on average. The mode-seeking term above measures distance in dB pixels,
    # where a shifted copy of one sound counts as new; this measures it where genre is heard.
    musicnn_diversity: float = 0.0
    # Weight of the musicnn distribution term (gan.pretrained_judge.mmd_loss; 0: none), in place
    # of the spread term: per genre, the maximum mean discrepancy between generated and real
    # patches in musicnn's penultimate embedding. Unlike the spread term, which pays for distance
    # in any direction, it asks a genre's patches to spread where its real patches lie.
    musicnn_mmd: float = 0.0
    # Weight of the level guard (gan.levels.level_shortfall; 0: none): a generated patch
    # quieter than its genre's quietest real patch pays per 10 dB short. The discriminators
    # let such dropouts through (24 % of the shipped generator's clips as drawn, 2026-11-26);
    # with the spread term they were also the cheapest way for two patches to differ.
    level_guard: float = 0.0
    # Weight of the pair discriminator (gan.pairs; 0: none): two patches of one genre judged
    # together, real ones from two clips against generated ones from two noises, so that a
    # genre's patches must differ from each other as real ones do, not only each look real.
    pair_weight: float = 0.0
    # One class per genre or per training recording (gan.recordings): per recording, the model's
    # class count is the number of recordings, and its class tables learn at table_lr_scale
    # times lr_g (each row sees a tenth of the batches a genre's row saw).
    condition: str = "genre"
    table_lr_scale: float = 1.0
    # What the generator's AC-GAN term asks of a patch of one recording: to be named as that
    # recording ("class"), or only as any recording of its genre ("genre"; the discriminator's
    # head still learns every recording). Per recording, the class term also pushes a genre's
    # recordings apart from each other, towards other genres (blues heard as reggae; see
    # docs/generator.md).
    aux_g_level: str = "class"
    # What the musicnn discriminator's head projects on (its class table): each patch's class
    # ("class": with one class per recording, its recording) or its genre ("genre"), so that
    # beside a main discriminator that learns every recording, one judgement still asks
    # whether a patch sounds like its genre as a tagger hears genre (docs/generator.md).
    musicnn_d_level: str = "class"
    # What the main discriminator's projection judges realness under: each patch's class, or
    # its genre ("genre": with one class per recording, the AC head still names recordings).
    d_level: str = "class"
    checkpoint_every: int = 100  # steps
    # Keep the EMA generator every N steps (0: never), so the shipped one can be chosen by
    # its evaluation rather than by being the last (python -m gan pick).
    snapshot_every: int = 0
    checkpoint_every_s: float = 60.0  # and at least this often in time (slow machines, big models)
    seed: int = 0
    model: GanConfig = field(default_factory=GanConfig)

    def __post_init__(self) -> None:
        unknown = [a for a in augment_names(self.augment) if a not in AUGMENTATIONS]
        if unknown:
            raise ValueError(
                f"unknown augmentation {', '.join(unknown)}; use {', '.join(AUGMENTATIONS)}"
            )
        if self.snapshot_every < 0:
            raise ValueError("the snapshot interval must be ≥ 0 steps (0: no snapshots)")
        if self.mode_seeking < 0 or self.mode_seeking_cap < 0:
            raise ValueError("the mode-seeking weight and its cap must be ≥ 0")
        if self.negatives < 0 or self.spectral_negatives < 0:
            raise ValueError("the negatives' weights must be ≥ 0 (0: off)")
        if self.local_weight < 0:
            raise ValueError("the local head's weight must be ≥ 0 (0: off)")
        if self.musicnn_weight < 0:
            raise ValueError("the musicnn discriminator's weight must be ≥ 0 (0: off)")
        if self.musicnn_diversity < 0:
            raise ValueError("the musicnn spread term's weight must be ≥ 0 (0: off)")
        if self.level_guard < 0:
            raise ValueError("the level guard's weight must be ≥ 0 (0: off)")
        if self.pair_weight < 0:
            raise ValueError("the pair discriminator's weight must be ≥ 0 (0: off)")
        if self.musicnn_mmd < 0:
            raise ValueError("the musicnn distribution term's weight must be ≥ 0 (0: off)")
        if self.musicnn_mmd > 0 and (self.musicnn_weight == 0 or self.musicnn_diversity > 0):
            raise ValueError("the musicnn distribution term needs the musicnn discriminator "
                             "(--musicnn-d above 0) and no spread term")  # fmt: skip
        if self.musicnn_diversity > 0 and self.musicnn_weight == 0:
            raise ValueError("the musicnn spread term needs the musicnn discriminator "
                             "(--musicnn-d above 0)")  # fmt: skip
        if self.condition not in CONDITIONS:
            raise ValueError(f"the condition must be one of {', '.join(CONDITIONS)}")
        if self.table_lr_scale <= 0:
            raise ValueError("the class tables' step-size scale must be above 0")
        if self.condition == "genre" and self.table_lr_scale != 1:
            raise ValueError("the class tables' own step size is for one class per recording "
                             "(--condition recording)")  # fmt: skip
        if self.aux_g_level not in AUX_LEVELS:
            raise ValueError(f"the AC-GAN level must be one of {', '.join(AUX_LEVELS)}")
        if self.musicnn_d_level not in AUX_LEVELS:
            raise ValueError("the musicnn discriminator's level must be one of "
                             f"{', '.join(AUX_LEVELS)}")  # fmt: skip
        if self.d_level not in AUX_LEVELS:
            raise ValueError(f"the discriminator's level must be one of {', '.join(AUX_LEVELS)}")
        if self.condition == "recording" and self.pair_weight > 0:
            raise ValueError("the pair discriminator needs two recordings per class: it cannot "
                             "train with one class per recording")  # fmt: skip
        if self.r1_gamma < 0 or self.r1_every < 1:
            raise ValueError("the R1 weight must be ≥ 0 and its interval ≥ 1 step")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["model"] = self.model.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        known: dict[str, Any] = dict(LEGACY_RECIPE)  # a stored config without a key predates it
        known.update(stored_fields(cls, data, "the training settings"))
        return cls(**known, model=GanConfig.from_dict(data.get("model", {})))


# What a stored config (checkpoint, bundle, page run) means when it lacks a recipe key: it was
# written before that option existed, so the run trained without it and must resume without it.
LEGACY_RECIPE: dict[str, Any] = {"augment": "", "r1_gamma": 0.0, "mode_seeking": 0.0}


# ``python -m gan train``'s option for each TrainConfig / GanConfig field that has one (the
# rest, such as the Adam betas, keep their defaults from the command line). The parser defines
# its options from these tables and reads them back by field name, so this is their one home.
TRAIN_FLAGS = {
    "steps": "--steps", "batch_size": "--batch", "lr_g": "--lr-g", "lr_d": "--lr-d",
    "ema_decay": "--ema-decay", "aux_weight": "--aux-weight", "augment": "--augment",
    "r1_gamma": "--r1", "r1_every": "--r1-every", "mode_seeking": "--mode-seeking",
    "mode_seeking_cap": "--mode-seeking-cap", "negatives": "--negatives",
    "spectral_negatives": "--spectral-negatives", "local_weight": "--local-d",
    "musicnn_weight": "--musicnn-d", "musicnn_diversity": "--musicnn-diversity",
    "musicnn_mmd": "--musicnn-mmd",
    "level_guard": "--level-guard", "pair_weight": "--pair-d",
    "condition": "--condition", "table_lr_scale": "--table-lr-scale",
    "aux_g_level": "--aux-g-level", "musicnn_d_level": "--musicnn-d-level",
    "d_level": "--d-level",
    "snapshot_every": "--snapshot-every",
    "checkpoint_every": "--checkpoint-every", "checkpoint_every_s": "--checkpoint-seconds",
    "seed": "--seed",
}  # fmt: skip
MODEL_FLAGS = {
    "z_dim": "--z-dim", "g_channels": "--g-channels", "d_channels": "--d-channels",
    "upsample": "--upsample", "noise_into": "--noise-into",
}  # fmt: skip


def training_options(config: TrainConfig) -> list[str]:
    """The ``gan train`` options that make ``config``: the step budget, then every setting
    that differs from its default (a model card prints them as the command to reproduce)."""
    words = ["--steps", str(config.steps)]
    pairs = [(config, TrainConfig(), TRAIN_FLAGS), (config.model, GanConfig(), MODEL_FLAGS)]
    for ours, default, flags in pairs:
        for name, flag in flags.items():
            value = getattr(ours, name)
            if name == "steps" or value == getattr(default, name):
                continue
            words += [flag, *(str(v) for v in value)] if isinstance(value, tuple) else [
                flag, str(value)
            ]  # fmt: skip
    return words


def with_classes(config: TrainConfig, n_classes: int) -> TrainConfig:
    """``config`` with a model of ``n_classes`` classes: with one class per recording the
    count comes from the training data, not from an option."""
    return replace(config, model=replace(config.model, n_classes=n_classes))


# What a resumed run may change between calls; every other setting is the run's own.
CHANGEABLE_ON_RESUME = ("steps", "checkpoint_every", "checkpoint_every_s", "snapshot_every")


def setting_changes(before: TrainConfig, after: TrainConfig) -> list[tuple[str, Any, Any]]:
    """(flag, before, after) for each training setting that differs, leaving out the step
    budget and the checkpoint cadence (the settings a resume may change)."""
    return [
        (flag, getattr(before, name), getattr(after, name))
        for name, flag in TRAIN_FLAGS.items()
        if name not in CHANGEABLE_ON_RESUME and getattr(before, name) != getattr(after, name)
    ]


def ignored_on_resume(asked: TrainConfig, stored: TrainConfig) -> list[str]:
    """The options in ``asked`` that a resumed run with ``stored`` settings will not follow,
    as ``--flag value (the run has value)``. Only settings asked away from their default
    count, so a page run (defaults) resuming an older run is not told about what it never set."""
    asked_for = {flag for flag, _, _ in setting_changes(TrainConfig(), asked)}
    return [
        f"{flag} {wanted} (the run has {kept!r})"
        for flag, kept, wanted in setting_changes(stored, asked)
        if flag in asked_for
    ]
