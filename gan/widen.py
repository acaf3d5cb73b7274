"""A generator made wider without changing what it draws (Net2Wider, Chen et al. 2016), so a run
can go on with more channels instead of starting afresh (``gan train --start-from OLD
--g-channels ...``, :mod:`gan.start_from`).

Each new channel of a layer copies one of its old channels: the weights that make it, its batch
norm's statistics and its per-class gain and bias. The next layer's weights reading a copied
channel are shared among its copies, so the sum is unchanged. Without noise the wider generator
draws the same patches; a little noise on the copies' incoming weights lets them drift apart
once training moves them (identical copies would get identical gradients for ever).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from gan.config import GanConfig, differs_only_in
from gan.errors import GanError
from gan.model import Ema, Generator
from gan.state import GanState, generator_groups

# the copies' incoming weights get noise of this size relative to the weights' spread: enough
# to break their symmetry, little enough that the first samples barely change
COPY_NOISE = 0.01


@dataclass(frozen=True)
class Widening:
    """For each of the generator's widths, the old channel each new channel copies."""

    sources: tuple[torch.Tensor, ...]

    @classmethod
    def draw(cls, old: tuple[int, ...], new: tuple[int, ...], seed: int = 0) -> Widening:
        """Channel j < old width keeps itself; each further one copies an old one at random."""
        rng = torch.Generator().manual_seed(seed)
        sources = tuple(
            torch.cat([torch.arange(o), torch.randint(o, (n - o,), generator=rng)])
            for o, n in zip(old, new, strict=True)
        )
        return cls(sources)

    def shares(self, layer: int) -> torch.Tensor:
        """Per new channel of ``layer``, the share of its old channel's outgoing weights."""
        source = self.sources[layer]
        return 1.0 / torch.bincount(source)[source].to(torch.float32)


def widths_asked(source: GanConfig, asked: GanConfig) -> tuple[int, ...] | None:
    """The generator widths a start from ``source`` asks for when the model options given
    differ from the source's (or from the defaults) in the generator's widths only; else None."""
    if asked == GanConfig() or asked.g_channels == source.g_channels:  # defaults: the source's
        return None
    return asked.g_channels if differs_only_in("g_channels", asked, source) else None


def check_widths(old: tuple[int, ...], new: tuple[int, ...]) -> None:
    """Refuse widths that are not a widening of ``old`` (same depth, no layer narrower)."""
    if len(new) != len(old) or any(n < o for o, n in zip(old, new, strict=True)):
        raise GanError(
            f"--g-channels {' '.join(map(str, new))} is not a widening of the generator's "
            f"{' '.join(map(str, old))}: a run can go on with a wider generator (as many "
            "layers, none narrower), not a narrower or deeper one."
        )


def widened_weights(
    weights: dict[str, torch.Tensor],
    config: GanConfig,
    widening: Widening,
    noise: float = COPY_NOISE,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """A generator's state dict (``config``'s shape) at the widths ``widening`` leads to."""
    rng = torch.Generator().manual_seed(seed)
    out = {name: value.clone() for name, value in weights.items()}
    transposed = config.upsample == "transposed"
    for layer, source in enumerate(widening.sources):
        old = config.g_channels[layer]
        # what makes this layer's channels: the projection (16 rows per channel: the 4 × 4
        # map) or the previous doubling's convolution
        if layer == 0:
            rows = (source[:, None] * 16 + torch.arange(16)).flatten()
            out["project.bias"] = out["project.bias"][rows]
            out["project.weight"] = _with_noise(out["project.weight"][rows], old * 16, noise, rng)
        else:
            name = _conv_weight(layer - 1, transposed)
            axis = 1 if transposed else 0  # ConvTranspose2d keeps [in, out, ...]
            picked = out[name].index_select(axis, source)
            out[name] = _with_noise(picked.movedim(axis, 0), old, noise, rng)
            out[name] = out[name].movedim(0, axis).contiguous()
        norm = f"norms.{layer}."
        for name in (f"{norm}norm.running_mean", f"{norm}norm.running_var"):
            out[name] = out[name][source]
        for name in (f"{norm}gain.weight", f"{norm}bias.weight"):  # [n_classes, channels]
            out[name] = out[name][:, source]
        if (name := f"{norm}from_noise.weight") in out:  # [gain rows; bias rows] from the noise
            gain_rows, bias_rows = out[name].split(old)
            out[name] = torch.cat([gain_rows[source], bias_rows[source]])
        # what reads them: the next doubling's convolution, each copy with its share
        name = _conv_weight(layer, transposed)
        axis = 0 if transposed else 1
        shares = widening.shares(layer).view([-1 if d == axis else 1 for d in range(4)])
        out[name] = (out[name].index_select(axis, source) * shares).contiguous()
    return out


def _conv_weight(layer: int, transposed: bool) -> str:
    return f"ups.{layer}.weight" if transposed else f"ups.{layer}.1.weight"


def _with_noise(
    value: torch.Tensor, n_kept: int, noise: float, rng: torch.Generator
) -> torch.Tensor:
    """``value`` with noise on its rows from ``n_kept`` on (the copies)."""
    if noise <= 0 or len(value) == n_kept:
        return value
    spread = float(value[:n_kept].std()) if value[:n_kept].numel() > 1 else 0.0
    extra = torch.randn(value[n_kept:].shape, generator=rng) * noise * spread
    value[n_kept:] += extra.to(value.dtype)
    return value


def widened_state(state: GanState, widths: tuple[int, ...], seed: int = 0) -> GanState:
    """``state`` with a generator of ``widths`` channels drawing what it drew (its averaged
    generator too, by the same copies); the generator's optimiser starts afresh (its moments
    do not fit the new weights), everything else goes on as it was."""
    model = state.config.model
    check_widths(model.g_channels, widths)
    config = replace(state.config, model=replace(model, g_channels=tuple(widths)))
    widening = Widening.draw(model.g_channels, tuple(widths), seed)
    generator = Generator(config.model)
    generator.load_state_dict(
        widened_weights(state.generator.state_dict(), model, widening, seed=seed)
    )
    ema = Ema.of(generator, decay=state.ema.decay)
    ema.model.load_state_dict(
        widened_weights(state.ema.model.state_dict(), model, widening, seed=seed)
    )
    ema.updates = state.ema.updates
    opt_g = torch.optim.Adam(generator_groups(generator, config))
    # the rest goes on as it was: discriminator, its heads, random streams, step
    widened = replace(state, config=config, generator=generator, ema=ema, opt_g=opt_g)
    widened.apply_step_sizes()
    return widened.in_layout(torch.channels_last)
