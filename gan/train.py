"""Training loop: hinge-loss conditional GAN with checkpoints, resume and a per-step loss log.

A run lives in one folder: ``checkpoint.pt`` (everything needed to continue, written atomically
after the first :data:`FIRST_CHECKPOINT_STEPS` steps, then every ``checkpoint_every`` steps or
``checkpoint_every_s`` seconds, whichever comes first, and at the end), ``losses.csv`` (one row
per step) and ``run.json`` (the configuration and a summary). Running the same command again
resumes, and says from which step. The state and its checkpoint and snapshot files are
:mod:`gan.state`'s; the loss log is :mod:`gan.loss_log`'s.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from gan.augment import augment, parse_policy
from gan.config import (  # defined there (torch-free); TrainConfig imported from here too
    CHANGEABLE_ON_RESUME,
    CHECKPOINT_FILE,
    TrainConfig,
    ignored_on_resume,
    with_classes,
)
from gan.data import PatchSampler
from gan.errors import GanError
from gan.levels import level_shortfall, real_patch_floors
from gan.loss_log import LOSS_COLUMNS, truncate_log
from gan.losses import local_d_loss, local_g_loss, mode_seeking_loss, paired_genres, r1_penalty
from gan.model import hinge_d_loss, hinge_g_loss
from gan.musicnn_update import musicnn_step
from gan.negatives import spectral_negatives, temporal_negatives
from gan.pairs import pair_d_loss, pair_g_loss
from gan.pretrained_judge import PretrainedJudge
from gan.recordings import genre_cross_entropy
from gan.state import GanState, load_checkpoint, save_checkpoint, save_snapshot

# the losses shown beside the progress bar
BAR_LOSSES = ("d_loss", "g_loss", "musicnn_d", "musicnn_g", "musicnn_spread", "musicnn_mmd",
              "level_guard", "pair_d", "pair_g")  # fmt: skip
# A fresh run saves early, so that a run killed in its first minutes still resumes.
FIRST_CHECKPOINT_STEPS = 10


def resumed_config(stored: TrainConfig, asked: TrainConfig) -> TrainConfig:
    """The settings a resumed run trains on: its own, with the step budget asked for and each
    cadence (checkpoints, snapshots) asked away from its default. A cadence left at its
    default keeps the run's own: resuming without ``--snapshot-every`` must not quietly stop
    the snapshots ``gan pick`` chooses from."""
    default = TrainConfig()
    changed = {
        name: getattr(asked, name)
        for name in CHANGEABLE_ON_RESUME
        if name == "steps" or getattr(asked, name) != getattr(default, name)
    }
    return replace(stored, **changed)


def train_step(
    state: GanState,
    real: torch.Tensor,
    genres: torch.Tensor,
    judge: PretrainedJudge | None = None,
    floors: torch.Tensor | None = None,
) -> dict[str, float]:
    """One discriminator and one generator update on a batch of real patches; with the musicnn
    discriminator on (``judge``, and the state's head), one more update of each against it.
    ``floors``: each genre's quietest real patch (gan.levels.real_patch_floors), which the
    level guard needs. With the pair discriminator, the real batch must be paired
    (``PatchSampler.sample(paired=True)``: patch i and i + B/2 of one genre, two clips)."""
    g, d = state.generator, state.discriminator
    g.train()
    d.train()
    config = state.config
    policy = parse_policy(config.augment)
    seen = lambda x: augment(x, policy, state.noise_rng) if policy else x  # noqa: E731
    # drawn on the CPU (as the checkpointed streams are), then moved to the networks' device
    z = torch.randn(real.shape[0], config.model.z_dim, generator=state.noise_rng).to(real.device)
    pairs = state.pair_head if config.pair_weight > 0 else None
    fake_genres = paired_genres(genres) if config.mode_seeking > 0 or pairs is not None else genres
    fake = g(z, fake_genres)

    aux = config.aux_weight
    d.requires_grad_(True)
    # real patches judged as fake (none without --negatives / --spectral-negatives, nor in a
    # batch of one): the first half with its order of events broken, the second half with its
    # fine frequency detail taken away (blurred, retextured or frozen)
    half = real.shape[0] // 2
    wrong_order = real[:0]
    if config.negatives > 0:
        wrong_order = temporal_negatives(real[:half], state.noise_rng)
    detail_gone = real[:0]
    if config.spectral_negatives > 0 and half > 0:
        detail_gone = spectral_negatives(real[half : 2 * half], state.noise_rng)
    # Real, fake and negative patches in one batch: one pass through the network.
    judgement = d.judge(
        seen(torch.cat([real, fake.detach(), wrong_order, detail_gone])),
        torch.cat(
            [
                genres,
                fake_genres,
                genres[: len(wrong_order)],
                genres[half : half + len(detail_gone)],
            ]
        ),
        local=config.local_weight > 0,
    )
    scores, logits = judgement.score, judgement.logits
    real_scores, fake_scores, wrong_scores, detail_gone_scores = scores.split(
        [real.shape[0], fake.shape[0], len(wrong_order), len(detail_gone)]
    )
    loss_d = hinge_d_loss(real_scores, fake_scores)
    local_d = local_d_loss(judgement, genres, fake.shape[0])
    if len(wrong_order):
        loss_d = loss_d + config.negatives * F.relu(1.0 + wrong_scores).mean()
    if len(detail_gone):
        loss_d = loss_d + config.spectral_negatives * F.relu(1.0 + detail_gone_scores).mean()
    aux_d = torch.zeros(())
    if logits is not None and aux > 0:
        aux_d = F.cross_entropy(logits[: real.shape[0]], genres)  # real patches only
    pair_d = torch.zeros(())
    if pairs is not None and judgement.pooled is not None:
        real_pooled, fake_pooled = judgement.pooled.split([real.shape[0], fake.shape[0]])[:2]
        pair_d = pair_d_loss(pairs, real_pooled, genres, fake_pooled, fake_genres)
    state.opt_d.zero_grad(set_to_none=True)
    if pairs is not None:
        state.extra_heads["pair"].optimiser.zero_grad(set_to_none=True)
    (loss_d + aux * aux_d + config.local_weight * local_d + config.pair_weight * pair_d).backward()
    if config.r1_gamma > 0 and state.step % config.r1_every == 0:
        r1_penalty(d, seen(real), genres, config.r1_gamma * config.r1_every).backward()
    state.opt_d.step()
    if pairs is not None:
        state.extra_heads["pair"].optimiser.step()
        pairs.requires_grad_(False)  # as the discriminator: the generator's update needs none

    d.requires_grad_(False)  # the generator's update needs no discriminator gradients
    judged_fake = d.judge(seen(fake), fake_genres, local=config.local_weight > 0)
    fake_scores_g, fake_logits = judged_fake.score, judged_fake.logits
    loss_g = hinge_g_loss(fake_scores_g) + config.local_weight * local_g_loss(
        judged_fake, fake_genres
    )
    aux_g = torch.zeros(())
    if fake_logits is not None and aux > 0 and config.aux_g_level == "genre":
        aux_g = genre_cross_entropy(fake_logits, fake_genres, state.class_genres)
    elif fake_logits is not None and aux > 0:
        aux_g = F.cross_entropy(fake_logits, fake_genres)
    seeking = torch.zeros(())
    if config.mode_seeking > 0:
        seeking = mode_seeking_loss(fake, z, config.mode_seeking_cap)
    pair_g = torch.zeros(())
    if pairs is not None and judged_fake.pooled is not None:
        pair_g = pair_g_loss(pairs, judged_fake.pooled, fake_genres)
    guard = torch.zeros(())
    if config.level_guard > 0:
        if floors is None:
            raise ValueError("the level guard needs the genres' floors")
        guard = level_shortfall(fake, fake_genres, floors)
    state.opt_g.zero_grad(set_to_none=True)
    (loss_g + aux * aux_g + config.mode_seeking * seeking + config.level_guard * guard
     + config.pair_weight * pair_g).backward()  # fmt: skip
    state.opt_g.step()
    d.requires_grad_(True)
    if pairs is not None:
        pairs.requires_grad_(True)
    heard = musicnn_step(state, judge, real.shape[0] // 2) if judge is not None else {}
    if config.level_guard > 0:
        heard["level_guard"] = float(guard.detach())
    if pairs is not None:
        heard |= {"pair_d": float(pair_d.detach()), "pair_g": float(pair_g.detach())}

    state.ema.update(g)
    state.step += 1
    return heard | {
        "d_loss": float(loss_d.detach()),
        "g_loss": float(loss_g.detach()),
        "d_real": float(real_scores.detach().mean()),
        "d_fake": float(fake_scores.detach().mean()),
        "aux_real": float(aux_d.detach()),
        "aux_fake": float(aux_g.detach()),
    }


@dataclass
class RunResult:
    run_dir: Path
    state: GanState
    resumed_from: int
    stopped_early: bool
    cancelled: bool = False  # ``should_stop`` asked to stop (a cancel); the checkpoint is saved


def train(
    sampler: PatchSampler,
    run_dir: Path,
    config: TrainConfig,
    *,
    resume: bool = True,
    max_minutes: float | None = None,
    progress: bool = True,
    on_step: Callable[[int, dict[str, float]], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    say: Callable[[str], None] | None = None,
    device: str | torch.device = "cpu",
) -> RunResult:
    """Train until ``config.steps`` (or ``max_minutes`` of this call), resuming if possible.

    ``should_stop`` is asked before every step; when it says yes, training stops after
    saving a checkpoint of the current step, so a cancelled run loses nothing. ``say`` gets
    one line on where training starts (default: stderr).
    """
    say = say or _to_stderr
    run_dir.mkdir(parents=True, exist_ok=True)
    checkpoint = run_dir / CHECKPOINT_FILE
    log_path = run_dir / "losses.csv"
    if resume and checkpoint.is_file():
        state = load_checkpoint(checkpoint, lambda: sampler.conditioned_by("recording").labels)
        # with one class per recording, the class count is the data's, not an option
        if replace(state.config.model, n_classes=config.model.n_classes) != config.model:
            raise GanError(
                f"The run in {run_dir} was started with a different model; "
                "choose another run folder or start afresh with --no-resume."
            )
        say(f"resuming from step {state.step} (checkpoint in {run_dir})")
        ignored = ignored_on_resume(config, state.config)
        if ignored:  # said, not silently dropped: the run keeps the settings it was trained with
            say(f"kept the run's own settings, not {'; '.join(ignored)}: to change them, "
                "start a new run folder from this one (--start-from)")  # fmt: skip
        first_save_due = None
        state.config = resumed_config(state.config, config)
        truncate_log(log_path, state.step)
    else:
        say(_fresh_start_note(run_dir, checkpoint.is_file()))
        sampler = sampler.conditioned_by(config.condition)
        if config.condition == "recording":
            config = with_classes(config, len(sampler.labels))
        state = GanState.fresh(config, sampler.labels)
        log_path.unlink(missing_ok=True)
        first_save_due = FIRST_CHECKPOINT_STEPS
    state.to_device(device)
    if state.device.type != "cpu":
        say(f"training on {state.device}")
    sampler = sampler.conditioned_by(state.config.condition)  # a resumed run keeps its own
    if state.labels != sampler.labels:
        what = "recordings" if state.config.condition == "recording" else "genres"
        raise GanError(f"The checkpoint's {what} differ from the training data's {what}.")
    resumed_from = state.step
    floors = real_patch_floors(sampler).to(device)  # the level guard's, and the spread term's
    judge = None
    if state.musicnn_head is not None:
        say("hearing the real patches through musicnn for its discriminator (about a minute)")
        judge = PretrainedJudge.build(sampler, state.config.batch_size)
        judge.floors = floors
        judge = judge.to(device)
    (run_dir / "run.json").write_text(
        json.dumps({"config": state.config.to_dict(), "labels": list(state.labels),
                    "clips": sampler.n_clips, "threads": torch.get_num_threads()},
                   indent=2) + "\n", encoding="utf-8",
    )  # fmt: skip

    new_log = not log_path.is_file()
    started = last_save = time.monotonic()
    base_elapsed = state.elapsed_s
    stopped_early = cancelled = False
    with (
        log_path.open("a", newline="", encoding="utf-8") as log_file,
        tqdm(
            total=state.config.steps,
            initial=state.step,
            disable=not progress,
            desc="GAN",
            unit="step",
            dynamic_ncols=True,
        ) as bar,
    ):
        # the musicnn discriminator's losses reach on_step and the bar, not the log's columns
        writer = csv.DictWriter(log_file, fieldnames=LOSS_COLUMNS, extrasaction="ignore")
        if new_log:
            writer.writeheader()
        while state.step < state.config.steps:
            if should_stop is not None and should_stop():
                cancelled = True
                break
            real, genres = sampler.sample(state.config.batch_size, state.data_rng,
                                          paired=state.config.pair_weight > 0)  # fmt: skip
            losses = train_step(state, real.to(device), genres.to(device), judge, floors)
            state.elapsed_s = base_elapsed + time.monotonic() - started
            if not all(torch.isfinite(torch.tensor(list(losses.values())))):
                save_checkpoint(state, run_dir / "diverged.pt")
                raise GanError(f"Training diverged at step {state.step} (non-finite loss).")
            writer.writerow({"step": state.step, **{k: round(v, 5) for k, v in losses.items()},
                             "elapsed_s": round(state.elapsed_s, 2)})  # fmt: skip
            log_file.flush()
            bar.update(1)
            bar.set_postfix({k: f"{v:.3f}" for k, v in losses.items() if k in BAR_LOSSES})
            if on_step is not None:
                on_step(state.step, losses)
            now = time.monotonic()
            if (
                state.step % state.config.checkpoint_every == 0
                or (first_save_due is not None and state.step >= first_save_due)
                or now - last_save >= state.config.checkpoint_every_s
            ):
                save_checkpoint(state, checkpoint)
                first_save_due, last_save = None, now
            if state.config.snapshot_every and state.step % state.config.snapshot_every == 0:
                save_snapshot(state, run_dir)
            if max_minutes is not None and time.monotonic() - started > 60 * max_minutes:
                stopped_early = state.step < state.config.steps
                break
    save_checkpoint(state, checkpoint)
    return RunResult(run_dir, state, resumed_from, stopped_early, cancelled)


def training_device(asked: str) -> torch.device:
    """The device ``--device`` names: "auto" is the GPU when torch sees one, else the CPU."""
    if asked == "auto":
        asked = "cuda" if torch.cuda.is_available() else "cpu"
    if asked == "cuda" and not torch.cuda.is_available():
        raise GanError("No CUDA GPU is visible to this torch (a CPU build, or no GPU here): "
                       "train with --device cpu.")  # fmt: skip
    return torch.device(asked)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _fresh_start_note(run_dir: Path, has_checkpoint: bool) -> str:
    """Why this call starts from step 0, in one line: never a silent restart."""
    if has_checkpoint:
        return f"starting from step 0 (--no-resume): the checkpoint in {run_dir} will be replaced"
    note = f"starting from step 0: no checkpoint found in {run_dir}"
    logged = _logged_steps(run_dir / "losses.csv")
    if logged:
        note += f" (an earlier run there logged {logged} step(s) but stopped before its first save)"
    return note


def _logged_steps(log_path: Path) -> int:
    try:
        with log_path.open(encoding="utf-8") as f:
            return max(0, sum(1 for _ in f) - 1)
    except OSError:
        return 0
