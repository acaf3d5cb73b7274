"""AppTest of the Generate page: sample, see spectrograms, hear and download them."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gan.bundle import default_gan_dir
from gan.card_diversity import variety_sentence
from tests.conftest import REPO_ROOT


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def open_page() -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("app_pages/generate.py")
    at.run()
    assert not at.exception
    return at


def play_one(at: AppTest, genre: str = "jazz") -> None:
    """Generate one clip of ``genre`` on the Samples tab; it must play, with no error."""
    at.multiselect(key="gan_genres").set_value([genre])
    at.slider(key="gan_count").set_value(1)
    at.button(key="gan_go").click()
    at.run()
    assert not at.exception and not at.error
    assert len(at.get("audio")) == 1


def badges(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def test_page_explains_and_shows_training_curves() -> None:
    at = open_page()
    assert at.title[0].value == "🎹 Generate"
    assert not at.error
    text = "\n".join(m.value for m in at.markdown)
    assert "spectrogram" in text.lower() and "phase" in text
    assert len(at.get("plotly_chart")) == 1  # the shipped model's training curves
    assert not at.get("audio")


def test_generate_two_genres_shows_players_downloads_and_badges() -> None:
    at = open_page()
    at.multiselect(key="gan_genres").set_value(["metal", "classical"])
    at.slider(key="gan_count").set_value(1)
    at.number_input(key="gan_seed").set_value(42)
    at.button(key="gan_go").click()
    at.run()
    assert not at.exception
    assert not at.error
    assert at.subheader[0].value == "Seed 42: 2 samples"
    assert len(at.get("image")) == 2
    assert len(at.get("audio")) == 2
    downloads = at.get("download_button")
    assert len(downloads) == 2
    shown = badges(at)
    assert len(shown) == 2
    assert all("Classifier agrees" in b or "Classifier hears" in b for b in shown)
    assert any("genre classifier agrees with" in c.value for c in at.caption)


def tuned_variety() -> float:
    return json.loads((default_gan_dir() / "gan.json").read_text())["sampling"]["truncation"]


def another_variety() -> float:
    """A variety the shipped generator was not tuned at (the slider's lowest, else its top)."""
    return 0.5 if tuned_variety() != 0.5 else 1.0


def check_variety_gives_another_clip(
    at: AppTest, slider: str, button: str, clip: Callable[[AppTest], str]
) -> None:
    """Made at the tuned variety, then at another with the same seed: another ``clip`` (its
    picture or sound), and a note saying which variety it was drawn at."""
    at.button(key=button).click()
    at.run()
    tuned_clip = clip(at)
    assert not any("Drawn at variety" in c.value for c in at.caption)
    other = another_variety()
    at.slider(key=slider).set_value(other)
    at.button(key=button).click()
    at.run()
    assert not at.exception and not at.error
    note = f"Drawn at variety {other:g} (tuned: {tuned_variety():g})"
    assert any(note in c.value for c in at.caption)
    assert clip(at) != tuned_clip  # same seed, other clip


def test_the_variety_slider_starts_at_the_tuned_setting_and_changes_the_clips() -> None:
    at = open_page()
    assert at.slider(key="gan_variety").value == tuned_variety()
    at.slider(key="gan_count").set_value(1)
    check_variety_gives_another_clip(
        at, "gan_variety", "gan_go", lambda at: at.get("image")[0].proto.imgs[0].url
    )


def test_surprise_me_picks_a_seed_and_no_genre_disables_the_button() -> None:
    at = open_page()
    at.toggle(key="gan_surprise").set_value(True)
    at.slider(key="gan_count").set_value(1)
    at.button(key="gan_go").click()
    at.run()
    assert not at.exception
    assert at.subheader[0].value.startswith("Seed ")
    assert len(at.get("audio")) == 1
    at.multiselect(key="gan_genres").set_value([])
    at.run()
    assert at.button(key="gan_go").disabled
    assert any("Pick at least one genre" in c.value for c in at.caption)
    at.multiselect(key="gan_genres").set_value(["rock", "pop", "jazz", "metal"])
    at.slider(key="gan_count").set_value(4)
    at.run()
    assert at.button(key="gan_go").disabled
    assert any("At most 12 clips" in c.value for c in at.caption)


def test_the_page_says_how_often_the_classifier_recognises_the_generator() -> None:
    at = open_page()
    sentence = [c.value for c in at.caption if "recognises about" in c.value]
    assert sentence and "in 10 of this generator's clips" in sentence[0]
    # and, after it, how alike a genre's clips are, from the shipped bundle's own figure
    meta = json.loads((default_gan_dir() / "gan.json").read_text())
    variety = variety_sentence(meta)
    assert variety and sentence[0].endswith(variety)


def test_a_morph_plays_with_what_the_classifier_hears_over_time() -> None:
    at = open_page()
    at.selectbox(key="morph_from").set_value("metal")
    at.selectbox(key="morph_to").set_value("pop")
    at.slider(key="morph_seconds").set_value(10)
    at.button(key="morph_go").click()
    at.run()
    assert not at.exception and not at.error
    assert [s.value for s in at.subheader] == ["metal → pop"]
    assert len(at.get("audio")) == 1 and len(at.get("download_button")) == 1
    charts = at.get("plotly_chart")
    assert len(charts) == 2  # what the classifier hears, then the training curves
    timeline = charts[0].proto.spec
    assert "asked: pop" in timeline and "metal: %{y" in timeline
    at.selectbox(key="morph_to").set_value("metal")
    at.run()
    assert at.button(key="morph_go").disabled
    assert any("two different genres" in c.value for c in at.caption)


def test_words_become_a_blend_and_the_page_says_which_words_it_followed() -> None:
    at = open_page()
    at.text_input(key="prompt_text").set_value("jazz with a touch of reggae and a kazoo")
    at.slider(key="prompt_seconds").set_value(4)
    at.button(key="prompt_go").click()
    at.run()
    assert not at.exception and not at.error
    note = at.info[0].value
    assert "Understood: jazz, reggae." in note and "Not understood: “kazoo”" in note
    assert at.subheader[0].value == "jazz 71% + reggae 29%"
    assert len(at.get("audio")) == 1
    at.text_input(key="prompt_text").set_value("sad piano")
    at.button(key="prompt_go").click()
    at.run()
    assert "No genre in those words" in at.error[0].value


def test_morph_and_words_take_the_variety_too() -> None:
    tuned = tuned_variety()
    at = open_page()
    assert at.slider(key="morph_variety").value == tuned
    assert at.slider(key="prompt_variety").value == tuned
    at.slider(key="morph_seconds").set_value(10)
    check_variety_gives_another_clip(
        at, "morph_variety", "morph_go", lambda at: at.get("audio")[0].proto.url
    )
    at.text_input(key="prompt_text").set_value("aggressive metal")
    at.slider(key="prompt_seconds").set_value(4)
    other = another_variety()
    at.slider(key="prompt_variety").set_value(other)
    at.button(key="prompt_go").click()
    at.run()
    assert not at.exception and not at.error
    assert any(f"Drawn at variety {other:g} (tuned: {tuned:g})" in c.value for c in at.caption)
