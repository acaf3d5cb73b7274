"""Evidence maps: how much each log-mel cell of each analysis window supported one genre.

Two ways, both "gradient × input against silence" (a cell's share of how much the genre's score
— its logit minus the mean of the other genres' — would fall if the sound there were silent, to
first order), positive part only:

* musicnn models (the shipped default): the gradient is taken at the front-end's output, not at
  the spectrogram. Every front-end value comes from one filter placed at one spot of the
  spectrogram (the one that won the max over frequency), so its evidence is spread evenly over
  the patch that filter covered there. This needs one float32 forward pass and no backward pass
  through the convolutions (~95 % of the work), which keeps a 30-s clip under two seconds on
  two cores; the served int8 path cannot give gradients, the float32 filters beside it can.
* any other network: plain gradient × input on the log-mel windows.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from genre.classifier import Classifier
from genre.errors import GenreError
from genre.models.musicnn_genre import MusicnnGenre, head_features
from genre.musicnn_fast import DEAD_CHANNEL_SCALE

CHUNK_WINDOWS = 10  # windows per front-end pass: bounds the convolution buffers (~100 MB)

# Picks the genre to explain from the windows' probabilities [windows, labels].
TargetChooser = Callable[[np.ndarray], int]

_silence_features: weakref.WeakKeyDictionary[MusicnnGenre, torch.Tensor] = (
    weakref.WeakKeyDictionary()
)
_silence_lock = threading.Lock()


def window_evidence(
    classifier: Classifier, windows: torch.Tensor, silence: float, choose: TargetChooser
) -> tuple[np.ndarray, np.ndarray, int]:
    """Evidence [windows, n_mels, frames] (≥ 0), probabilities [windows, labels], target.

    ``windows`` are the classifier's log-mel windows; ``silence`` is the front-end's value for
    a silent cell (the reference the evidence is measured against). The probabilities are the
    ones the Classifier reports (fused with the tags where the bundle does that); the evidence
    is for the network's own score of the target genre.
    """
    model = classifier.model
    if isinstance(model, MusicnnGenre):
        return _musicnn_evidence(classifier, model, windows, silence, choose)
    if isinstance(model, torch.nn.Module):
        return _input_gradient_evidence(model, windows, silence, choose)
    raise GenreError(
        f"The model '{classifier.bundle.title}' is not a neural network, so it cannot show "
        "where in the sound it found its evidence."
    )


def _logits(out: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
    return out["logits"] if isinstance(out, dict) else out


def _margin(logits: torch.Tensor, target: int) -> torch.Tensor:
    """The genre's logit minus the mean of the others, per window.

    Not the log-probability: that saturates, so a window the model is sure of would show almost
    no evidence and the overlay would light up the doubtful windows instead.
    """
    others = (logits.sum(dim=1) - logits[:, target]) / (logits.shape[1] - 1)
    return logits[:, target] - others


def _input_gradient_evidence(
    model: torch.nn.Module, windows: torch.Tensor, silence: float, choose: TargetChooser
) -> tuple[np.ndarray, np.ndarray, int]:
    inputs = windows.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        logits = _logits(model(inputs)).float()
        if not logits.requires_grad:
            raise GenreError("This model gives no gradients, so it cannot show where it looked.")
        probs = torch.softmax(logits.detach().double(), dim=1).numpy()
        target = choose(probs)
        # autograd.grad, not backward(): the model's own parameters get no .grad buffers.
        (grad,) = torch.autograd.grad(_margin(logits, target).sum(), inputs)
    evidence = (grad * (windows - silence)).clamp(min=0)
    return evidence.numpy(), probs, target


def _frontend_blocks(model: MusicnnGenre) -> tuple[torch.nn.Module, ...]:
    return (*model.backbone.timbral, *model.backbone.temporal)


def _frontend(
    model: MusicnnGenre, windows: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """float32 front-end features [B, 561, T] and each block's winning positions [B, C, T].

    Channels training switched off (see genre.musicnn_fast) output their batch-norm shift
    whatever the input, so they carry no evidence and are not computed: half the temporal work.
    """
    outputs, positions = [], []
    with torch.no_grad():
        x = model.backbone.normalise_input(windows)
        for block in _frontend_blocks(model):
            scale, shift = block.bn_affine()
            alive = scale.abs() >= DEAD_CHANNEL_SCALE
            out = shift[None, :, None].repeat(len(windows), 1, x.shape[1])
            position = torch.zeros(out.shape, dtype=torch.uint8)  # < 96 positions
            values, winners = block.forward_with_positions(x, alive)
            out[:, alive], position[:, alive] = values, winners.to(torch.uint8)
            outputs.append(out)
            positions.append(position)
    return torch.cat(outputs, dim=1), positions


def _silence_reference(model: MusicnnGenre, shape: torch.Size, silence: float) -> torch.Tensor:
    """Front-end features [1, 561, T] of one silent window (computed once per model)."""
    with _silence_lock:
        cached = _silence_features.get(model)
        if cached is None or cached.shape[-1] != shape[-1]:
            cached = _frontend(model, torch.full((1, *shape[1:]), silence))[0]
            _silence_features[model] = cached
        return cached


def _box_sum(x: torch.Tensor, span: int, dim: int) -> torch.Tensor:
    """Every sum of ``span`` consecutive values along ``dim`` of the zero-padded ``x``: a "full"
    convolution with a box (length n + span - 1), as a difference of running sums."""
    if span == 1:
        return x
    after = [0, 0] * (x.dim() - 1 - dim)
    running = F.pad(F.pad(x, [*after, span - 1, span - 1]).cumsum(dim), [*after, 1, 0])
    length = x.shape[dim] + span - 1
    return running.narrow(dim, span, length) - running.narrow(dim, 0, length)


def _spread(
    relevance: torch.Tensor, positions: torch.Tensor, block: torch.nn.Module, n_mels: int
) -> torch.Tensor:
    """Relevance [B, C, T] spread evenly over the patch each value's filter covered → [B, T, F]."""
    b, _, frames = relevance.shape
    span_t, span_f = block.conv.kernel_size
    n_positions = n_mels - span_f + 1
    slot = torch.arange(frames)[None, None, :] * n_positions + positions.long()
    placed = torch.zeros(b, frames * n_positions).scatter_add_(
        1, slot.flatten(1), relevance.flatten(1)
    )
    # A box filter the size of the patch, as running sums (a conv_transpose is 10x slower).
    spread = _box_sum(_box_sum(placed.view(b, frames, n_positions), span_t, 1), span_f, 2)
    before = block.pad[0]  # the filter's first frame sits this far before its output frame
    # Running sums in float32 can leave rounding crumbs below zero where there is no evidence.
    return (spread[:, before : before + frames] / (span_t * span_f)).clamp(min=0)


def _musicnn_evidence(
    classifier: Classifier,
    model: MusicnnGenre,
    windows: torch.Tensor,
    silence: float,
    choose: TargetChooser,
) -> tuple[np.ndarray, np.ndarray, int]:
    chunks = [_frontend(model, chunk) for chunk in torch.split(windows, CHUNK_WINDOWS)]
    features = torch.cat([f for f, _ in chunks]).requires_grad_(True)
    with torch.enable_grad():
        out = model.backbone.after_frontend(features)
        logits = model.head(head_features(out, model.features)).float()
        log_probs = torch.log_softmax(logits.detach().double(), dim=1).numpy()
        if classifier.fusion is not None and classifier.bundle.tags:
            probs = classifier.fusion.fuse(log_probs, out["tags"].detach().double().numpy())
        else:
            probs = np.exp(log_probs)
        target = choose(probs)
        (grad,) = torch.autograd.grad(_margin(logits, target).sum(), features)
    reference = _silence_reference(model, windows.shape, silence)
    relevance = (grad * (features.detach() - reference)).clamp(min=0)

    n_mels = windows.shape[1]
    evidence = torch.zeros(windows.shape[0], windows.shape[2], n_mels)  # [B, T, F]
    for start, (_, positions) in zip(range(0, len(windows), CHUNK_WINDOWS), chunks, strict=True):
        offset = 0
        rows = slice(start, start + len(positions[0]))
        for block, block_positions in zip(_frontend_blocks(model), positions, strict=True):
            width = block.conv.out_channels
            part = relevance[rows, offset : offset + width]
            evidence[rows] += _spread(part, block_positions, block, n_mels)
            offset += width
    return evidence.transpose(1, 2).numpy(), probs, target
