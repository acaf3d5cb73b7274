"""``python -m gan train``'s training and model settings, one option per :class:`TrainConfig`
and :class:`GanConfig` field, and the config read back from them.

Each flag comes from ``TRAIN_FLAGS`` / ``MODEL_FLAGS`` and each default from the config, so a
model card's reproduce command (``training_options``) cannot drift from the parser.
"""

from __future__ import annotations

import argparse
from typing import Any

from gan import cli_args
from gan.config import (
    AUGMENTATIONS,
    AUX_LEVELS,
    CONDITIONS,
    MODEL_FLAGS,
    NOISE_INTO,
    TRAIN_FLAGS,
    UPSAMPLING,
    GanConfig,
    TrainConfig,
)
from gan.errors import GanError

TRAIN_DEFAULTS = TrainConfig()  # the one source of the training defaults
MODEL_DEFAULTS = GanConfig()
MAX_STEPS = 10_000_000
MAX_BATCH = 512  # a batch of 512 patches already needs several GB with the default model
MAX_CHANNELS = 1024


def add_config_options(p: argparse.ArgumentParser) -> None:
    """One option per training and model setting, with the config's default."""
    d, m = TRAIN_DEFAULTS, MODEL_DEFAULTS
    count = cli_args.int_in(1, MAX_STEPS)
    channels = cli_args.int_in(1, MAX_CHANNELS)
    rate = cli_args.float_in(0.0, 1.0, low_open=True)

    def option(name: str, **kwargs: Any) -> None:
        flags, defaults = (TRAIN_FLAGS, d) if name in TRAIN_FLAGS else (MODEL_FLAGS, m)
        default, flag = getattr(defaults, name), flags[name]
        if "choices" not in kwargs:  # help names the value after the flag, not the field
            kwargs["metavar"] = flag.lstrip("-").replace("-", "_").upper()
        p.add_argument(flag, dest=name,
                       default=list(default) if isinstance(default, tuple) else default,
                       **kwargs)  # fmt: skip

    option("steps", type=count)
    option("batch_size", type=cli_args.int_in(1, MAX_BATCH))
    option("lr_g", type=rate)
    option("lr_d", type=rate)
    option("ema_decay", type=cli_args.float_in(0.0, 0.9999))
    option("aux_weight", type=cli_args.float_in(0.0, 100.0), help="AC-GAN genre loss weight")
    option("checkpoint_every", type=count,
           help="save every N steps (the first save comes after a few steps)")  # fmt: skip
    option("checkpoint_every_s", type=cli_args.float_in(1.0, 86400.0),
           help="and at least every S seconds")  # fmt: skip
    option("seed", type=cli_args.seed)
    option("augment", help=f"augmentations shown to the discriminator, comma-separated: "
           f"{', '.join(AUGMENTATIONS)} (default: {d.augment}; \"\" for none)")  # fmt: skip
    option("r1_gamma", type=cli_args.float_in(0.0, 1000.0),
           help=f"R1 penalty weight on real patches (default: {d.r1_gamma}; 0: off)")  # fmt: skip
    option("r1_every", type=count, help="apply the R1 penalty every N steps (lazy R1)")
    option("mode_seeking", type=cli_args.float_in(0.0, 100.0),
           help="weight of the mode-seeking term: two noises of one genre should sound "
           f"different (default: {d.mode_seeking}; 0: off)")  # fmt: skip
    option("mode_seeking_cap", type=cli_args.float_in(0.0, 100.0),
           help="stop rewarding a pair of patches once they are this far apart (about "
           "0.23: as far as two real patches of a genre; default: "
           f"{d.mode_seeking_cap}, uncapped)")  # fmt: skip
    option("negatives", type=cli_args.float_in(0.0, 100.0),
           help="weight of real patches played backwards or block-shuffled, shown to the "
           f"discriminator as fake so it judges the order of events (default: {d.negatives}; "
           "0: off)")  # fmt: skip
    option("spectral_negatives", type=cli_args.float_in(0.0, 100.0),
           help="weight of real patches blurred over 3 mel bins, with their fine detail "
           "replaced by noise or frozen in time, shown to the discriminator as fake so it asks "
           "for the changing partials of instruments and voices (default: "
           f"{d.spectral_negatives}; 0: off)")  # fmt: skip
    option("local_weight", type=cli_args.float_in(0.0, 100.0),
           help="weight of a second discriminator head that judges every half second and "
           "half octave on its own, real or generated and which genre, so the generator must "
           f"get the detail right everywhere (default: {d.local_weight}; 0: off)")  # fmt: skip
    option("musicnn_weight", type=cli_args.float_in(0.0, 100.0),
           help="weight of a second discriminator that hears each patch as it will sound, "
           "through the pretrained musicnn tagger (frozen), so a genre is asked for as "
           "music heard widely sounds; about 4x slower "
           f"(default: {d.musicnn_weight}; 0: off)")  # fmt: skip
    option("musicnn_diversity", type=cli_args.float_in(0.0, 100.0),
           help="with --musicnn-d: weight of a term that asks two patches of one genre to "
           "sound as different to musicnn as two real patches of it do "
           f"(default: {d.musicnn_diversity}; 0: off)")  # fmt: skip
    option("musicnn_mmd", type=cli_args.float_in(0.0, 1000.0),
           help="with --musicnn-d: weight of a term that asks each genre's patches to be "
           "spread, in musicnn's embedding, as its real patches are (maximum mean discrepancy) "
           f"(default: {d.musicnn_mmd}; 0: off)")  # fmt: skip
    option("level_guard", type=cli_args.float_in(0.0, 100.0),
           help="weight of the level guard: a generated patch quieter than the quietest real "
           "patch of its genre pays for every 10 dB it is short, so the generator stops "
           "answering some noises with near silence "
           f"(default: {d.level_guard}; 0: off)")  # fmt: skip
    option("pair_weight", type=cli_args.float_in(0.0, 100.0),
           help="weight of a discriminator head that judges two patches of one genre "
           "together (two real clips against two noises), so a genre's patches must differ "
           f"from each other as real ones do (default: {d.pair_weight}; 0: off)")  # fmt: skip
    option("condition", choices=CONDITIONS,
           help="what one class of the generator is: a genre, or one training recording "
           "(played as a genre: each clip picks one of that genre's recordings; with "
           "--start-from a genre generator its rows are copied to its genre's recordings) "
           f"(default: {d.condition})")  # fmt: skip
    option("table_lr_scale", type=cli_args.float_in(0.0, 1000.0, low_open=True),
           help="the generator's class tables learn at this many times --lr-g (one class per "
           f"recording sees a tenth of the batches; default: {d.table_lr_scale})")  # fmt: skip
    option("aux_g_level", choices=AUX_LEVELS,
           help="with --condition recording: the generator's AC-GAN term asks each patch to be "
           "named as its recording (class) or only as its genre (genre) "
           f"(default: {d.aux_g_level})")  # fmt: skip
    option("musicnn_d_level", choices=AUX_LEVELS,
           help="with --condition recording and --musicnn-d: the musicnn discriminator judges "
           "each patch against real patches of its recording (class) or of its genre (genre) "
           f"(default: {d.musicnn_d_level})")  # fmt: skip
    option("d_level", choices=AUX_LEVELS,
           help="what the main discriminator's projection judges realness under: the class "
           f"or its genre (default: {d.d_level})")  # fmt: skip
    option("snapshot_every", type=cli_args.int_in(0, MAX_STEPS),
           help="keep the generator every N steps for `gan pick` (0: none)")  # fmt: skip
    option("z_dim", type=channels)
    option("g_channels", type=channels, nargs="+",
           help="the generator's widths, one per doubling; with --start-from, wider "
                "ones than the source's widen its generator (each new channel copies an "
                "old one)")  # fmt: skip
    option("d_channels", type=channels, nargs="+")
    option("upsample", choices=UPSAMPLING,
           help="how the generator doubles its map (transposed: the shipped generator's "
                "DCGAN layers)")  # fmt: skip
    option("noise_into", choices=NOISE_INTO,
           help="where the noise enters the generator: its first layer, or every layer's "
                "gain and bias as well")  # fmt: skip


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The run's settings from its parsed options."""
    try:
        model = GanConfig.from_dict({name: getattr(args, name) for name in MODEL_FLAGS})
    except ValueError as err:
        raise GanError(f"Invalid model shape: {err}.") from err
    try:
        return TrainConfig(**{name: getattr(args, name) for name in TRAIN_FLAGS}, model=model)
    except ValueError as err:
        raise GanError(f"Invalid training settings: {err}.") from err
