"""A generator grown so the noise enters every layer (``GanConfig.noise_into = "every"``) without
changing what it draws, so a run can go on with it instead of starting afresh (``gan train
--start-from OLD --noise-into every``, :mod:`gan.start_from`).

Each layer's conditional batch norm gets a linear map from the noise to a shift of its gain and
bias (BigGAN's hierarchical latent), initialised to zero: the grown generator draws exactly what
the old one drew, and training then decides how much each layer follows the noise. Why: in the
old generator the noise enters the first projection only, and two clips of one recording come out
much closer than two excerpts of one real clip (docs/generator.md).
"""

from __future__ import annotations

from dataclasses import replace

import torch

from gan.config import GanConfig, differs_only_in
from gan.model import Ema, Generator
from gan.state import GanState, generator_groups


def noise_growth_asked(source: GanConfig, asked: GanConfig) -> bool:
    """Whether the model options given ask a start from ``source`` (a generator whose noise
    enters its first layer only) for one whose noise enters every layer, the shape otherwise
    the source's (or the defaults, which mean "the source's")."""
    return (source.noise_into == "first" and asked.noise_into == "every"
            and differs_only_in("noise_into", asked, source))  # fmt: skip


def with_noise_in_every_layer(state: GanState) -> GanState:
    """``state`` with a generator whose noise also sets every layer's gain and bias, drawing
    exactly what it drew (its averaged generator too). The generator's optimiser keeps each old
    weight's moments (the new maps' start afresh); everything else goes on as it was."""
    config = replace(state.config, model=replace(state.config.model, noise_into="every"))
    generator = Generator(config.model)
    _load_grown(generator, state.generator)
    ema = Ema.of(generator, decay=state.ema.decay)
    _load_grown(ema.model, state.ema.model)
    ema.updates = state.ema.updates
    opt_g = torch.optim.Adam(generator_groups(generator, config))
    new_weights = dict(generator.named_parameters())
    for name, weight in state.generator.named_parameters():
        if weight in state.opt_g.state:
            opt_g.state[new_weights[name]] = {
                key: value.clone() if torch.is_tensor(value) else value
                for key, value in state.opt_g.state[weight].items()
            }
    # the rest goes on as it was: discriminator, its heads, random streams, step
    grown = replace(state, config=config, generator=generator, ema=ema, opt_g=opt_g)
    grown.apply_step_sizes()
    return grown.in_layout(torch.channels_last)


def _load_grown(grown: Generator, old: Generator) -> None:
    """The old generator's weights into the grown one, whose new maps stay at zero."""
    missing, unexpected = grown.load_state_dict(old.state_dict(), strict=False)
    if unexpected or any(".from_noise." not in name for name in missing):
        raise ValueError(f"not a generator to grow: {missing or unexpected}")
