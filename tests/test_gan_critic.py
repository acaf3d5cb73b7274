"""A generator bundle that ships its discriminator as a critic (gan.critic): sampling keeps,
for every clip, the noise walk the critic scores as most real. Real runs, real files."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan.bundle import GanBundle, export_run, load_gan_bundle, set_active_gan_dir
from gan.critic import CRITIC_FILE, favourite_walks
from gan.errors import GanError
from gan.sample import clip_noise, generate, noise_walk
from gan.state import list_snapshots
from tests.test_gan_cli import TINY_MODEL, run_gan, tone_clips
from tests.test_gan_page import open_page, play_one


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run of 4 steps on tones, keeping snapshots (with their discriminators)."""
    base = tmp_path_factory.mktemp("critic")
    folder = base / "run"
    trained = run_gan("train", "--data", str(tone_clips(base / "clips")), "--run", str(folder),
                      "--batch", "4", "--quiet", "--steps", "4", "--snapshot-every", "2",
                      *TINY_MODEL)  # fmt: skip
    assert trained.returncode == 0, trained.stderr
    return folder


@pytest.fixture(scope="module")
def judged(run: Path, tmp_path_factory: pytest.TempPathFactory) -> GanBundle:
    out = tmp_path_factory.mktemp("bundle") / "with-critic"
    exported = run_gan("export", "--run", str(run), "--out", str(out), "--critic", "4")
    assert exported.returncode == 0, exported.stderr
    return load_gan_bundle(out)


def test_export_ships_the_discriminator_and_the_card_says_how_sampling_uses_it(
    judged: GanBundle, run: Path, tmp_path: Path
) -> None:
    meta = json.loads((judged.path / "gan.json").read_text())
    assert meta["critic"] == {"weights": CRITIC_FILE, "candidates": 4, "step": 4}
    assert judged.critic is not None and judged.candidates == 4
    assert not judged.critic.training  # judged as it ships, not updated
    card = (judged.path / "MODEL_CARD.md").read_text()
    assert (
        f"one of 4 noise walks whose patches the discriminator of step 4 (`{CRITIC_FILE}`)" in card
    )
    # without --critic a bundle has none, and its card says nothing of one
    plain = load_gan_bundle(export_run(run, tmp_path / "plain"))
    assert plain.critic is None and plain.candidates == 1 and "critic" not in plain.meta
    assert not (tmp_path / "plain" / CRITIC_FILE).exists()
    assert "noise walks whose patches" not in (tmp_path / "plain" / "MODEL_CARD.md").read_text()


def test_each_clip_keeps_the_walk_the_critic_scores_best(judged: GanBundle) -> None:
    walks = noise_walk(3 * 4, 2, judged.config.z_dim, torch.Generator().manual_seed(1))
    walks = walks.reshape(3, 4, 2, -1)
    genres = [0, 5, 9]
    chosen = favourite_walks(judged, genres, walks)
    assert judged.critic is not None
    with torch.inference_mode():
        for clip, genre in enumerate(genres):
            y = torch.full((2,), genre)
            scores = [float(judged.critic(judged.generator(w * judged.truncation, y), y).mean())
                      for w in walks[clip]]  # fmt: skip
            assert len(set(scores)) > 1  # a real choice, not a tie
            assert torch.equal(chosen[clip], walks[clip][int(np.argmax(scores))])


def test_sampling_with_a_critic_is_repeatable_and_differs_from_sampling_without_it(
    judged: GanBundle,
) -> None:
    first = generate(judged, ["jazz", "metal"], 2, seed=7)
    again = generate(judged, ["jazz", "metal"], 2, seed=7)
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(first, again, strict=True))
    without = generate(replace(judged, critic=None, candidates=1), ["jazz", "metal"], 2, seed=7)
    assert any(not np.array_equal(a.mel_db, b.mel_db) for a, b in zip(first, without, strict=True))
    noise = clip_noise(judged, [6, 6, 6], 3, torch.Generator().manual_seed(0))
    assert noise.shape == (3, 3, judged.config.z_dim) and torch.isfinite(noise).all()


def test_snapshots_keep_their_discriminator_so_a_chosen_step_ships_with_its_own(
    run: Path, tmp_path: Path
) -> None:
    step, snapshot = list_snapshots(run)[0]
    kept = torch.load(snapshot, map_location="cpu", weights_only=True)
    bundle = load_gan_bundle(export_run(run, tmp_path / "b", snapshot=snapshot,
                                        critic_candidates=3))  # fmt: skip
    assert bundle.meta["critic"]["step"] == step == 2 and bundle.candidates == 3
    shipped = load_file(str(tmp_path / "b" / CRITIC_FILE))
    assert set(shipped) == set(kept["discriminator"])
    assert all(torch.equal(shipped[k], kept["discriminator"][k].contiguous()) for k in shipped)
    # a snapshot saved before snapshots kept one cannot ship a critic, and says so
    torch.save({"step": 2, "ema": kept["ema"]}, tmp_path / "old.pt")
    with pytest.raises(GanError, match="keeps no discriminator"):
        export_run(run, tmp_path / "c", snapshot=tmp_path / "old.pt", critic_candidates=3)


def test_bad_critic_settings_and_files_are_clear_errors(
    judged: GanBundle, run: Path, tmp_path: Path
) -> None:
    one = run_gan("export", "--run", str(run), "--out", str(tmp_path / "one"), "--critic", "1")
    assert one.returncode == 2 and "2 to 16 noise walks" in one.stderr
    assert "Traceback" not in one.stderr
    many = run_gan("export", "--run", str(run), "--out", str(tmp_path / "many"), "--critic", "17")
    assert many.returncode == 2 and "Traceback" not in many.stderr
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("gan.json", "generator.safetensors"):
        (broken / name).write_bytes((judged.path / name).read_bytes())
    (broken / CRITIC_FILE).write_bytes(b"not weights")
    with pytest.raises(GanError, match=r"critic's weights .* cannot be loaded"):
        load_gan_bundle(broken)
    meta = json.loads((broken / "gan.json").read_text())
    meta["critic"]["candidates"] = "eight"
    (broken / "gan.json").write_text(json.dumps(meta))
    with pytest.raises(GanError, match="whole number of candidates"):
        load_gan_bundle(broken)


def test_pick_scores_and_ships_each_snapshot_with_its_own_critic(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "picked"
    picked = run_gan("pick", "--run", str(run), "--out", str(out), "--per-genre", "1", "--data",
                     str(run.parent / "clips"), "--no-truncation", "--critic", "2")  # fmt: skip
    assert picked.returncode == 0, picked.stderr
    report = json.loads(picked.stdout.splitlines()[-1])
    bundle = load_gan_bundle(out)
    assert bundle.candidates == 2 and bundle.meta["critic"]["step"] == report["chosen_step"]
    kept = torch.load(dict(list_snapshots(run))[report["chosen_step"]], weights_only=True)
    shipped = load_file(str(out / CRITIC_FILE))
    assert all(torch.equal(shipped[k], kept["discriminator"][k].contiguous()) for k in shipped)
    # the card's reproduce block repeats the pick with its critic
    assert "--no-truncation --critic 2 --threads" in (out / "MODEL_CARD.md").read_text()


def test_the_generate_page_plays_a_promoted_critic_bundle_and_says_how_it_picks(
    judged: GanBundle,
) -> None:
    set_active_gan_dir(judged.path)
    at = open_page()
    text = "\n".join(m.value for m in at.markdown)
    assert "for every clip on the Samples tab the generator draws 4 candidates" in text
    assert "morphs and blends play the first one they draw" in text  # they have no critic
    play_one(at, "jazz")
