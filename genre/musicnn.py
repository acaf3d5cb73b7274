"""musicnn (Pons & Serra, 2019) in PyTorch: a music-tagging CNN pretrained on a large collection.

The network eats 3-s log-mel patches (16 kHz, n_fft 512, hop 256, 96 mel bands,
``log10(1 + 10000·mel)``, 187 frames) and has three stages:

* front-end: "musically motivated" convolutions on the batch-normalised spectrogram. Two timbral
  filters span 7 frames × 40 % / 70 % of the mel axis, three temporal filters span 128/64/32
  frames × 1 band; each output is max-pooled over frequency, giving 561 channels per frame;
* mid-end: three 1-D convolutions over time (7 frames, 64 channels), the last two residual; the
  front- and mid-end outputs are concatenated (dense connections, 753 channels);
* back-end: max- and mean-pooling over time, batch norm, a 200-unit dense layer (the
  "penultimate" embedding) and the 50-tag output.

This is our own implementation of the published architecture; the weights come from the ISC
licensed ``musicnn`` 0.1.0 wheel via ``tools/convert_musicnn.py``. TensorFlow names its
variables by creation order (``conv2d_3``, ``batch_normalization_7``…); :func:`tf_to_torch`
maps them onto the modules below so the conversion stays in one readable table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

from audio import MelSpec
from genre.musicnn_blocks import TF_BN_EPS, FreqPooledConv, batch_norm
from genre.musicnn_fast import FastFrontend, Precision, serving_precision

# The front-end every musicnn checkpoint was trained on (its config.json).
MUSICNN_FRONTEND = MelSpec(sample_rate=16000, n_fft=512, hop=256, n_mels=96, log="log10_1p")
PATCH_FRAMES = 187  # 3 s
PENULTIMATE_UNITS = 200  # the embedding every musicnn-based model reads
FRONTEND_CHUNK = 5  # patches per front-end pass: bounds im2col / conv buffers (~30 MB)

MSD_TAGS = (
    "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s",
    "alternative rock", "jazz", "beautiful", "metal", "chillout", "male vocalists",
    "classic rock", "soul", "indie rock", "Mellow", "electronica", "80s", "folk", "90s", "chill",
    "instrumental", "punk", "oldies", "blues", "hard rock", "ambient", "acoustic", "experimental",
    "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country", "easy listening", "sexy",
    "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb", "indie pop",
    "sad", "House", "happy",
)  # fmt: skip
MTT_TAGS = (
    "guitar", "classical", "slow", "techno", "strings", "drums", "electronic", "rock", "fast",
    "piano", "ambient", "beat", "violin", "vocal", "synth", "female", "indian", "opera", "male",
    "singing", "vocals", "no vocals", "harpsichord", "loud", "quiet", "flute", "woman",
    "male vocal", "no vocal", "pop", "soft", "sitar", "solo", "man", "classic", "choir", "voice",
    "new age", "dance", "male voice", "female vocal", "beats", "harp", "cello", "no voice",
    "weird", "country", "metal", "female voice", "choral",
)  # fmt: skip


class _MidConv(nn.Module):
    """1-D conv over time (7 frames, 'same' by zero padding) → ReLU → batch norm."""

    def __init__(self, in_channels: int, filters: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(in_channels, filters, kernel_size=7, padding=3)
        self.bn = batch_norm(filters)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(torch.relu(self.conv(x)))


class Musicnn(nn.Module):
    """log-mel patches [B, n_mels, frames] → tag logits, tag probabilities and embeddings."""

    def __init__(
        self,
        n_mels: int = 96,
        n_tags: int = 50,
        timbral_filters: int = 204,  # int(1.6 * 128)
        temporal_filters: int = 51,  # int(1.6 * 32)
        midend_filters: int = 64,
        backend_units: int = PENULTIMATE_UNITS,
    ) -> None:
        super().__init__()
        self.n_mels = n_mels
        self.input_bn = nn.BatchNorm2d(1, eps=TF_BN_EPS)
        self.timbral = nn.ModuleList(
            FreqPooledConv(timbral_filters, 7, int(share * n_mels), (3, 3)) for share in (0.4, 0.7)
        )
        # TF's 'same' padding puts the odd extra frame after the signal: 128 → (63, 64).
        self.temporal = nn.ModuleList(
            FreqPooledConv(temporal_filters, length, 1, ((length - 1) // 2, length // 2))
            for length in (128, 64, 32)
        )
        frontend_channels = 2 * timbral_filters + 3 * temporal_filters
        self.midend = nn.ModuleList(
            [
                _MidConv(frontend_channels, midend_filters),
                _MidConv(midend_filters, midend_filters),
                _MidConv(midend_filters, midend_filters),
            ]
        )
        self.pooled_channels = frontend_channels + 3 * midend_filters
        self.pool_bn = batch_norm(2 * self.pooled_channels)
        self.dense = nn.Linear(2 * self.pooled_channels, backend_units)
        self.dense_bn = batch_norm(backend_units)
        self.output = nn.Linear(backend_units, n_tags)
        self.embedding_size = backend_units
        self.fast_precision: Precision | None = None
        self._fast: FastFrontend | None = None
        # The fast path's weights are derived from these: drop them whenever these change.
        self.register_load_state_dict_post_hook(lambda module, _keys: module._drop_fast())

    def _drop_fast(self) -> None:
        self._fast = None

    def use_fast_frontend(self, precision: Precision | None) -> Musicnn:
        """Route the front-end through :mod:`genre.musicnn_fast` in ``precision``.

        ``None`` (the default) is the reference path, the one proven equal to the original graph.
        ``"int8"`` is the serving path (int8 timbral GEMMs, bfloat16 temporal ones): ~2.7x faster
        on CPUs with AVX512 VNNI/BF16 or AMX, tag probabilities moving by ~5e-4 on average.
        ``"bfloat16"`` sits between the two. ``"float32"`` runs the same restructured
        computation exactly; the tests use it to show that only the rounding differs.
        """
        self.fast_precision = precision
        self._fast = None
        return self

    @property
    def low_precision(self) -> bool:
        return self.fast_precision in ("bfloat16", "int8")

    def set_low_precision(self, enabled: bool) -> Musicnn:
        """The serving path on or off: the fastest precision this CPU has (int8 with VNNI,
        bfloat16 with AVX512-BF16, else the exact float32 fast path)."""
        if not enabled:
            return self.use_fast_frontend(None)
        return self.use_fast_frontend(serving_precision())

    def frontend(self, x: torch.Tensor) -> torch.Tensor:
        """Batch-normalised spectrogram [B, T, F] → timbral + temporal features [B, 561, T]."""
        if self.fast_precision is not None:
            fast = self._fast
            if fast is None:  # built once; a racing thread builds an identical copy
                fast = self._fast = FastFrontend(self.timbral, self.temporal, self.fast_precision)
            return fast(x)
        parts = []
        for chunk in torch.split(x, FRONTEND_CHUNK):
            blocks = (*self.timbral, *self.temporal)
            parts.append(torch.cat([block(chunk) for block in blocks], dim=1))
        return torch.cat(parts)

    def forward(self, mel: torch.Tensor) -> dict[str, torch.Tensor]:
        """``mel`` [B, n_mels, frames] → dict of logits [B, tags], tags (sigmoid), penultimate
        [B, 200], mean_pool / max_pool [B, 753]."""
        return self.after_frontend(self.frontend(self.normalise_input(mel)))

    def normalise_input(self, mel: torch.Tensor) -> torch.Tensor:
        """log-mel [B, n_mels, frames] → batch-normalised [B, T, F], time first as in TF."""
        return self.input_bn(mel.transpose(1, 2).unsqueeze(1))[:, 0]

    def after_frontend(self, frontend: torch.Tensor) -> dict[str, torch.Tensor]:
        """Front-end features [B, 561, T] → the outputs of :meth:`forward`."""
        return self.backend(self.midend_features(frontend))

    def midend_features(self, frontend: torch.Tensor) -> torch.Tensor:
        """Front-end features [B, 561, T] → front- and mid-end features [B, 753, T]."""
        c1 = self.midend[0](frontend)
        c2 = self.midend[1](c1) + c1
        c3 = self.midend[2](c2) + c2
        return torch.cat([frontend, c1, c2, c3], dim=1)

    def backend(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """Front- and mid-end features [B, 753, T] → the outputs of :meth:`forward`."""
        max_pool = features.amax(dim=2)
        mean_pool = features.mean(dim=2)
        # TF flattens [channels, (max, mean)], so the two statistics interleave.
        pooled = torch.stack([max_pool, mean_pool], dim=2).flatten(1)
        penultimate = self.dense_bn(torch.relu(self.dense(self.pool_bn(pooled))))
        logits = self.output(penultimate)
        return {
            "logits": logits,
            "tags": torch.sigmoid(logits),
            "penultimate": penultimate,
            "mean_pool": mean_pool,
            "max_pool": max_pool,
        }


def _tf_names() -> list[tuple[str, str, str]]:
    """(torch prefix, TF conv/dense scope, TF batch-norm scope), in TF's creation order."""
    rows = [
        ("timbral.0", "conv2d", "batch_normalization_1"),
        ("timbral.1", "conv2d_1", "batch_normalization_2"),
        ("temporal.0", "conv2d_2", "batch_normalization_3"),
        ("temporal.1", "conv2d_3", "batch_normalization_4"),
        ("temporal.2", "conv2d_4", "batch_normalization_5"),
        ("midend.0", "conv2d_5", "batch_normalization_6"),
        ("midend.1", "conv2d_6", "batch_normalization_7"),
        ("midend.2", "conv2d_7", "batch_normalization_8"),
    ]
    return rows


def tf_to_torch(variables: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Map a musicnn TF checkpoint's variables (name → array) to :class:`Musicnn`'s state dict.

    Optimizer slots (``…/Adam``) and counters are ignored; a missing variable raises KeyError.
    """

    def bn(prefix: str, scope: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}.weight": variables[f"{scope}/gamma"],
            f"{prefix}.bias": variables[f"{scope}/beta"],
            f"{prefix}.running_mean": variables[f"{scope}/moving_mean"],
            f"{prefix}.running_var": variables[f"{scope}/moving_variance"],
        }

    state: dict[str, np.ndarray] = bn("input_bn", "batch_normalization")
    for prefix, conv, norm in _tf_names():
        kernel = variables[f"{conv}/kernel"]  # [kh, kw, in, out]
        if prefix.startswith("midend"):
            # The mid-end convs span the whole channel axis (as TF's width): a Conv1d over time.
            weight = kernel[:, :, 0, :].transpose(2, 1, 0)  # [out, in, k]
        else:
            weight = kernel.transpose(3, 2, 0, 1)  # [out, in, kh, kw]
        state[f"{prefix}.conv.weight"] = weight
        state[f"{prefix}.conv.bias"] = variables[f"{conv}/bias"]
        state.update(bn(f"{prefix}.bn", norm))
    state.update(bn("pool_bn", "batch_normalization_9"))
    state["dense.weight"] = variables["dense/kernel"].T
    state["dense.bias"] = variables["dense/bias"]
    state.update(bn("dense_bn", "batch_normalization_10"))
    state["output.weight"] = variables["dense_1/kernel"].T
    state["output.bias"] = variables["dense_1/bias"]
    out = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in state.items()}
    for key in [k for k in Musicnn().state_dict() if k.endswith("num_batches_tracked")]:
        out[key] = torch.tensor(0, dtype=torch.long)
    return out


def load_musicnn(weights: str | Path) -> Musicnn:
    """A :class:`Musicnn` in eval mode from converted safetensors weights."""
    model = Musicnn()
    model.load_state_dict(load_file(str(weights)), strict=True)
    return model.eval()
