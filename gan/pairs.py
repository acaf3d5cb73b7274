"""The pair discriminator (``gan train --pair-d``): two patches of one genre judged together.

A discriminator that sees one patch at a time cannot tell a generator that plays one sound
per genre from one that plays many: each patch may look real. This head reads the main
discriminator's pooled features of two patches of one genre, real pairs from two different
clips against generated pairs from two different noises, and judges the pair by how its two
patches differ (PacGAN, Lin et al. 2018; minibatch discrimination, Salimans et al. 2016).
Unlike a spread term, which asks for a distance and can be paid with any sound, it asks the
generator's pairs to differ *as real pairs do*, judged by the same network that judges each
patch as real or not.

The pairs are the batch's halves: patch i and i + B/2 (:func:`gan.losses.paired_genres` for
generated patches, ``PatchSampler.sample(paired=True)`` for real ones).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from gan.losses import pair_halves

PAIR_WIDTH = 128  # the head's hidden width: small beside the 256 pooled features it reads


class PairHead(nn.Module):
    """(pooled features of patches a and b [P, C], their genre [P]) → the pair's realness [P];
    symmetric in a and b."""

    def __init__(self, channels: int, n_classes: int) -> None:
        super().__init__()
        self.hidden = spectral_norm(nn.Linear(channels, PAIR_WIDTH))
        self.score = spectral_norm(nn.Linear(PAIR_WIDTH, 1))
        self.embed = spectral_norm(nn.Embedding(n_classes, PAIR_WIDTH))

    def forward(self, a: torch.Tensor, b: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.hidden((a - b).abs()), 0.2)
        return self.score(h).squeeze(1) + (self.embed(y) * h).sum(dim=1)


def halves(pooled: torch.Tensor, genres: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The pairs of a paired batch: (first halves' features, second halves', their genres)."""
    first, second = pair_halves(pooled)
    return first, second, genres[: len(first)]


def pair_d_loss(
    head: PairHead,
    real: torch.Tensor,
    real_genres: torch.Tensor,
    fake: torch.Tensor,
    fake_genres: torch.Tensor,
) -> torch.Tensor:
    """Hinge loss of the head on paired batches of pooled features (0 for fewer than 2 each)."""
    if real.shape[0] < 2 or fake.shape[0] < 2:
        return torch.zeros((), device=real.device)
    real_scores = head(*halves(real, real_genres))
    fake_scores = head(*halves(fake, fake_genres))
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def pair_g_loss(head: PairHead, fake: torch.Tensor, fake_genres: torch.Tensor) -> torch.Tensor:
    """The generator's side: its pairs should be judged real (0 for a batch under 2)."""
    if fake.shape[0] < 2:
        return torch.zeros((), device=fake.device)
    return -head(*halves(fake, fake_genres)).mean()
