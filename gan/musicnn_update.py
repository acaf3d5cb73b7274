"""One training step's updates through the musicnn discriminator (``--musicnn-d W``): its head
learns real from generated patches as the frozen backbone hears them, then the generator learns
to pass it, with the optional spread (``--musicnn-diversity``) or distribution
(``--musicnn-mmd``) term measured in the same hearing (:mod:`gan.pretrained_judge`)."""

from __future__ import annotations

import torch

from gan.levels import audible
from gan.losses import paired_genres
from gan.pretrained_judge import (
    PretrainedJudge,
    mmd_loss,
    pretrained_d_loss,
    pretrained_g_loss,
    spread_loss,
    style,
)
from gan.recordings import two_genre_classes
from gan.state import GanState


def musicnn_step(state: GanState, judge: PretrainedJudge, n: int) -> dict[str, float]:
    """The musicnn discriminator's head learns real from ``n`` new generated patches, as they
    sound through the frozen backbone; then the generator learns to pass it (weight
    ``musicnn_weight``). A second generator update, so each term keeps its own step size."""
    head = state.musicnn_head
    if head is None or n < 1:
        return {}
    optimiser = state.extra_heads["musicnn"].optimiser
    g, config = state.generator, state.config
    device = state.device
    genres = torch.randint(config.model.n_classes, (n,), generator=state.noise_rng).to(device)
    if config.musicnn_mmd > 0:
        # several patches of a genre for its discrepancy. Drawn after the uniform classes
        # above, as the runs that trained this term drew them, so their random streams hold.
        genres = two_genre_classes(state.class_genres, n, state.noise_rng).to(device)
    if config.musicnn_diversity > 0:
        genres = paired_genres(genres)  # pairs of one genre, for the spread term
    z = torch.randn(n, config.model.z_dim, generator=state.noise_rng).to(device)
    fake = g(z, genres)
    heard = judge.hear(fake, seed=state.step)
    real, real_genres = judge.real(n, state.data_rng)
    rows, real_rows = state.musicnn_classes(genres), state.musicnn_classes(real_genres)
    head.requires_grad_(True)
    loss_d = pretrained_d_loss(head, real, real_rows, heard.detach(), rows)
    optimiser.zero_grad(set_to_none=True)
    loss_d.backward()
    optimiser.step()
    head.requires_grad_(False)  # the generator's update needs no head gradients
    loss_g = pretrained_g_loss(head, heard, rows)
    terms = config.musicnn_weight * loss_g
    out = {"musicnn_d": float(loss_d.detach()), "musicnn_g": float(loss_g.detach())}
    if config.musicnn_diversity > 0:
        loud = audible(fake.detach(), genres, judge.floors) if len(judge.floors) else None
        spread = spread_loss(style(judge.backbone, heard), genres, judge.spread, loud)
        terms = terms + config.musicnn_diversity * spread
        out["musicnn_spread"] = float(spread.detach())
    if config.musicnn_mmd > 0:
        discrepancy = mmd_loss(judge, style(judge.backbone, heard), state.class_genres[genres],
                               state.data_rng)  # fmt: skip
        terms = terms + config.musicnn_mmd * discrepancy
        out["musicnn_mmd"] = float(discrepancy.detach())
    state.opt_g.zero_grad(set_to_none=True)
    terms.backward()
    state.opt_g.step()
    head.requires_grad_(True)
    return out
