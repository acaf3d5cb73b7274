"""The regularisers of the limited-data recipe, beside the hinge losses of :mod:`gan.model`:
the R1 penalty on real patches and the (optionally capped) mode-seeking term."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gan.model import Discriminator, Judgement


def r1_penalty(
    d: Discriminator, real: torch.Tensor, genres: torch.Tensor, gamma: float
) -> torch.Tensor:
    """γ/2 · E‖∇ₓ D(x)‖² on real patches (Mescheder et al. 2018): keeps the discriminator
    smooth where the data is, which steadies training on little data."""
    real = real.detach().requires_grad_(True)
    score = d.score_and_classify(real, genres)[0].sum()
    (grad,) = torch.autograd.grad(score, real, create_graph=True)
    return 0.5 * gamma * grad.pow(2).flatten(1).sum(1).mean()


def paired_genres(genres: torch.Tensor) -> torch.Tensor:
    """The batch's genres with its second half a copy of its first: generated patch i and
    i + B/2 share a genre (and differ in noise), for :func:`mode_seeking_loss`."""
    half = genres.shape[0] // 2
    return torch.cat([genres[:half], genres[:half], genres[2 * half :]])


def pair_halves(batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The two sides of a batch paired as :func:`paired_genres` pairs it: items 0 … B/2 − 1
    and their partners B/2 … 2·(B/2) − 1 (an odd last item has none)."""
    half = batch.shape[0] // 2
    return batch[:half], batch[half : 2 * half]


def mode_seeking_loss(fake: torch.Tensor, z: torch.Tensor, cap: float = 0.0) -> torch.Tensor:
    """1 / mean(|G(z₁) − G(z₂)| / |z₁ − z₂|) over the pairs of :func:`paired_genres`: small when
    two noises of one genre give different patches (Mao et al. 2019, MSGAN).

    ``cap`` > 0 clamps each pair's distance ratio there (the τ of DSGAN, Yang et al. 2019): a
    pair already that far apart earns nothing more. Uncapped, the cheapest way to be "different"
    was one patch of sound and one of near silence, and 18 % of the generator's clips became
    such dropouts; capped near how far two real patches of a genre lie apart, variety is
    rewarded only up to what real music has.
    """
    fake_a, fake_b = pair_halves(fake)
    z_a, z_b = pair_halves(z)
    apart = (fake_a - fake_b).abs().flatten(1).mean(1)
    noise_apart = (z_a - z_b).abs().mean(1)
    ratio = apart / noise_apart
    if cap > 0:
        ratio = ratio.clamp(max=cap)
    return 1.0 / (ratio.mean() + 1e-5)


def _cell_genres(genres: torch.Tensor, score_map: torch.Tensor) -> torch.Tensor:
    """Each patch's genre repeated for every cell of a [B, H, W] map."""
    return genres[:, None, None].expand_as(score_map)


def local_d_loss(judgement: Judgement, genres: torch.Tensor, n_fake: int) -> torch.Tensor:
    """The local head's loss for the discriminator (0 without one): hinge cell by cell, real
    patches (the first ``len(genres)``) against the ``n_fake`` generated ones after them, and
    the genre of every cell of the real ones. Negatives are judged by the whole patch only."""
    if judgement.local_score is None or judgement.local_logits is None:
        return torch.zeros(())
    n_real = genres.shape[0]
    real_map, fake_map = (
        judgement.local_score[:n_real],
        judgement.local_score[n_real : n_real + n_fake],
    )
    hinge = torch.relu(1.0 - real_map).mean() + torch.relu(1.0 + fake_map).mean()
    genre = F.cross_entropy(judgement.local_logits[:n_real], _cell_genres(genres, real_map))
    return hinge + genre


def local_g_loss(judgement: Judgement, genres: torch.Tensor) -> torch.Tensor:
    """The local head's loss for the generator (0 without one): every cell of its patches
    should look real and sound like the genre asked for."""
    if judgement.local_score is None or judgement.local_logits is None:
        return torch.zeros(())
    fake_map = judgement.local_score
    return -fake_map.mean() + F.cross_entropy(
        judgement.local_logits, _cell_genres(genres, fake_map)
    )
