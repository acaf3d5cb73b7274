"""Negative data augmentation (Sinha et al. 2021) for log-mel patches: real patches with their
order of events broken, or with their fine frequency detail smeared, shown to the discriminator
as *not* real music.

The discriminators trained here told genres apart by each genre's average spectrum and level
and ignored the order of events: playing a real patch backwards or shuffling its 16-frame
blocks left their genre head's accuracy at 86-87 % (``tools/gan_probe_discriminator.py``), so
nothing taught the generator rhythm. A discriminator that must call such patches fake has to
look at the order of events, and the generator has to get it right to pass.

The same discriminators rated real patches blurred over 3 mel bins as *more* real than the
patches themselves, while such a blur is what makes the judge stop hearing blues, jazz and disco
(real blues segments recognised 75 → 38 %, jazz 88 → 25 %, disco 62 → 12 %; tagged "electronic"
like the generated clips): nothing asked the generator for the partials of instruments and
voices. :func:`spectral_negatives` are real patches with that detail gone: smeared, replaced by
structureless noise of the same size (so having *some* fine detail is not enough to pass), or
frozen: the patch's average detail held over every frame, since partials that never change
(drones) would pass for "not blurred". Measured by ``tools/gan_partial_motion.py`` (the detail's
correlation 16 frames apart; real music 0.31, the shipped generator 0.37 at ψ 1): 8 000 steps on
from it against the first two kinds alone gave 0.52, the control without them 0.48, and with
the frozen kind as well 0.45.

Patches are normalised log-mels (``[batch, 1, mels, frames]``); frames are the last axis.
"""

from __future__ import annotations

import torch

BLOCK_FRAMES = 16  # ≈ 0.37 s at hop 512: a note or a beat keeps its sound, the bar loses its order
BLUR_MELS = 3  # the narrowest blur that cost the judge most of blues, jazz and disco (above)


def reverse(x: torch.Tensor) -> torch.Tensor:
    """Played backwards: every attack becomes a swell."""
    return x.flip(-1)


def shuffle_blocks(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each patch's blocks of ``BLOCK_FRAMES`` frames in a random order of its own (never the
    original order); frames past the last whole block stay where they are."""
    batch, frames = x.shape[0], x.shape[-1]
    blocks = frames // BLOCK_FRAMES
    if blocks < 2:
        return reverse(x)  # nothing to reorder: still not music's order of events
    order = torch.argsort(torch.rand(batch, blocks, generator=generator), dim=1)
    unchanged = (order == torch.arange(blocks)).all(dim=1)
    order[unchanged] = torch.roll(order[unchanged], 1, dims=1)
    within = torch.arange(BLOCK_FRAMES)
    index = (order[:, :, None] * BLOCK_FRAMES + within).flatten(1)  # [batch, blocks * BLOCK]
    index = torch.cat([index, torch.arange(blocks * BLOCK_FRAMES, frames).expand(batch, -1)], 1)
    index = index.view(batch, *([1] * (x.dim() - 2)), frames).to(x.device).expand_as(x)
    return torch.gather(x, -1, index)


def temporal_negatives(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each patch of ``x`` either reversed or block-shuffled (an even draw per patch)."""
    backwards = (torch.rand(x.shape[0], generator=generator) < 0.5).to(x.device)
    shape = (-1, *([1] * (x.dim() - 1)))
    return torch.where(backwards.view(shape), reverse(x), shuffle_blocks(x, generator))


def moving_average(x: torch.Tensor, axis: int, width: int) -> torch.Tensor:
    """A moving average over ``width`` mel bins (``axis`` -2) or frames (-1), edges repeated."""
    kernel = (width, 1) if axis == -2 else (1, width)
    half = width // 2
    padding = (0, 0, half, half) if axis == -2 else (half, half, 0, 0)
    flat = x.reshape(-1, 1, *x.shape[-2:])
    padded = torch.nn.functional.pad(flat, padding, mode="replicate")
    weights = torch.full((1, 1, *kernel), 1.0 / width, dtype=x.dtype, device=x.device)
    return torch.nn.functional.conv2d(padded, weights).reshape(x.shape)


def blur_mels(x: torch.Tensor, width: int = BLUR_MELS) -> torch.Tensor:
    """Each frame's spectrum averaged over ``width`` neighbouring mel bins, so the level and the
    broad shape stay and the partials merge."""
    return moving_average(x, -2, width)


def retexture(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The blurred patch plus random detail as large as the detail the blur took away (per
    patch): fine frequency detail of the right size and no shape."""
    smooth = blur_mels(x)
    detail_size = (x - smooth).flatten(1).std(dim=1).view(-1, *([1] * (x.dim() - 1)))
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
    return smooth + noise * detail_size


def freeze_detail(x: torch.Tensor) -> torch.Tensor:
    """The blurred patch plus its fine detail averaged over time and held in every frame: the
    same partials all through, where real notes and chords change."""
    smooth = blur_mels(x)
    return smooth + (x - smooth).mean(-1, keepdim=True)


def spectral_negatives(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each patch of ``x`` blurred over mel bins, retextured or with its detail frozen (an even
    draw per patch)."""
    kind = torch.randint(0, 3, (x.shape[0],), generator=generator).to(x.device)
    shape = (-1, *([1] * (x.dim() - 1)))
    kinds = torch.stack([blur_mels(x), retexture(x, generator), freeze_detail(x)])
    return kinds.gather(0, kind.view(1, *shape).expand(1, *x.shape))[0]
