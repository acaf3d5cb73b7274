"""Generate: new genre music drawn by a GAN, as spectrogram pictures and sound."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

from audio import resample
from gan.bundle import (
    WEIGHTS_FILE,
    GanBundle,
    default_gan_dir,
    load_active_gan_bundle,
    load_gan_bundle,
)
from gan.card import quality_sentence
from gan.card_diversity import variety_sentence
from gan.critic import critic_words
from gan.errors import GanError
from gan.sample import Sample, generate
from genre.classifier import Classifier
from genre.errors import GenreError
from genre.logs import get_logger
from genre.paths import active_bundle_dir, default_bundle_dir
from ui import charts, generate_more
from ui.clicks import remember_click, take_click
from ui.gan_charts import loss_figure

LENGTHS_S = (3, 6, 12)
MAX_PER_GENRE = 4
MAX_CLIPS = 12  # one click stays within a few seconds of work


@dataclass
class Verdict:
    genre: str | None  # what the classifier hears; None when no classifier could be loaded
    confidence: float = 0.0


@st.cache_resource(show_spinner="Loading the generator…", max_entries=4)
def load_generator(folder: str, modified_ns: int) -> GanBundle:
    return load_gan_bundle(folder)


def load_cached(folder: Path) -> GanBundle:
    """Cached per folder and weights file version, so a re-exported generator is reloaded."""
    try:
        modified_ns = (folder / WEIGHTS_FILE).stat().st_mtime_ns
    except OSError:
        modified_ns = 0  # loading then says what is missing
    return load_generator(str(folder), modified_ns)


@st.cache_resource(show_spinner="Loading the genre model…")
def load_judge(bundle_dir: str) -> Classifier:
    return Classifier(bundle_dir)


def judge() -> Classifier | None:
    """The classifier the Classify page uses (the promoted one, else the shipped default)."""
    for folder in dict.fromkeys([active_bundle_dir(), default_bundle_dir()]):
        try:
            return load_judge(str(folder))
        except GenreError:
            continue
    return None


def verdict(classifier: Classifier | None, sample: Sample) -> Verdict:
    if classifier is None:
        return Verdict(None)
    samples = resample(sample.audio, sample.sample_rate, classifier.bundle.sample_rate)
    prediction = classifier.predict_samples(samples)
    return Verdict(prediction.genre, prediction.confidence)


def show_badge(sample: Sample, seen: Verdict) -> None:
    if seen.genre is None:
        st.badge("No classifier to check with", icon="❔", color="gray")
    elif seen.genre == sample.genre:
        st.badge(f"Classifier agrees: {charts.display_name(seen.genre)} ({seen.confidence:.0%})",
                 icon="✅", color="green")  # fmt: skip
    else:
        st.badge(f"Classifier hears {charts.display_name(seen.genre)} ({seen.confidence:.0%})",
                 icon="⚠️", color="orange")  # fmt: skip


def show_sample(sample: Sample, seen: Verdict) -> None:
    st.markdown(f"**{charts.display_name(sample.genre).capitalize()} #{sample.index + 1}**")
    st.image(sample.png_bytes(), width="stretch")
    st.audio(sample.wav_bytes(), format="audio/wav")
    show_badge(sample, seen)
    st.download_button(
        "Download WAV",
        sample.wav_bytes(),
        file_name=f"{sample.name}.wav",
        mime="audio/wav",
        key=f"download-{sample.name}",
        icon="⬇️",
    )


def training_curves(bundle: GanBundle) -> go.Figure | None:
    log = bundle.training_log
    return loss_figure(log) if log is not None else None


def controls(bundle: GanBundle) -> tuple[list[str], int, int, bool, int, float]:
    labels = bundle.labels
    left, middle, right = st.columns([3, 2, 2], gap="medium")
    with left:
        genres = st.multiselect(
            "Genres",
            labels,
            default=[labels[0]],
            format_func=lambda g: charts.display_name(g).capitalize(),
            key="gan_genres",
        )
        count = st.slider("Samples per genre", 1, MAX_PER_GENRE, 2, key="gan_count")
    with middle:
        seconds = st.select_slider(
            "Length (seconds)", options=LENGTHS_S, value=LENGTHS_S[0], key="gan_seconds"
        )
        surprise = st.toggle("Surprise me", value=False, key="gan_surprise",
                             help="A new random seed every time you press Generate.")  # fmt: skip
    with right:
        seed = st.number_input(
            "Seed", min_value=0, max_value=999_999, value=7, step=1, key="gan_seed",
            disabled=surprise, help="The same seed gives the same samples.",
        )  # fmt: skip
        variety = generate_more.variety_slider(bundle, key="gan_variety")
    return genres, count, int(seconds), surprise, int(seed), variety


def run_generation(bundle: GanBundle, genres: list[str], count: int, seconds: int,
                   seed: int, variety: float) -> None:  # fmt: skip
    classifier = judge()
    try:
        with st.spinner("Drawing spectrograms and turning them into sound…"):
            samples = generate(bundle.with_truncation(variety), genres, count, seed,
                               seconds=float(seconds))  # fmt: skip
            verdicts = [verdict(classifier, s) for s in samples]
    except GanError as err:
        st.error(str(err))
        return
    except Exception:  # a bug: log the traceback, tell the user plainly
        get_logger("genre.pages").exception("generating %s failed", genres)
        st.error("Something went wrong while generating; the details are in the log.")
        return
    st.session_state["gan_results"] = {
        "seed": seed, "variety": variety, "samples": samples, "verdicts": verdicts
    }  # fmt: skip


def samples_section(bundle: GanBundle) -> None:
    genres, count, seconds, surprise, seed, variety = controls(bundle)
    too_many = len(genres) * count > MAX_CLIPS
    st.button("🎲 Generate", type="primary", disabled=not genres or too_many, key="gan_go",
              on_click=remember_click("gan_pending"))  # fmt: skip
    if take_click("gan_pending") and genres and not too_many:
        chosen_seed = random.randrange(1_000_000) if surprise else seed
        run_generation(bundle, genres, count, seconds, chosen_seed, variety)
    if not genres:
        st.caption("Pick at least one genre.")
    elif too_many:
        st.caption(f"At most {MAX_CLIPS} clips at a time: pick fewer genres or fewer samples.")
    results = st.session_state.get("gan_results")
    if results:
        samples, verdicts = results["samples"], results["verdicts"]
        agreed = sum(v.genre == s.genre for s, v in zip(samples, verdicts, strict=True))
        st.subheader(f"Seed {results['seed']}: {len(samples)} samples")
        generate_more.variety_note(bundle, results["variety"])
        if verdicts and verdicts[0].genre is not None:
            st.caption(f"The genre classifier agrees with {agreed} of {len(samples)}.")
        columns = st.columns(min(len(samples), 4), gap="medium")
        for i, (sample, seen) in enumerate(zip(samples, verdicts, strict=True)):
            with columns[i % len(columns)]:
                show_sample(sample, seen)


st.title("🎹 Generate")
st.markdown(
    "A neural network that has listened to ten clips of each genre draws **new** "
    "spectrograms — pictures of sound — and the app turns them into audio you can play."
)
try:
    bundle, load_warning = load_active_gan_bundle(load=load_cached)
except GanError as err:
    st.error(str(err))
    st.stop()
if load_warning:
    st.warning(load_warning)
if bundle.metrics_note:
    st.info(bundle.metrics_note)
trained_here = bundle.path.resolve() != default_gan_dir().resolve()
if trained_here:
    st.info(
        f"Using the generator you trained ({bundle.path.parent.name}, "
        f"{bundle.meta.get('training', {}).get('steps', '?')} steps). The shipped one can be "
        "restored on the Training page."
    )

quality = [quality_sentence(bundle.meta, name=charts.display_name), variety_sentence(bundle.meta)]
if any(quality):
    st.caption(" ".join(sentence for sentence in quality if sentence))
samples_tab, morph_tab, words_tab = st.tabs(["🎲 Samples", "🌗 Genre morph", "💬 From words"])
with samples_tab:
    samples_section(bundle)
with morph_tab:
    generate_more.morph_tab(bundle, judge())
with words_tab:
    generate_more.prompt_tab(bundle, judge())

with st.expander("What am I looking at, and why does it sound like that?"):
    st.markdown(
        "- **A spectrogram** is a picture of sound: time runs left to right, pitch from low "
        "(bottom) to high (top), and brighter means louder. A drum hit is a bright vertical "
        "stripe, a held note a horizontal line.\n"
        "- **The generator** is a *GAN*: two networks trained against each other. One draws "
        "spectrograms from random numbers and the genre you pick; the other tries to tell them "
        "from real ones. Each learns from the other's mistakes.\n"
        "- **Why it sounds metallic and blurry:** a spectrogram keeps how loud each pitch is "
        "but throws away the *phase* — how the sound waves line up. The app has to guess it "
        "(the Griffin-Lim method), which gives a watery, robotic shimmer. The network is also "
        "small, trained on an ordinary computer's processor from only 100 clips, so it learns "
        "the texture of a genre (drums, bass, brightness) rather than melodies or songs."
        + (f"\n{picked}" if (picked := critic_words(bundle)) else "")
    )

with st.expander(f"How the {'chosen' if trained_here else 'shipped'} generator was trained"):
    figure = training_curves(bundle)
    if figure is not None:
        st.plotly_chart(figure, key="gan-curves")
        st.caption(
            "The two networks' losses while training. They are meant to stay balanced: if one "
            "won outright, the generator would stop learning. The genre loss falls as the "
            "generated patches become easier to recognise as their genre."
        )
    st.markdown(bundle.model_card)
