"""A conditional DCGAN for 128 × 128 log-mel patches, small enough to train on two CPU cores.

Generator: noise ⊕ genre embedding → 4 × 4 map → five doublings (nearest-neighbour upsampling
and a 3 × 3 convolution; transposed convolutions in older bundles), each followed by
class-conditional batch norm (the genre sets every layer's gain and bias; with ``noise_into``
"every" the noise shifts them too) → tanh.
Discriminator: spectral-normalised stride-2 convolutions → global sum pooling → an unconditional
score plus a projection on the genre embedding (Miyato & Koyama 2018). Trained with the hinge
loss; an exponential moving average (EMA) of the generator's weights is what gets shipped.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

from gan.config import GanConfig  # defined there (torch-free); imported from here too


def lookup(table: nn.Embedding, y: torch.Tensor) -> torch.Tensor:
    """Rows of ``table`` for genre ids [B], or their blend for genre weights [B, n_classes]
    (each row summing to 1): a blend of two genres is what a genre morph walks through."""
    if y.is_floating_point():
        return y.to(table.weight.dtype) @ table.weight
    return table(y)


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm whose gain and bias are looked up per genre (or blended, see ``lookup``)."""

    def __init__(self, channels: int, n_classes: int, z_dim: int = 0) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Embedding(n_classes, channels)
        self.bias = nn.Embedding(n_classes, channels)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)
        # With z_dim, the noise also shifts the gain and bias; zero at first, so a generator
        # grown from one without it draws exactly what that one drew.
        self.from_noise = nn.Linear(z_dim, 2 * channels, bias=False) if z_dim else None
        if self.from_noise is not None:
            nn.init.zeros_(self.from_noise.weight)

    def forward(
        self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        gain, bias = lookup(self.gain, y), lookup(self.bias, y)
        if self.from_noise is not None and z is not None:
            gain_shift, bias_shift = self.from_noise(z).chunk(2, dim=1)
            gain, bias = gain + gain_shift, bias + bias_shift
        return self.norm(x) * gain[:, :, None, None] + bias[:, :, None, None]


def upsampling_layer(kind: str, cin: int, cout: int) -> nn.Module:
    """One doubling of the generator's map (see ``GanConfig.upsample``); only the output layer
    has a bias (the others are followed by batch norm)."""
    bias = cout == 1
    if kind == "transposed":
        return nn.ConvTranspose2d(cin, cout, 4, stride=2, padding=1, bias=bias)
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1, bias=bias)
    )


class Generator(nn.Module):
    """(z [B, z_dim], genre [B] or genre weights [B, n_classes]) → normalised log-mel
    [B, 1, n_mels, frames] in [-1, 1]."""

    def __init__(self, config: GanConfig) -> None:
        super().__init__()
        self.config = config
        c = config.g_channels
        self.embed = nn.Embedding(config.n_classes, config.embed_dim)
        self.project = nn.Linear(config.z_dim + config.embed_dim, c[0] * 16)
        every = config.z_dim if config.noise_into == "every" else 0
        self.norms = nn.ModuleList(ConditionalBatchNorm2d(w, config.n_classes, every) for w in c)
        outs = (*c[1:], 1)
        self.ups = nn.ModuleList(
            upsampling_layer(config.upsample, cin, cout) for cin, cout in zip(c, outs, strict=True)
        )

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x = self.project(torch.cat([z, lookup(self.embed, y)], dim=1))
        x = x.view(-1, self.config.g_channels[0], 4, 4)
        for norm, up in zip(self.norms, self.ups, strict=True):
            x = up(F.relu(norm(x, y, z)))
        return torch.tanh(x)


# The local head judges the map after this many of the discriminator's blocks: each of its
# cells sees about 22 mel bins × 22 frames (half a second), too little to tell a genre by its
# average spectrum, enough to see whether partials and onsets look like real ones.
LOCAL_DEPTH = 3
LOCAL_PREFIX = "local."  # its weights' names in a discriminator's state dict
# the discriminator's heads a run may turn on or off part-way (--local-d, --aux-weight 0): their
# attribute names, which prefix their weights' names
OPTIONAL_D_HEADS = ("local", "classify")


class LocalHead(nn.Module):
    """Per-cell realness (with a projection on the genre) and genre logits on a feature map."""

    def __init__(self, channels: int, n_classes: int) -> None:
        super().__init__()
        self.score = spectral_norm(nn.Conv2d(channels, 1, 1))
        self.embed = spectral_norm(nn.Embedding(n_classes, channels))
        self.classify = nn.Conv2d(channels, n_classes, 1)

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Features [B, C, H, W] → realness [B, H, W] and genre logits [B, n_classes, H, W]."""
        projection = (self.embed(y)[:, :, None, None] * h).sum(dim=1)
        # The genre logits read each cell's features normalised over the channels: this early
        # in a spectral-normalised network they are small, and a plain linear read of them
        # learnt nothing in hundreds of steps (the realness, kept Lipschitz, needs no help).
        cells = F.layer_norm(h.permute(0, 2, 3, 1), (h.shape[1],), eps=1e-3).permute(0, 3, 1, 2)
        return self.score(h).squeeze(1) + projection, self.classify(cells)


def has_local_head(weights: dict[str, torch.Tensor]) -> bool:
    """Whether a discriminator's saved weights include a local head."""
    return any(key.startswith(LOCAL_PREFIX) for key in weights)


@dataclass
class Judgement:
    """What the discriminator says of a batch: the whole patch's realness [B] and genre logits
    [B, n_classes] (None without the auxiliary head), and with a local head the same per cell
    ([B, H, W] and [B, n_classes, H, W]; else None)."""

    score: torch.Tensor
    logits: torch.Tensor | None
    local_score: torch.Tensor | None = None
    local_logits: torch.Tensor | None = None
    # the pooled features [B, C] the heads read (the pair discriminator's input, gan.pairs)
    pooled: torch.Tensor | None = None


class Discriminator(nn.Module):
    """(log-mel [B, 1, n_mels, frames], genre [B]) → realness score [B]."""

    def __init__(
        self,
        config: GanConfig,
        auxiliary: bool = True,
        local: bool = False,
        projection_of: torch.Tensor | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        # each class's row in the projection table (None: its own). A buffer so it moves with
        # the network instead of being copied to the device every forward; not saved with the
        # weights (it follows from the labels).
        self.projection_of: torch.Tensor | None
        self.register_buffer("projection_of", projection_of, persistent=False)
        layers: list[nn.Module] = []
        # A second input channel tells every filter its mel position: unlike a photo, a
        # spectrogram is not shift-invariant along the frequency axis.
        previous = 2
        for width in config.d_channels:
            layers += [
                spectral_norm(nn.Conv2d(previous, width, 4, stride=2, padding=1)),
                nn.LeakyReLU(0.2),
            ]
            previous = width
        self.features = nn.Sequential(*layers)
        self.score = spectral_norm(nn.Linear(previous, 1))
        rows = config.n_classes if projection_of is None else int(projection_of.max()) + 1
        self.embed = spectral_norm(nn.Embedding(rows, previous))
        # AC-GAN head: names the genre of a patch. Trained on real patches only, it gives the
        # generator a direct "sound more like <genre>" signal early in training.
        self.classify = nn.Linear(previous, config.n_classes) if auxiliary else None
        # Optional (TrainConfig.local_weight): realness and genre judged cell by cell on an
        # early map, so the generator is asked for real-looking detail everywhere, not only
        # for a genre's overall sound.
        local_width = config.d_channels[LOCAL_DEPTH - 1]
        self.local = LocalHead(local_width, config.n_classes) if local else None
        ramp = torch.linspace(-1.0, 1.0, config.n_mels)[:, None].expand(-1, config.frames)
        self.register_buffer("mel_position", ramp.clone(), persistent=False)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.score_and_classify(x, y)[0]

    def score_and_classify(
        self, x: torch.Tensor, y: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Realness score [B] and, with the auxiliary head, genre logits [B, n_classes]."""
        judgement = self.judge(x, y, local=False)
        return judgement.score, judgement.logits

    def judge(self, x: torch.Tensor, y: torch.Tensor, local: bool = True) -> Judgement:
        """Every head's verdict from one pass (the local head's only with ``local``)."""
        h = torch.cat([x, self.mel_position.expand(x.shape[0], 1, -1, -1)], dim=1)
        local_score = local_logits = None
        for index, layer in enumerate(self.features):
            h = layer(h)
            if local and self.local is not None and index == 2 * LOCAL_DEPTH - 1:
                local_score, local_logits = self.local(h, y)
        pooled = h.sum(dim=(2, 3))
        rows = y if self.projection_of is None else self.projection_of[y]
        score = self.score(pooled).squeeze(1) + (self.embed(rows) * pooled).sum(dim=1)
        logits = self.classify(pooled) if self.classify is not None else None
        return Judgement(score, logits, local_score, local_logits, pooled)


def hinge_d_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    return F.relu(1.0 - real_scores).mean() + F.relu(1.0 + fake_scores).mean()


def hinge_g_loss(fake_scores: torch.Tensor) -> torch.Tensor:
    return -fake_scores.mean()


@dataclass
class Ema:
    """Exponential moving average of the generator's weights (buffers are copied as they are)."""

    model: nn.Module
    decay: float = 0.999
    warmup: int = 100  # early on the average follows closely, so it is not stuck at init
    updates: int = 0

    @classmethod
    def of(cls, generator: nn.Module, decay: float = 0.999) -> Ema:
        shadow = copy.deepcopy(generator).eval()
        for p in shadow.parameters():
            p.requires_grad_(False)
        return cls(model=shadow, decay=decay)

    @torch.no_grad()
    def update(self, generator: nn.Module) -> None:
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (self.warmup + self.updates))
        for shadow, live in zip(self.model.parameters(), generator.parameters(), strict=True):
            shadow.lerp_(live.detach(), 1.0 - decay)
        for shadow, live in zip(self.model.buffers(), generator.buffers(), strict=True):
            shadow.copy_(live)


@torch.no_grad()
def recalibrate_batch_norm(
    generator: Generator, batches: int = 32, batch_size: int = 64, seed: int = 0
) -> None:
    """Re-estimate batch-norm statistics for the (EMA) weights ("standing statistics").

    The running statistics were gathered with the live weights; the averaged weights produce
    slightly different activations, so they are measured again on fresh genre-balanced noise.
    """
    rng = torch.Generator().manual_seed(seed)
    norms = [m for m in generator.modules() if isinstance(m, nn.BatchNorm2d)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over all batches
    generator.train()
    n_classes = generator.config.n_classes
    for index in range(batches):
        z = torch.randn(batch_size, generator.config.z_dim, generator=rng)
        # the classes in turn across batches, so that with more classes than a batch holds
        # (one per recording, gan.recordings) every class is measured, not only the first few
        y = (torch.arange(batch_size) + index * batch_size) % n_classes
        generator(z, y)
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum
    generator.eval()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
