"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) for log-mel patches.

With ~100 training clips the discriminator memorises the real patches and the generator stops
learning. Applying the same random, differentiable changes to real *and* generated patches
before the discriminator sees them stops that, while the generator still learns the
un-augmented distribution (the changes are undone by nothing: D only ever compares augmented
with augmented). The changes suit spectrograms rather than photos:

- ``shift``: roll in time by up to 1/8 of the patch (music has no fixed start);
- ``slide``: the same move without the wrap-around: the frames pushed out are dropped and the
  gap is silence (the floor). Real patches are already random crops, so a roll mostly adds a
  seam to every real patch, and a discriminator that sees seams in real music cannot learn that
  block-shuffled patches (``--negatives``) are not music;
- ``cutout``: blank a random band of frames and one of mel bins to the floor (silence);
- ``gain``: lift or lower the whole patch by a little (loudness is arbitrary);
- ``pitch``: move the patch up or down by a few mel bins, about a tone or two (a genre has no
  key: without it the discriminator's genre head tells the 10 clips of a genre apart by the
  exact bins their notes sit in, and a 2-bin move drops its accuracy on real patches from
  100 % to 27–53 %);
- ``eq``: tilt and bend each patch's average spectrum by a smooth random curve of a few dB (a
  genre has no fixed mix: without it the discriminator tells genres apart mostly by their
  average spectrum and level, so the generator learns those and not the rhythm; flattening
  a real patch's average spectrum drops that head's accuracy from 87 % to 23 % while playing
  the patch backwards leaves it at 86 %).

Patches are normalised log-mels in [-1, 1] where -1 is the dB floor.
"""

from __future__ import annotations

import torch

from gan.config import AUGMENTATIONS as POLICIES
from gan.config import augment_names

SHIFT_RATIO = 0.125
CUTOUT_TIME_RATIO = 0.25
CUTOUT_FREQ_RATIO = 0.125
GAIN_RANGE = 0.15  # in normalised units (the -80…40 dB range maps to 2): ±9 dB
FLOOR = -1.0
PITCH_BINS = 4  # the most a patch moves along the mel axis, either way
EQ_RANGE = 0.12  # the most the curve lifts or lowers a bin, normalised units: ±7 dB
EQ_POINTS = 5  # the curve's control points across the mel axis: broad bands, not notes


def parse_policy(text: str) -> tuple[str, ...]:
    """``"shift,cutout"`` → ("shift", "cutout"); an empty string turns augmentation off."""
    names = augment_names(text)
    unknown = [name for name in names if name not in POLICIES]
    if unknown:
        raise ValueError(f"unknown augmentation {', '.join(unknown)}; use {', '.join(POLICIES)}")
    return names


def _time_sources(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per patch, the frame each frame comes from after a random move of up to 1/8 of the
    frames, shaped to broadcast over ``x``'s middle axes: [B, 1…, frames]. Out of range where
    the move left a gap; ``shift`` wraps those round, ``slide`` fills them with the floor."""
    batch, frames = x.shape[0], x.shape[-1]
    most = max(1, int(frames * SHIFT_RATIO))
    offsets = torch.randint(-most, most + 1, (batch,), generator=generator)
    source = torch.arange(frames)[None, :] - offsets[:, None]  # [B, frames]
    return source.view(batch, *([1] * (x.dim() - 2)), frames).to(x.device)


def shift(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-patch circular shift in time (the last axis)."""
    index = _time_sources(x, generator) % x.shape[-1]
    return torch.gather(x, -1, index.expand_as(x))


def slide(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-patch move in time by up to 1/8 of the frames; the gap it leaves is the floor."""
    source, frames = _time_sources(x, generator), x.shape[-1]
    moved = torch.gather(x, -1, source.clamp(0, frames - 1).expand_as(x))
    return torch.where((source >= 0) & (source < frames), moved, torch.full_like(x, FLOOR))


def cutout(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-patch: one band of frames and one band of mel bins set to the floor."""
    batch, bins, frames = x.shape[0], x.shape[-2], x.shape[-1]
    keep = torch.ones_like(x)
    width, height = max(1, int(frames * CUTOUT_TIME_RATIO)), max(1, int(bins * CUTOUT_FREQ_RATIO))
    starts_t = torch.randint(0, frames - width + 1, (batch,), generator=generator)
    starts_f = torch.randint(0, bins - height + 1, (batch,), generator=generator)
    for i in range(batch):
        keep[i, ..., starts_t[i] : starts_t[i] + width] = 0.0
        keep[i, ..., starts_f[i] : starts_f[i] + height, :] = 0.0
    return x * keep + FLOOR * (1.0 - keep)


def gain(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-patch level change (in the log domain: an offset)."""
    offset = (torch.rand(x.shape[0], generator=generator) * 2 - 1) * GAIN_RANGE
    return x + offset.view(-1, *([1] * (x.dim() - 1))).to(x.device)


def pitch(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-patch move along the mel axis by up to ``PITCH_BINS``; the edge bin fills the gap
    (no wrap-around: the top of the spectrum never lands at the bottom)."""
    batch, bins = x.shape[0], x.shape[-2]
    offsets = torch.randint(-PITCH_BINS, PITCH_BINS + 1, (batch,), generator=generator)
    index = (torch.arange(bins)[None, :] - offsets[:, None]).clamp(0, bins - 1)  # [B, bins]
    index = index.view(batch, *([1] * (x.dim() - 3)), bins, 1).to(x.device).expand_as(x)
    return torch.gather(x, -2, index)


def eq(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Per-patch smooth change of the spectrum's shape: ``EQ_POINTS`` random offsets of at most
    ``EQ_RANGE`` spread evenly over the mel axis, joined by straight lines, added to every frame."""
    batch, bins = x.shape[0], x.shape[-2]
    points = (torch.rand(batch, 1, EQ_POINTS, generator=generator) * 2 - 1) * EQ_RANGE
    curve = torch.nn.functional.interpolate(points, size=bins, mode="linear", align_corners=True)
    return x + curve.view(batch, *([1] * (x.dim() - 3)), bins, 1).to(x.device, x.dtype)


_APPLY = {"shift": shift, "slide": slide, "cutout": cutout, "gain": gain, "pitch": pitch, "eq": eq}


def augment(x: torch.Tensor, policy: tuple[str, ...], generator: torch.Generator) -> torch.Tensor:
    """``x`` with every change of ``policy`` applied (each patch its own random draw)."""
    for name in policy:
        x = _APPLY[name](x, generator)
    return x
