"""Training keeps its networks' weights channels-last (faster CPU convolutions): the layout
must change nothing but speed, and nothing it writes may depend on it."""

from __future__ import annotations

import torch

from gan.state import GanState
from gan.train import train_step
from tests.test_gan_model import one_thread, tiny_config  # noqa: F401


def batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    rng = torch.Generator().manual_seed(seed)
    return torch.rand(4, 1, 128, 128, generator=rng) * 2 - 1, torch.tensor([0, 3, 0, 3])


def test_a_fresh_run_trains_channels_last() -> None:
    state = GanState.fresh(tiny_config())
    convolutions = [p for p in state.generator.parameters() if p.dim() == 4]
    convolutions += [p for p in state.discriminator.parameters() if p.dim() == 4]
    assert convolutions and all(
        p.is_contiguous(memory_format=torch.channels_last) for p in convolutions
    )


def test_the_layout_changes_no_step(one_thread) -> None:  # noqa: F811
    """Steps from one state in either layout give the same losses and weights (to float
    rounding): the layout is a speed choice, not a change to the recipe."""
    fast = GanState.fresh(tiny_config(r1_every=1))  # every part of the step: R1, mode seeking
    plain = GanState.from_checkpoint(fast.to_checkpoint()).in_layout(torch.contiguous_format)
    for step in range(3):
        real, genres = batch(step)
        fast_losses, plain_losses = train_step(fast, real, genres), train_step(plain, real, genres)
        for name, value in plain_losses.items():
            assert abs(fast_losses[name] - value) < 1e-4 * max(1.0, abs(value)), (step, name)
    pairs = zip(fast.generator.state_dict().values(), plain.generator.state_dict().values(),
                strict=True)  # fmt: skip
    for ours, theirs in pairs:
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_a_contiguous_checkpoint_resumes_into_the_fast_layout(one_thread) -> None:  # noqa: F811
    """Checkpoints written before the layout change load, train on and export as before."""
    old = GanState.fresh(tiny_config()).in_layout(torch.contiguous_format)
    resumed = GanState.from_checkpoint(old.to_checkpoint())
    weight = next(p for p in resumed.generator.parameters() if p.dim() == 4)
    assert weight.is_contiguous(memory_format=torch.channels_last)
    for before, after in zip(old.generator.parameters(), resumed.generator.parameters(),
                             strict=True):  # fmt: skip
        assert torch.equal(before, after)
    losses = train_step(resumed, *batch())
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
