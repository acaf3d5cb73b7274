"""A second discriminator that listens through a pretrained music tagger (``--musicnn-d W``).

Every discriminator trained here from ten clips a genre learnt a notion of genre the judge,
trained on some 200 000 songs, does not share (docs/generator.md): the average spectrum, the exact
bins of a clip's notes. This one judges patches by what the frozen musicnn backbone (front- and
mid-end, pretrained on the Million Song Dataset) hears in them: each generated patch is sent
through a differentiable sonification (:func:`audio.resonify`: the sound the page would play,
as musicnn's front-end sees it), the backbone turns it into 753 features per frame, and a small
trained head (two 1-D convolutions over time, spectral-normalised, a realness score with a
genre projection) tells it from real patches sent the same way. Pretrained features in the
discriminator are what works for GANs on little data (Kumari et al. 2022, "Ensembling
off-the-shelf models for GAN training"; Sauer et al. 2021, Projected GANs).

The real side is a bank of real patches' features computed once per training call (the backbone
is frozen, so they never change): 1 600 patches, about a minute on two cores and 450 MB. The
generator's side costs about 0.4 s a step for 8 patches (the phase and the backbone's backward
pass), so a run with it trains about four times slower (1.6 against 6 steps a second on
the 2-core VM, 2026-11-25).

The judge that scores the generator (``gan evaluate``) uses the same backbone: its agreement and
Fréchet distance may flatter a generator trained so, which is why ``gan evaluate`` and the model
card also report measures without musicnn: the ``gtzan-cnn-baseline`` classifier's agreement and
Fréchet distance, and a Fréchet distance of plain cepstral statistics.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from audio import resonify
from gan.data import PATCH_SPEC, PatchSampler, denormalise
from gan.losses import pair_halves
from gan.recordings import class_genre_ids
from genre.musicnn import MUSICNN_FRONTEND, PATCH_FRAMES, Musicnn, load_musicnn
from genre.paths import MUSICNN_BACKBONE_WEIGHTS

FEATURES = 753  # musicnn's front-end (561) and mid-end (3 × 64) channels per frame
HEAD_WIDTH = 256
BANK_BATCHES = 100  # × the run's batch size real patches in the bank
BANK_SEED = 7  # the bank's own stream: the run's random streams are left as they were
HEAD_LR = 2e-4  # the head's Adam step size (its betas are the run's)


class PretrainedHead(nn.Module):
    """Backbone features [B, 753, frames] and genres [B] → realness [B] (projection
    discriminator: a score plus the genre embedding's agreement with the pooled features)."""

    def __init__(self, n_classes: int) -> None:
        super().__init__()
        self.conv1 = spectral_norm(nn.Conv1d(FEATURES, HEAD_WIDTH, 3, padding=1))
        self.conv2 = spectral_norm(nn.Conv1d(HEAD_WIDTH, HEAD_WIDTH, 3, padding=1, stride=2))
        self.score = spectral_norm(nn.Linear(HEAD_WIDTH, 1))
        self.embed = spectral_norm(nn.Embedding(n_classes, HEAD_WIDTH))

    def forward(self, features: torch.Tensor, genres: torch.Tensor) -> torch.Tensor:
        h = F.leaky_relu(self.conv1(features), 0.2)
        h = F.leaky_relu(self.conv2(h), 0.2).mean(dim=2)
        return self.score(h).squeeze(1) + (self.embed(genres) * h).sum(dim=1)


def backbone_features(backbone: Musicnn, mel: torch.Tensor) -> torch.Tensor:
    """musicnn log-mel patches [B, 96, 187] → front- and mid-end features [B, 753, 187]."""
    return backbone.midend_features(backbone.frontend(backbone.normalise_input(mel)))


def load_frozen_backbone() -> Musicnn:
    """The shipped musicnn (MSD) backbone in eval mode, its weights frozen (the reference
    front-end: the fast one has no backward pass)."""
    backbone = load_musicnn(MUSICNN_BACKBONE_WEIGHTS)
    for parameter in backbone.parameters():
        parameter.requires_grad_(False)
    return backbone


@dataclass
class PretrainedJudge:
    """The frozen backbone and the bank of real patches' features (rebuilt, never saved)."""

    backbone: Musicnn
    bank: torch.Tensor  # [N, 753, 187] float16
    bank_genres: torch.Tensor  # [N] each bank patch's class (a genre, or a recording)
    # per genre, the mean distance between two of its real patches' styles
    # (:func:`genre_spread`), the distance :func:`spread_loss` asks of two generated ones
    spread: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    # per genre, the level of its quietest real patch (gan.levels.real_patch_floors; empty:
    # unknown, every pair counts in the spread term)
    floors: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    # the distribution term's side (:func:`mmd_loss`): each bank patch's genre id [N] (its
    # class's, gan.recordings.class_genre_ids), the bank's styles standardised dimension by
    # dimension [N, 200] (by their own mean and deviation, kept to standardise generated ones
    # alike), and the median squared distance between two of them, the kernels' scale
    bank_genre_ids: torch.Tensor = field(default_factory=lambda: torch.zeros(0, dtype=torch.long))
    styles: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    style_mean: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    style_scale: torch.Tensor = field(default_factory=lambda: torch.zeros(0))
    style_width: float = 1.0

    def hear(self, patches: torch.Tensor, seed: int = 0) -> torch.Tensor:
        """Normalised GAN patches [B, 1, 128, 128] → backbone features of their sound."""
        mel = resonify(denormalise(patches[:, 0]), PATCH_SPEC, MUSICNN_FRONTEND,
                       frames=PATCH_FRAMES, seed=seed)  # fmt: skip
        return backbone_features(self.backbone, mel)

    def to(self, device: str | torch.device) -> PretrainedJudge:
        """This judge on ``device`` (moved in place; returned for chaining)."""
        self.backbone.to(device)
        self.bank, self.bank_genres = self.bank.to(device), self.bank_genres.to(device)
        self.spread, self.floors = self.spread.to(device), self.floors.to(device)
        self.bank_genre_ids, self.styles = self.bank_genre_ids.to(device), self.styles.to(device)
        self.style_mean, self.style_scale = self.style_mean.to(device), self.style_scale.to(device)
        return self

    def standardised(self, styles: torch.Tensor) -> torch.Tensor:
        """:func:`style` vectors [B, 200] on the bank's standardised scale."""
        return (styles - self.style_mean) / self.style_scale

    def real(self, n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` features of the bank, drawn with ``generator``, and their genres."""
        index = torch.randint(len(self.bank_genres), (n,), generator=generator)
        index = index.to(self.bank.device)
        return self.bank[index].float(), self.bank_genres[index]

    @classmethod
    def build(
        cls,
        sampler: PatchSampler,
        batch_size: int,
        batches: int = BANK_BATCHES,
    ) -> PretrainedJudge:
        """The backbone and a bank of ``batches`` × ``batch_size`` real patches."""
        judge = cls(load_frozen_backbone(), torch.zeros(0), torch.zeros(0, dtype=torch.long))
        rng = torch.Generator().manual_seed(BANK_SEED)
        features, genres = [], []
        with torch.no_grad():
            for index in range(batches):
                real, labels = sampler.sample(batch_size, rng)
                features.append(judge.hear(real, seed=index).half())
                genres.append(labels)
        judge.bank, judge.bank_genres = torch.cat(features), torch.cat(genres)
        judge.bank_genre_ids = class_genre_ids(tuple(sampler.labels))[judge.bank_genres]
        with torch.no_grad():
            chunks = [style(judge.backbone, chunk) for chunk in torch.split(judge.bank, 100)]
        styles = torch.cat(chunks)
        judge.spread = genre_spread(styles, judge.bank_genres, len(sampler.labels))
        # a dimension the bank never varies in (a unit no real patch turns on; none in the
        # 1 600-patch GTZAN bank) tells nothing of spread: an infinite scale leaves it out
        deviation = styles.std(0)
        judge.style_mean = styles.mean(0)
        judge.style_scale = torch.where(deviation > 1e-4, deviation + 1e-6, torch.inf)
        judge.styles = judge.standardised(styles)
        judge.style_width = float(torch.cdist(judge.styles, judge.styles).pow(2).median())
        return judge


def style(backbone: Musicnn, features: torch.Tensor) -> torch.Tensor:
    """Backbone features [B, 753, frames] → musicnn's 200-d penultimate embedding [B, 200]:
    what the tagger makes of a whole patch (its style, mood and instruments). Measured on the
    shipped generator (2026-11-26): two of its patches of a genre differ 1.2 times as much as two
    real ones in the features' time means, but only 0.89 times in this."""
    return backbone.backend(features.float())["penultimate"]


def genre_spread(vectors: torch.Tensor, genres: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Per genre, the mean distance between two of its patches' :func:`style` ``vectors``
    [n_classes] (0 for a genre with fewer than two). Two patches of one clip count too: the bank
    does not keep which clip a patch came from, so this is a little below the distance
    between different clips' patches, which errs on asking too little spread."""
    out = torch.zeros(n_classes, device=vectors.device)
    for genre in range(n_classes):
        members = vectors[genres == genre]
        if len(members) < 2:
            continue
        distances = torch.cdist(members, members)
        pairs = torch.triu(torch.ones_like(distances, dtype=torch.bool), diagonal=1)
        out[genre] = distances[pairs].mean()
    return out


def spread_loss(
    vectors: torch.Tensor,
    genres: torch.Tensor,
    spread: torch.Tensor,
    audible: torch.Tensor | None = None,
) -> torch.Tensor:
    """How far short of real music's spread pairs of one genre's generated patches fall.

    ``vectors`` [B, d], the patches' :func:`style`, hold pairs: patch i and i + B/2 share genre
    ``genres[i]`` and differ in noise (as :func:`gan.losses.paired_genres` draws them). Each
    pair's distance, divided by its genre's real spread, falls short of 1 by some
    amount (0 once it is that far apart); the loss is the mean shortfall. Pair by pair, so a
    genre drawn too alike is not excused by another drawn far apart; and no further than real
    music's mean, since beyond it what pays is noise or silence.

    ``audible`` [B] (bool): only pairs whose two patches are both audible count
    (:func:`gan.levels.audible`). Counting a near-silent patch let a pair of one sound and one
    dropout pass as varied: on the generator shipped on 2026-11-26, 27 % of 300 patches were
    dropouts, and its audible patches were 0.79 times as far apart as real ones where all its
    patches were 0.88 times.
    """
    first, second = pair_halves(vectors)
    if len(first) == 0:
        return vectors.sum() * 0.0
    apart = (first - second).norm(dim=1)
    wanted = spread[pair_halves(genres)[0]].clamp(min=1e-6)
    shortfall = F.relu(1.0 - apart / wanted)
    if audible is None:
        return shortfall.mean()
    loud_first, loud_second = pair_halves(audible)
    counted = (loud_first & loud_second).to(shortfall.dtype)
    return (shortfall * counted).sum() / counted.sum().clamp(min=1.0)


def pretrained_d_loss(
    head: PretrainedHead,
    real: torch.Tensor,
    real_genres: torch.Tensor,
    fake: torch.Tensor,
    fake_genres: torch.Tensor,
) -> torch.Tensor:
    """Hinge loss of the head: real features above +1, generated ones below −1."""
    return (F.relu(1.0 - head(real, real_genres)).mean()
            + F.relu(1.0 + head(fake, fake_genres)).mean())  # fmt: skip


def pretrained_g_loss(
    head: PretrainedHead, fake: torch.Tensor, genres: torch.Tensor
) -> torch.Tensor:
    """The generator's hinge loss against the head: its patches should score as real."""
    return -head(fake, genres).mean()


MMD_WIDTHS = (0.25, 1.0, 4.0)  # the kernels' widths, times the bank's median squared distance
MMD_REAL = 64  # real patches each genre's generated ones are compared with, a step


def mmd_loss(
    judge: PretrainedJudge,
    fake_styles: torch.Tensor,
    fake_genre_ids: torch.Tensor,
    generator: torch.Generator,
) -> torch.Tensor:
    """The distribution term: over the genres in ``fake_genre_ids`` [B], the mean unbiased
    squared maximum mean discrepancy (Gretton et al. 2012; Gaussian kernels at
    :data:`MMD_WIDTHS`) between that genre's generated :func:`style` vectors (``fake_styles``
    [B, 200]) and :data:`MMD_REAL` of its real ones from the bank, drawn with ``generator``.

    Its gradient pulls each generated patch towards the real patches of its genre near it and
    pushes the genre's generated patches apart: they spread, but only where real music of the
    genre lies. The spread term (:func:`spread_loss`) pays for distance in any direction,
    towards other genres too. A genre with fewer than two generated patches is left out."""
    fake = judge.standardised(fake_styles)
    losses = []
    for genre in fake_genre_ids.unique():
        mine = fake[fake_genre_ids == genre]
        pool = (judge.bank_genre_ids == genre).nonzero().squeeze(1)
        if len(mine) < 2 or len(pool) < 2:
            continue
        pick = torch.randint(len(pool), (MMD_REAL,), generator=generator).to(pool.device)
        losses.append(squared_mmd(mine, judge.styles[pool[pick]], judge.style_width))
    if not losses:
        return fake_styles.sum() * 0.0
    return torch.stack(losses).mean()


def squared_mmd(x: torch.Tensor, y: torch.Tensor, width: float) -> torch.Tensor:
    """Unbiased squared MMD between samples ``x`` [n, d] and ``y`` [m, d] (n, m ≥ 2), with a
    sum of Gaussian kernels exp(−‖a − b‖² / (w · ``width``)) for w in :data:`MMD_WIDTHS`."""

    def kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        squared = torch.cdist(a, b).pow(2)
        terms = [torch.exp(-squared / (w * width)) for w in MMD_WIDTHS]
        return functools.reduce(operator.add, terms)

    n, m = len(x), len(y)
    kxx, kyy, kxy = kernel(x, x), kernel(y, y), kernel(x, y)
    within_x = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    within_y = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return within_x + within_y - 2 * kxy.mean()
