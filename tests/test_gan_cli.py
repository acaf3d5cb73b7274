"""``python -m gan`` as a user runs it: real subprocesses, real files."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from gan.config import EVALUATION_SEED
from gan.levels import MAX_REDRAWS
from gan.pick import TRUNCATIONS
from genre.labels import GTZAN_GENRES
from tests.conftest import REPO_ROOT
from tests.test_bad_input_gan import assert_refused

TINY_MODEL = ["--z-dim", "8", "--g-channels", "16", "8", "8", "4", "4",
              "--d-channels", "4", "4", "8", "8", "16"]  # fmt: skip


def run_gan(*args: str, timeout: int = 240) -> subprocess.CompletedProcess:
    # One thread: these check behaviour, and two threads on busy shared cores crawl.
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "GAN_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "gan", *args],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def tone_clips(data: Path) -> Path:
    """One 4-s pulsing tone per genre, a different pitch each: a tiny training set."""
    rate = 22050
    t = np.arange(4 * rate) / rate
    for i, genre in enumerate(GTZAN_GENRES):
        (data / genre).mkdir(parents=True)
        tone = 0.2 * np.sin(2 * np.pi * (110 * (i + 1)) * t) * (1 + np.sin(2 * np.pi * 2 * t))
        sf.write(data / genre / f"{genre}.00000.wav", tone.astype(np.float32), rate)
    return data


def test_sample_writes_wav_and_png_files(tmp_path: Path) -> None:
    out = tmp_path / "samples"
    result = run_gan("sample", "--genre", "hiphop", "--n", "2", "--seed", "4", "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(x["genre"], x["seed"], x["index"]) for x in lines] == [
        ("hiphop", 4, 0),
        ("hiphop", 4, 1),
    ]
    assert sorted(p.name for p in out.iterdir()) == [
        "hiphop-seed4-01.png", "hiphop-seed4-01.wav", "hiphop-seed4-02.png", "hiphop-seed4-02.wav",
    ]  # fmt: skip
    data, rate = sf.read(out / "hiphop-seed4-01.wav")
    assert rate == 22050
    assert abs(len(data) / rate - 2.95) < 0.01
    assert np.abs(data).max() > 0.05
    assert (out / "hiphop-seed4-01.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_genre_is_a_clear_error(tmp_path: Path) -> None:
    result = run_gan("sample", "--genre", "polka", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "Unknown genre 'polka'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())


def test_train_resume_export_then_sample_from_the_result(tmp_path: Path) -> None:
    """The reproducible path end to end, on a tiny model and one short clip per genre."""
    data = tone_clips(tmp_path / "clips")
    run, bundle = tmp_path / "run", tmp_path / "bundle"
    common = ["train", "--data", str(data), "--run", str(run), "--batch", "4", "--quiet",
              *TINY_MODEL]  # fmt: skip
    first = run_gan(*common, "--steps", "2")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[-1])["step"] == 2
    second = run_gan(*common, "--steps", "3", "--export", str(bundle))
    assert second.returncode == 0, second.stderr
    summary = json.loads(second.stdout.splitlines()[-1])
    assert summary["resumed_from"] == 2 and summary["step"] == 3
    assert summary["exported"] == str(bundle)
    meta = json.loads((bundle / "gan.json").read_text())
    # the training clips' level floors and hole limit came with the export: sampling draws
    # dropouts and holes again
    assert set(meta["sampling"]["level_floors_db"]) == set(GTZAN_GENRES)
    assert set(meta["sampling"]["hole_limits_db"]) == {"whole", "band"}
    recorded = meta["training"]["command"]
    assert recorded == shlex.join(["python", "-m", "gan", *common, "--steps", "3", "--export",
                                   str(bundle)])  # fmt: skip
    assert len((run / "losses.csv").read_text().splitlines()) == 1 + 3
    out = tmp_path / "samples"
    sampled = run_gan("sample", "--bundle", str(bundle), "--genre", "blues,rock", "--n", "1",
                      "--seed", "0", "--seconds", "6", "--out", str(out))  # fmt: skip
    assert sampled.returncode == 0, sampled.stderr
    assert len(list(out.glob("*.wav"))) == 2
    data_out, _ = sf.read(out / "rock-seed0-01.wav")
    assert abs(len(data_out) / 22050 - 6.0) < 0.05


def test_export_stores_the_dropout_floors_of_the_runs_training_clips(tmp_path: Path) -> None:
    """`gan export` draws dropouts again as `train --export` and `pick` do; a folder that
    cannot give every genre a floor still exports, saying what it lacks."""
    data = tone_clips(tmp_path / "clips")
    run = tmp_path / "run"
    trained = run_gan("train", "--data", str(data), "--run", str(run), "--batch", "4",
                      "--quiet", "--steps", "2", *TINY_MODEL)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    exported = run_gan("export", "--run", str(run), "--out", str(tmp_path / "b"), "--data",
                       str(data))  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout)["dropout_floors"] is True
    sampling = json.loads((tmp_path / "b" / "gan.json").read_text())["sampling"]
    floors = sampling["level_floors_db"]
    assert set(floors) == set(GTZAN_GENRES)
    assert all(0 < v < 120 for v in sampling["hole_limits_db"].values())  # the dB range
    assert all(-80 < level < 40 for level in floors.values())
    (data / "rock" / "rock.00000.wav").unlink()
    partial = run_gan("export", "--run", str(run), "--out", str(tmp_path / "c"), "--data",
                      str(data))  # fmt: skip
    assert partial.returncode == 0, partial.stderr
    assert json.loads(partial.stdout)["dropout_floors"] is False
    assert "Exported without dropout floors" in partial.stderr and "rock" in partial.stderr
    assert "Traceback" not in partial.stderr
    meta = json.loads((tmp_path / "c" / "gan.json").read_text())
    assert "level_floors_db" not in meta.get("sampling", {})
    assert "hole_limits_db" not in meta.get("sampling", {})


def test_the_new_recipe_trains_keeps_snapshots_and_pick_ships_the_best(tmp_path: Path) -> None:
    """A new run trains with the recipe (augmentation, R1, mode seeking) without being asked,
    keeps snapshots, then `gan pick` on the run."""
    data = tone_clips(tmp_path / "clips")
    run, out = tmp_path / "run", tmp_path / "picked"
    trained = run_gan("train", "--data", str(data), "--run", str(run), "--batch", "4", "--quiet",
                      "--steps", "4", "--r1-every", "2", "--snapshot-every", "2",
                      *TINY_MODEL)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    picked = run_gan("pick", "--run", str(run), "--out", str(out), "--per-genre", "1",
                     "--data", str(data))  # fmt: skip
    assert picked.returncode == 0, picked.stderr
    report = json.loads(picked.stdout.splitlines()[-1])
    assert [point["step"] for point in report["curve"]] == [2, 4]
    assert report["chosen_step"] in (2, 4) and report["out"] == str(out)
    card = (out / "MODEL_CARD.md").read_text()
    assert f"| {report['chosen_step']} **(shipped)** |" in card
    assert report["truncation"] in TRUNCATIONS  # then the truncation of that step is chosen
    assert f"| {report['truncation']:g} **(shipped)** |" in card.split("### Truncation")[1]
    # The card's reproduce block trains the same run (the recipe is the default), then repeats
    # this pick; it names the recipe the run used.
    assert (
        f"python -m gan train --run {run} --steps 4 --batch 4 --r1-every 2 --snapshot-every 2"
        in card
    )
    assert "DiffAugment (shift, cutout, gain)" in card and "R1 penalty on real patches" in card
    assert "Mode-seeking term" in card
    # `gan evaluate --write` stores the figures in gan.json and the card, the curve kept.
    judged = run_gan("evaluate", "--bundle", str(out), "--per-genre", "2", "--data", str(data),
                     "--write")  # fmt: skip
    assert judged.returncode == 0, judged.stderr
    figures = json.loads(judged.stdout.splitlines()[-1])
    assert figures["generated_clips"] == 20 and 0.0 <= figures["agreement"] <= 1.0
    assert set(figures["heard_as_per_genre"]) == set(GTZAN_GENRES)
    for genre, shares in figures["heard_as_per_genre"].items():
        assert 0 < sum(shares.values()) <= 1.0 + 1e-9, genre
    card = (out / "MODEL_CARD.md").read_text()
    assert f"| {100 * figures['agreement']:.1f} % |" in card
    # Each genre's ceiling (its real segments after Griffin-Lim) sits beside its agreement;
    # with one clip per genre, half B holds every other genre's clip and only those have one.
    ceiling = figures["agreement_real_resynthesised_per_genre"]
    assert set(ceiling) == set(GTZAN_GENRES[1::2]) and all(0 <= v <= 1 for v in ceiling.values())
    rock, blues = figures["agreement_per_genre"]["rock"], figures["agreement_per_genre"]["blues"]
    assert f"| rock | {100 * rock:.1f} % | {100 * ceiling['rock']:.1f} % |" in card
    assert f"| blues | {100 * blues:.1f} % | no real segment |" in card
    quiet = figures["quiet_clips"]  # near-silent dropouts, compared per genre
    assert set(figures["quiet_clips_per_genre"]) == set(GTZAN_GENRES) and 0 <= quiet <= 1
    # pick stored the clips' level floors, so sampling drew the dropouts again: the card says
    # how many remain and how many the generator first drew
    assert f"drew them again (up to {MAX_REDRAWS} times) | {100 * quiet:.1f} % |" in card
    # how much the partials move, generated and real, in the card; only real genres in half B
    motion = figures["partial_motion_per_genre"]
    assert figures["partial_motion_lag_frames"] == 16
    assert all(motion[g]["real"] is None for g in GTZAN_GENRES[0::2])
    assert all(-1 <= motion[g]["generated"] <= 1 for g in GTZAN_GENRES)
    generated, real = figures["partial_motion_generated"], figures["partial_motion_real_half_b"]
    assert generated == pytest.approx(np.mean([motion[g]["generated"] for g in GTZAN_GENRES]),
                                      abs=0.002)  # fmt: skip
    assert "16 frames (0.37 s) apart, generated / real half B" in card
    assert f"| {generated:.3g} / {real:.3g} |" in card
    # a network-free Fréchet distance beside the classifiers' ones, and each other judge's own
    cepstral = [figures[f"fd_cepstral_{w}_vs_real_a"] for w in ("generated", "real_b",
                                                                "resynthesised_b")]  # fmt: skip
    assert all(v >= 0 for v in cepstral)
    assert f"| {cepstral[0]:.3g} / {cepstral[1]:.3g} / {cepstral[2]:.3g} |" in card
    for other in figures["other_classifiers"].values():
        assert other["fd_generated_vs_real_a"] >= 0 and other["fd_real_b_vs_real_a"] >= 0
        assert f"Fréchet distance in its embedding {other['fd_generated_vs_real_a']:.3g}" in card
        # one clip a genre: no two real clips to compare, so no diversity and no claim of one
        assert other["diversity_ratio"] is None and "diversity in its embedding" not in card
    assert figures["diversity_ratio_resynthesised"] is None
    # one clip a genre: no coverage either
    assert figures["coverage"] is None and figures["coverage_per_genre"] == {}
    assert figures["coverage_resynthesised"] is None and "| coverage:" not in card
    assert "real segments of half B after Griffin-Lim:" not in card
    drawn = figures["quiet_clips_as_drawn"]
    assert drawn >= quiet
    assert f"| … as the generator first drew them | {100 * drawn:.1f} % |" in card
    # holes (gan.holes): counted against the real segments' own limit, after and before redraws
    holed, holed_drawn = figures["holed_clips"], figures["holed_clips_as_drawn"]
    limits, real = figures["hole_limits_db"], figures["holed_real"]
    assert limits["whole"] > 0 and limits["band"] > 0 and 0 <= holed <= 1 and 0 <= holed_drawn <= 1
    assert 0 <= real <= 0.5  # the deepest real segment or two of either kind (few here)
    redrawn = f"after sampling drew them again (up to {MAX_REDRAWS} times)"
    assert f"(real segments: {100 * real:.1f} %), {redrawn} | {100 * holed:.1f} % |" in card
    assert f"| … as the generator first drew them | {100 * holed_drawn:.1f} % |" in card
    assert figures["truncation"] == report["truncation"]  # measured as it samples
    assert "now samples at" not in card
    assert f"| {report['chosen_step']} **(shipped)** |" in card
    meta = json.loads((out / "gan.json").read_text())
    assert meta["metrics"]["agreement"] == figures["agreement"]
    assert meta["training"]["config"]["augment"] == "shift,cutout,gain"
    assert meta["training"]["config"]["r1_gamma"] == 1.0
    assert meta["training"]["config"]["mode_seeking"] == 1.0
    assert meta["training"]["command"] == shlex.join(
        ["python", "-m", "gan", "pick", "--run", str(run), "--out", str(out), "--per-genre", "1",
         "--data", str(data), "--threads", "1"]
    )  # fmt: skip
    # Another --seed draws other clips from the same generator, judged against the same real
    # segments: what moves is chance alone, and the card keeps the default seed's figures.
    assert figures["seed"] == EVALUATION_SEED
    other = run_gan("evaluate", "--bundle", str(out), "--per-genre", "2", "--data", str(data),
                    "--seed", "7")  # fmt: skip
    assert other.returncode == 0, other.stderr
    reseeded = json.loads(other.stdout.splitlines()[-1])
    assert reseeded["seed"] == 7
    assert reseeded["fd_real_b_vs_real_a"] == figures["fd_real_b_vs_real_a"]
    assert reseeded["fd_generated_vs_real_a"] != figures["fd_generated_vs_real_a"]
    assert json.loads((out / "gan.json").read_text())["metrics"]["seed"] == EVALUATION_SEED


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--augment", "wobble"], "unknown augmentation wobble"),
        (["--musicnn-d", "-1"], "argument --musicnn-d: must be at least 0"),
        (["--local-d", "-1"], "argument --local-d: must be at least 0"),
        (["--musicnn-mmd", "1"], "distribution term needs the musicnn discriminator (--musicnn-d"),
        (["--musicnn-diversity", "1"], "spread term needs the musicnn discriminator (--musicnn-d"),
    ],
)  # fmt: skip
def test_bad_recipe_settings_are_one_line_errors_that_make_no_run(
    tmp_path: Path, options: list[str], message: str
) -> None:
    assert_refused(run_gan("train", "--run", str(tmp_path / "run"), *options), message)
    assert not (tmp_path / "run").exists()


def test_pick_without_a_run_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = run_gan("pick", "--run", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and "No run folder at" in missing.stderr


def test_pick_records_the_call_from_its_parsed_options() -> None:
    """What the bundle stores is this pick (quoted paths, defaults spelled out), built from the
    parsed options rather than sys.argv, so it is right when main(argv) runs in-process."""
    from gan.cli import build_parser
    from gan.cli_pick import command_line

    argv = ["pick", "--run", "my run/r1", "--out", "picked", "--per-genre", "3"]
    command = command_line(build_parser().parse_args(argv))
    words = shlex.split(command)
    assert words[:4] == ["python", "-m", "gan", "pick"]
    assert "--threads" in words  # the default, spelled out
    again = build_parser().parse_args(words[3:])
    assert (str(again.run), str(again.out), again.per_genre, again.data) == (
        "my run/r1", "picked", 3, None,
    )  # fmt: skip


def test_the_cards_training_options_parse_back_to_the_same_settings() -> None:
    """training_options spells a config as `gan train` options; the real parser must read
    them back to that config (an option renamed in one place and not the other fails here)."""
    from gan.cli import build_parser
    from gan.cli_train_options import config_from_args
    from gan.config import GanConfig, TrainConfig, training_options

    configs = [
        TrainConfig(),
        TrainConfig(augment="", r1_gamma=0.0, mode_seeking=0.0),  # the recipe turned off
        TrainConfig(steps=123, batch_size=8, lr_g=1e-4, lr_d=3e-4, ema_decay=0.99,
                    aux_weight=0.5, augment="shift,gain", r1_gamma=2.0, r1_every=8,
                    mode_seeking=1.5,
                    snapshot_every=500, checkpoint_every=50, checkpoint_every_s=30.0, seed=7,
                    model=GanConfig(z_dim=64, g_channels=(128, 64, 32, 16, 8),
                                    d_channels=(8, 16, 32, 64, 128), upsample="transposed")),
    ]  # fmt: skip
    for config in configs:
        args = build_parser().parse_args(["train", *training_options(config)])
        assert config_from_args(args) == config
    assert training_options(TrainConfig()) == ["--steps", str(TrainConfig().steps)]
