"""Snapshots during training, and choosing the generator to ship by its evaluation."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest
import torch

from gan.bundle import MIN_TRUNCATION, default_gan_dir, load_gan_bundle
from gan.cli import build_parser
from gan.cli_pick import command_line
from gan.data import PatchSampler, load_clips
from gan.errors import GanError
from gan.floors import clip_guards
from gan.metrics import load_default_classifier
from gan.pick import TRUNCATIONS, SnapshotChoice, SnapshotScore, best, best_truncation, pick
from gan.state import list_snapshots
from gan.train import train
from tests.test_gan_model import one_thread, synthetic_clips, tiny_config  # noqa: F401


def test_snapshots_are_kept_every_n_steps_and_survive_a_resume(tmp_path: Path) -> None:
    sampler = PatchSampler(synthetic_clips())
    train(sampler, tmp_path, tiny_config(steps=4, snapshot_every=2, checkpoint_every=1),
          progress=False)  # fmt: skip
    train(sampler, tmp_path, tiny_config(steps=6, snapshot_every=2), progress=False)
    assert [step for step, _ in list_snapshots(tmp_path)] == [2, 4, 6]
    kept = torch.load(list_snapshots(tmp_path)[0][1], weights_only=True)
    assert kept["step"] == 2 and "project.weight" in kept["ema"]


def test_a_run_resumed_without_its_cadence_options_keeps_its_own(tmp_path: Path) -> None:
    """Resuming with only --steps must not quietly stop the snapshots pick chooses from;
    a cadence asked for on resume still applies."""
    sampler = PatchSampler(synthetic_clips())
    train(sampler, tmp_path, tiny_config(steps=2, snapshot_every=1, checkpoint_every=1),
          progress=False)  # fmt: skip
    resumed = train(sampler, tmp_path, tiny_config(steps=4), progress=False)
    assert [step for step, _ in list_snapshots(tmp_path)] == [1, 2, 3, 4]
    assert resumed.state.config.snapshot_every == 1 and resumed.state.config.checkpoint_every == 1
    asked = train(sampler, tmp_path, tiny_config(steps=6, snapshot_every=2), progress=False)
    assert [step for step, _ in list_snapshots(tmp_path)] == [1, 2, 3, 4, 6]
    assert asked.state.config.snapshot_every == 2


def test_the_variety_the_page_offers_spans_what_pick_tries_and_changes_the_sound() -> None:
    assert min(TRUNCATIONS) == MIN_TRUNCATION and max(TRUNCATIONS) == 1.0
    from gan.sample import generate

    # as drawn: a dropout or hole drawn again would get new noise, not the truncated one
    shipped = replace(load_gan_bundle(default_gan_dir()), level_floors=None, hole_limits=None)
    typical, varied = shipped.with_truncation(0.5), shipped.with_truncation(1.0)
    assert shipped.truncation != 0.5 and typical.generator is shipped.generator  # no reload
    a = generate(typical, ["jazz"], 4, seed=3, n_iter=2)
    b = generate(varied, ["jazz"], 4, seed=3, n_iter=2)
    assert not np.array_equal(a[0].mel_db, b[0].mel_db)

    def spread(clips: list) -> float:  # a genre's clips, how far apart
        return float(np.mean([np.abs(x.mel_db - y.mel_db).mean()
                              for x, y in combinations(clips, 2)]))  # fmt: skip

    # Lower ψ draws the noise nearer its centre, so a genre's clips lie closer together.
    assert spread(a) < spread(b)
    for wrong in (0.0, 0.4, 1.5):
        with pytest.raises(GanError, match=r"between 0\.5 and 1"):
            shipped.with_truncation(wrong)
    stored_low = replace(shipped, truncation=0.3)  # a bundle may store a lower ψ
    assert stored_low.truncation_range == (0.3, 1.0)
    assert stored_low.with_truncation(0.3).truncation == 0.3


def test_the_rule_prefers_a_generator_that_every_genre_can_be_heard_in() -> None:
    lopsided = SnapshotScore(100, 0.6, {"a": 1.0, "b": 0.2}, 30.0)
    even = SnapshotScore(200, 0.5, {"a": 0.5, "b": 0.5}, 40.0)
    assert best([lopsided, even]) == even
    closer = SnapshotScore(300, 0.5, {"a": 0.5, "b": 0.5}, 35.0)
    assert best([even, closer]) == closer


def test_the_truncation_rule_trades_variety_only_within_the_distance_allowance() -> None:
    per = {"a": 0.3, "b": 0.3}
    untruncated = SnapshotScore(100, 0.3, per, 80.0, truncation=1.0)
    milder = SnapshotScore(100, 0.37, {"a": 0.37, "b": 0.37}, 84.0, truncation=0.8)
    strongest = SnapshotScore(100, 0.5, {"a": 0.5, "b": 0.5}, 95.0, truncation=0.5)  # +19 %
    assert best_truncation([untruncated, milder, strongest]) == milder
    worse = SnapshotScore(100, 0.2, {"a": 0.2, "b": 0.2}, 70.0, truncation=0.9)
    assert best_truncation([untruncated, worse]) == untruncated


def test_pick_scores_every_snapshot_and_ships_the_chosen_step(
    tmp_path: Path, gtzan_dir: Path
) -> None:
    run = tmp_path / "run"
    train(PatchSampler(synthetic_clips()), run, tiny_config(steps=4, snapshot_every=2),
          progress=False)  # fmt: skip
    clips = load_clips(gtzan_dir / "audio", limit_per_genre=1)
    chosen, scores = pick(run, tmp_path / "out", load_default_classifier(), clips, per_genre=1)
    assert [s.step for s in scores] == [2, 4]
    assert all(0 <= s.agreement <= 1 and s.fd >= 0 for s in scores)
    bundle = load_gan_bundle(tmp_path / "out")
    assert bundle.meta["training"]["steps"] == chosen.step
    selection = json.loads((tmp_path / "out" / "gan.json").read_text())["selection"]
    assert selection["chosen_step"] == chosen.step and len(selection["curve"]) == 2
    # The chosen step is then scored at every truncation; the bundle samples at the chosen ψ.
    curve = selection["truncation_curve"]
    assert [point["truncation"] for point in curve] == list(TRUNCATIONS)
    assert all(point["step"] == chosen.step for point in curve)
    assert bundle.truncation == chosen.truncation and chosen.truncation in TRUNCATIONS
    # Dropouts and holes are drawn again by the real clips' guards, in scoring and in the bundle.
    guards = clip_guards(bundle, clips)
    assert guards is not None
    floors, limits = guards["level_floors_db"], guards["hole_limits_db"]
    assert bundle.meta["sampling"]["level_floors_db"] == floors
    assert bundle.level_floors.tolist() == pytest.approx([floors[g] for g in bundle.labels])
    assert bundle.meta["sampling"]["hole_limits_db"] == limits == bundle.hole_limits.to_dict()
    assert chosen == best_truncation([SnapshotScore(**point) for point in curve])
    # one clip a genre: no two real clips to compare, so no diversity or coverage, no columns
    assert all(s.diversity is None and s.coverage is None for s in scores)
    assert "| step | agreement | worst genre | Fréchet distance |\n" in (
        tmp_path / "out" / "MODEL_CARD.md").read_text()  # fmt: skip
    with pytest.raises(GanError, match="no snapshots"):
        empty = tmp_path / "plain"
        train(PatchSampler(synthetic_clips()), empty, tiny_config(steps=1), progress=False)
        pick(empty, tmp_path / "out2", load_default_classifier(), clips, per_genre=1)


def test_pick_can_score_only_some_snapshots_and_the_card_says_which(
    tmp_path: Path, gtzan_dir: Path
) -> None:
    run = tmp_path / "run"
    train(PatchSampler(synthetic_clips()), run, tiny_config(steps=6, snapshot_every=1),
          progress=False)  # fmt: skip
    clips = load_clips(gtzan_dir / "audio", limit_per_genre=1)
    choice = SnapshotChoice(from_step=3, every=2)
    _, scores = pick(run, tmp_path / "out", load_default_classifier(), clips, per_genre=1,
                     truncate=False, choice=choice)  # fmt: skip
    assert [s.step for s in scores] == [4, 6]
    card = (tmp_path / "out" / "MODEL_CARD.md").read_text()
    assert "The kept snapshots from step 3, every 2 steps were scored on 1 generated" in card
    with pytest.raises(GanError, match=r"steps 1–6\) is at step 7 or later and a multiple of 2"):
        SnapshotChoice(from_step=7, every=2).of(run)
    args = build_parser().parse_args(["pick", "--run", str(run), "--out", "o", "--every", "2",
                                      "--from-step", "3"])  # fmt: skip
    again = build_parser().parse_args(command_line(args).split()[3:])
    assert (again.from_step, again.every) == (3, 2)


def test_pick_reports_each_snapshot_s_diversity_and_coverage_beside_its_rule(
    tmp_path: Path, gtzan_dir: Path
) -> None:
    """Diversity is on the curve (reported, not ranked): the rule alone favours a generator
    whose clips of a genre all sit at its centre."""
    run = tmp_path / "run"
    train(PatchSampler(synthetic_clips()), run, tiny_config(steps=2, snapshot_every=2),
          progress=False)  # fmt: skip
    clips = load_clips(gtzan_dir / "audio", limit_per_genre=2)
    chosen, scores = pick(run, tmp_path / "out", load_default_classifier(), clips, per_genre=2,
                          truncate=False)  # fmt: skip
    assert len(scores) == 1 and scores[0].diversity is not None and scores[0].diversity > 0
    card = (tmp_path / "out" / "MODEL_CARD.md").read_text()
    # and so is coverage, beside it (curves scored before it have neither column)
    assert scores[0].coverage is not None and 0 <= scores[0].coverage <= 1
    header = "| step | agreement | worst genre | Fréchet distance | diversity | coverage |"
    assert header in card
    row = f"| {scores[0].diversity:.3g} | {scores[0].coverage:.3g} |"
    assert row in card.split(header)[1]
    varied_but_worse = replace(chosen, step=1, agreement=chosen.agreement - 0.01, diversity=9.0)
    assert best([varied_but_worse, chosen]) == chosen  # diversity is not ranked


def test_a_run_whose_checkpoint_stayed_on_another_machine_exports_from_its_snapshots(
    tmp_path: Path,
) -> None:
    """A run trained on a lent GPU comes back as its snapshots, run.json and loss log (its
    checkpoint, 33 MB with the musicnn head, need not travel): a snapshot exports the same
    bundle from them as from the full run folder."""
    import shutil

    from safetensors.torch import load_file

    from gan.bundle import WEIGHTS_FILE, export_run

    run, back = tmp_path / "run", tmp_path / "back"
    train(PatchSampler(synthetic_clips()), run, tiny_config(steps=4, snapshot_every=2),
          progress=False)  # fmt: skip
    shutil.copytree(run, back, ignore=shutil.ignore_patterns("checkpoint.pt"))
    step, snapshot = list_snapshots(back)[0]
    full = export_run(run, tmp_path / "full", snapshot=list_snapshots(run)[0][1])
    light = export_run(back, tmp_path / "light", snapshot=snapshot)
    a, b = load_file(str(full / WEIGHTS_FILE)), load_file(str(light / WEIGHTS_FILE))
    assert set(a) == set(b) and all(torch.equal(a[k], b[k]) for k in a)
    meta = json.loads((light / "gan.json").read_text())
    assert meta["training"]["steps"] == step == 2
    assert meta["training"]["config"] == json.loads((full / "gan.json").read_text())[
        "training"]["config"]  # fmt: skip
    # without a snapshot to take the weights from, or without the run's settings, it says so
    with pytest.raises(GanError, match=r"no checkpoint in .*export a snapshot"):
        export_run(back, tmp_path / "latest")
    (back / "run.json").unlink()
    with pytest.raises(GanError, match="no checkpoint in"):
        export_run(back, tmp_path / "no-settings", snapshot=snapshot)
