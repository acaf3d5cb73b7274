"""Leaving out recordings a generator with one class per recording plays badly (``gan gate``,
gan.gate): the rule, the picker that skips them, the bundle's check of the stored list, the
model card's line and the CLI's JSON contract on a real (tiny) recording bundle."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from gan.bundle import load_gan_bundle
from gan.config import GateRule
from gan.errors import GanError
from gan.gate import RecordingShare, left_out, store_gate
from gan.recordings import RecordingPicker, recording_genres
from gan.sample import generate
from tests.test_gan_cli import TINY_MODEL, run_gan
from tests.test_gan_recordings import two_tones_per_genre


def shares(genre: str, heard: list[int], clips: int = 20) -> list[RecordingShare]:
    return [RecordingShare(f"{genre}/{k}", genre, clips, n) for k, n in enumerate(heard)]


def test_the_rule_leaves_out_seldom_recognised_recordings_but_keeps_each_genres_best() -> None:
    rule = GateRule(min_share=0.3, keep=3)
    measured = [
        *shares("blues", [0, 1, 5, 6, 20, 19, 2]),  # shares 0, .05, .25, .3, 1, .95, .1
        *shares("jazz", [0, 1, 2]),  # all below the floor: the best three are kept
        *shares("rock", [0, 0, 0, 1, 0]),  # ties: the first in class order ranks first
    ]
    assert left_out(measured, rule) == ["blues/0", "blues/1", "blues/2", "blues/6",
                                        "rock/2", "rock/4"]  # fmt: skip
    assert left_out(measured, GateRule(min_share=0.0, keep=3)) == []
    assert RecordingShare("x/a", "x", 0, 0).share == 0.0  # a recording no clip picked


def test_the_picker_skips_left_out_recordings_and_keeps_every_other_pick() -> None:
    recordings = ("blues/a", "blues/b", "blues/c", "jazz/a", "jazz/b")
    genres_of = recording_genres(recordings, ("blues", "jazz"))
    every = RecordingPicker.build(genres_of, z_dim=8)
    gated = RecordingPicker.build(genres_of, z_dim=8, playable=torch.tensor([1, 0, 1, 1, 1]) > 0)
    z = torch.randn(2000, 8, generator=torch.Generator().manual_seed(2))
    before, after = every.choices(z), gated.choices(z)
    assert (after != 1).all() and (before == 1).any()  # the test could tell
    kept = before[:, 0] != 1
    assert torch.equal(after[kept], before[kept])  # a clip on a kept recording keeps it
    counts = torch.bincount(after[:, 0], minlength=3)
    assert counts[0] > 600 and counts[2] > 600  # blues' two playable ones, about half each


@pytest.fixture(scope="module")
def recording_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny generator with one class per recording (two per genre), as `gan train` makes one."""
    tmp = tmp_path_factory.mktemp("gate")
    data = two_tones_per_genre(tmp / "clips")
    common = ["--data", str(data), "--batch", "4", "--quiet"]
    first = run_gan("train", "--run", str(tmp / "first"), "--steps", "2", "--export",
                    str(tmp / "genre"), *common, *TINY_MODEL)  # fmt: skip
    assert first.returncode == 0, first.stderr
    grown = run_gan("train", "--run", str(tmp / "run"), "--start-from", str(tmp / "genre"),
                    "--condition", "recording", "--steps", "3", "--export", str(tmp / "bundle"),
                    *common)  # fmt: skip
    assert grown.returncode == 0, grown.stderr
    return tmp / "bundle"


def with_left_out(bundle: Path, to: Path, left: object) -> Path:
    folder = Path(shutil.copytree(bundle, to))
    meta = json.loads((folder / "gan.json").read_text())
    meta["recordings"]["left_out"] = left
    (folder / "gan.json").write_text(json.dumps(meta))
    return folder


@pytest.mark.parametrize(
    ("left", "words"),
    [
        (["blues/nowhere.wav"], "unusable 'left_out' list"),
        ("blues/blues.00000.wav", "unusable 'left_out' list"),
        (["blues/blues.00000.wav", "blues/blues.00000.wav"], "unusable 'left_out' list"),
        (["jazz/jazz.00000.wav", "jazz/jazz.00001.wav"], "no playable recordings of jazz"),
    ],
)
def test_a_damaged_left_out_list_is_a_clear_error(
    recording_bundle: Path, tmp_path: Path, left: object, words: str
) -> None:
    with pytest.raises(GanError, match=words):
        load_gan_bundle(with_left_out(recording_bundle, tmp_path / "b", left))


def test_the_cli_measures_every_recording_and_a_stored_gate_is_played_and_explained(
    recording_bundle: Path, tmp_path: Path
) -> None:
    folder = Path(shutil.copytree(recording_bundle, tmp_path / "b"))
    done = run_gan("gate", "--bundle", str(folder), "--per-genre", "10", "--write")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["rule"] == {"seed": 4242, "clips_per_genre": 10, "min_share": 0.3, "keep": 5}
    recordings = report["recordings"]
    assert len(recordings) == 20
    for genre in ("blues", "jazz", "rock"):
        mine = [r for label, r in recordings.items() if label.startswith(f"{genre}/")]
        assert sum(r["clips"] for r in mine) == 10
        assert all(0 <= r["heard_as_genre"] <= r["clips"] for r in mine)
    assert report["left_out"] == []  # two recordings a genre: fewer than the five kept
    assert load_gan_bundle(folder).meta["gate"]["clips_per_genre"] == 10

    # A gate that leaves one out, stored as the CLI stores it: played, explained, measured again.
    bundle = load_gan_bundle(folder)
    measured = [RecordingShare(label, label.split("/")[0], r["clips"], r["heard_as_genre"])
                for label, r in recordings.items()]  # fmt: skip
    store_gate(bundle, GateRule(clips_per_genre=10), measured, ["jazz/jazz.00001.wav"])
    gated = load_gan_bundle(folder)
    assert gated.picker is not None and int(gated.picker.playable.sum()) == 19
    jazz_b = gated.class_labels.index("jazz/jazz.00001.wav")
    z = torch.randn(
        400, gated.picker.projection.shape[0], generator=torch.Generator().manual_seed(3)
    )
    assert (gated.picker.choices(z) != jazz_b).all()
    assert "Sampling plays 19 of its 20 recordings" in gated.model_card
    assert "left out 1 (jazz 1)" in gated.model_card
    assert "--per-genre 10 --write\npython -m gan evaluate" in gated.model_card  # to reproduce it
    clips = generate(gated, ["jazz"], 2, seed=4, seconds=3.0)
    assert len(clips) == 2 and all(c.duration_s > 2.5 for c in clips)
    again = run_gan("gate", "--bundle", str(folder), "--per-genre", "10")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["recordings"] == recordings  # measured with every recording


def test_a_genre_generator_has_nothing_to_gate(recording_bundle: Path) -> None:
    genre_bundle = recording_bundle.parent / "genre"  # what the recording one grew from
    done = run_gan("gate", "--bundle", str(genre_bundle), "--per-genre", "2")
    assert done.returncode == 2
    assert "one class per genre: there are no recordings to gate" in done.stderr
