"""A damaged or hand-edited ``gan.json`` (gan.bundle_checks): one plain GanError naming what is
wrong, or a generator that plays with its unreadable quality figures left out; never a
traceback on the Generate page or halfway through a clip."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from audio import MelSpec
from gan.bundle import default_gan_dir, load_gan_bundle, set_active_gan_dir
from gan.card import quality_sentence
from gan.card_diversity import variety_sentence
from gan.data import PATCH_SPEC
from gan.errors import GanError
from gan.sample import generate
from genre.musicnn import MUSICNN_FRONTEND
from tests.test_gan_page import open_page, play_one

SHIPPED_META = json.loads((default_gan_dir() / "gan.json").read_text(encoding="utf-8"))
WRONG_VALUES: list[Any] = [None, [1, 2], "high", -1.5, 7, True, {"x": "y"}, float("nan"), 10**400]
# the entries whose fields shape the sound (or, for recordings, which one plays): a bundle that
# loads with one changed must still play
SOUND_SECTIONS = ("frontend", "normalisation", "sampling", "recordings")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def bundle_with(tmp_path: Path, path: tuple[str, ...], value: Any) -> Path:
    """A copy of the shipped bundle whose gan.json has ``value`` at ``path``."""
    folder = tmp_path / "gan"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(default_gan_dir(), folder)
    meta = copy.deepcopy(SHIPPED_META)
    node = meta
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    (folder / "gan.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def damaged_entries() -> list[tuple[str, ...]]:
    """Every entry of gan.json, and every field of its objects the app reads."""
    paths = [(key,) for key in SHIPPED_META]
    for section in (*SOUND_SECTIONS, "metrics", "training", "model"):
        paths += [(section, key) for key in SHIPPED_META[section]]
    return paths


def test_every_damaged_entry_is_a_clear_error_or_a_generator_that_plays(tmp_path: Path) -> None:
    refused = played = 0
    for path in damaged_entries():
        for value in WRONG_VALUES:
            folder = bundle_with(tmp_path, path, value)
            try:
                bundle = load_gan_bundle(folder)
            except GanError as err:
                assert str(folder) in str(err), (path, value, err)
                refused += 1
                continue
            # what the Generate page reads of every bundle it shows
            quality_sentence(bundle.meta)
            variety_sentence(bundle.meta)
            bundle.meta.get("training", {}).get("steps", "?")
            if path[0] in SOUND_SECTIONS:
                (clip,) = generate(bundle, [bundle.labels[0]], 1, seed=0, n_iter=2)
                assert np.isfinite(clip.audio).all() and clip.audio.size > 0, (path, value)
                played += 1
    assert refused > 100 and played > 5  # both outcomes are exercised


@pytest.mark.parametrize(
    ("path", "value", "words"),
    [
        ((), [], "no JSON object in gan.json"),
        (("labels",), ["blues"] * 10, "unusable labels"),
        (("labels",), ["blues", "jazz"], "genres the generator does not know: classical"),
        (("recordings", "labels"), ["blues/a.wav", "jazz/b.wav"], "2 recordings for 100 classes"),
        (("recordings", "left_out"), ["jazz/jazz.00001.ogg"] * 2, "unusable 'left_out' list"),
        (
            ("recordings", "left_out"),
            [f"pop/pop.0000{k}.ogg" for k in range(10)],
            "no playable recordings of pop",
        ),
        (("frontend",), "db", "front-end must be an object"),
        (("frontend", "sample_rate"), "high", "sample_rate must be a whole number above 0"),
        (("frontend", "sample_rate"), 7, "sample rate must lie between 4000 and 192000 Hz"),
        (("frontend", "n_fft"), 10**9, "n_fft must lie between 16 and 65536"),
        (("frontend", "hop"), 1, "hop must give 10 to 200 frames a second"),
        (("frontend", "n_mels"), 64, "a 64-band front-end for a generator that draws 128 bands"),
        (("frontend", "fmax"), 1e6, "fmax must be empty or lie above fmin"),
        (("frontend", "log"), "ln", "log must be one of none, db, log10_1p"),
        (("normalisation", "db_floor"), 50.0, "the floor below the ceiling"),
        (("normalisation",), None, "unusable normalisation"),
        (("sampling",), [], "a 'sampling' entry that is not an object"),
        (("training",), "long", "a 'training' entry that is not an object"),
        # valid JSON, yet too long for a float: refused, not an OverflowError
        (("normalisation", "db_floor"), -(10**400), "unusable normalisation"),
        (("sampling", "truncation"), 10**400, "a truncation of"),
        (("frontend", "fmin"), 10**400, "fmin must lie from 0 Hz"),
    ],
)
def test_damaged_metadata_says_which_entry_is_wrong(
    tmp_path: Path, path: tuple[str, ...], value: Any, words: str
) -> None:
    folder = tmp_path / "gan"
    if path:
        bundle_with(tmp_path, path, value)
    else:
        shutil.copytree(default_gan_dir(), folder)
        (folder / "gan.json").write_text(json.dumps(value), encoding="utf-8")
    with pytest.raises(GanError, match=words):
        load_gan_bundle(folder)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("high", "they are not a JSON object"),
        ({"agreement": "high"}, "'agreement' is 'high', not a number from 0 to 1"),
        ({"agreement": 1.5}, "'agreement' is 1.5"),
        ({"diversity_ratio": -1}, "'diversity_ratio' is -1"),
        ({"agreement": 10**400}, "'agreement' is 1000"),
        ({"agreement": 0.7, "agreement_per_genre": {"jazz": "most"}}, "'agreement_per_genre'"),
        ({"agreement": 0.7, "heard_as_per_genre": {"jazz": [1]}}, "'heard_as_per_genre'"),
    ],
)
def test_unreadable_quality_figures_are_left_out_and_the_generator_still_plays(
    tmp_path: Path, value: Any, words: str
) -> None:
    bundle = load_gan_bundle(bundle_with(tmp_path, ("metrics",), value))
    assert words in str(bundle.metrics_note)
    assert f"python -m gan evaluate --bundle {bundle.path} --write" in str(bundle.metrics_note)
    assert bundle.meta["metrics"] == {} and bundle.metrics == {}
    assert quality_sentence(bundle.meta) is None and variety_sentence(bundle.meta) is None
    (clip,) = generate(bundle, ["jazz"], 1, seed=0, n_iter=2)
    assert np.isfinite(clip.audio).all()


def test_a_diversity_ratio_of_null_is_not_measured_and_other_nulls_are_unreadable(
    tmp_path: Path,
) -> None:
    """evaluate writes a null diversity ratio where no genre has two real clips to compare;
    it writes no other null, so another one is a damaged file."""
    unmeasured = {"agreement": 0.5, "diversity_ratio": None}
    bundle = load_gan_bundle(bundle_with(tmp_path, ("metrics",), unmeasured))
    assert bundle.metrics_note is None and variety_sentence(bundle.meta) is None
    assert quality_sentence(bundle.meta) == (
        "The genre classifier recognises about 5 in 10 of this generator's clips as the genre "
        "asked for."
    )
    for key in ("agreement", "agreement_per_genre", "heard_as_per_genre", "truncation"):
        damaged = load_gan_bundle(bundle_with(tmp_path, ("metrics",), {**unmeasured, key: None}))
        assert f"'{key}'" in str(damaged.metrics_note), key
        assert quality_sentence(damaged.meta) is None


def test_the_shipped_bundle_reads_clean() -> None:
    bundle = load_gan_bundle()
    assert bundle.metrics_note is None
    assert bundle.meta["metrics"]["agreement"] == SHIPPED_META["metrics"]["agreement"]


@pytest.mark.parametrize("spec", [PATCH_SPEC, MUSICNN_FRONTEND, MelSpec()])
def test_every_front_end_the_project_uses_passes_the_check(spec: MelSpec) -> None:
    assert MelSpec.checked(spec.to_dict()) == spec


def test_the_generate_page_plays_a_generator_whose_figures_cannot_be_read(tmp_path: Path) -> None:
    folder = bundle_with(tmp_path, ("metrics", "agreement"), "high")
    set_active_gan_dir(folder)
    at = open_page()
    assert not at.error
    notes = [i.value for i in at.info]
    assert any("quality figures in gan.json cannot be read" in n for n in notes), notes
    assert not any("recognises about" in c.value for c in at.caption)
    play_one(at, "jazz")
