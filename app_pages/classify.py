"""Classify: record or upload music and see its genre, overall and moment by moment."""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass

import streamlit as st

from audio import DEFAULT_MAX_MINUTES, MAX_ANALYSIS_MINUTES, AudioError
from genre.bundle import Bundle
from genre.classifier import Classifier, Prediction
from genre.errors import GenreError
from genre.explain import Explanation, explain_source
from genre.logs import get_logger
from genre.paths import active_bundle_dir, default_bundle_dir
from genre.report import batch_row, csv_table, display_table, headline, model_label, music_windows
from genre.verdict import display_name
from ui import charts
from ui.classify_live import live_tab
from ui.explain_view import show_explanation
from ui.results_memory import ResultsMemory
from ui.upload_limit import upload_limit_note

# Results kept per browser session, so reruns do not re-analyse. Bounded by count and by size:
# a 10-minute track's spectrogram alone is several MB. The uploads themselves are not kept here.
MAX_REMEMBERED = 64
MAX_REMEMBERED_BYTES = 128 * 1024 * 1024
# Explanations hold the track's audio and two maps of its spectrogram (~5 MB per 30 s).
MAX_EXPLANATIONS = 16
MAX_EXPLANATION_BYTES = 96 * 1024 * 1024
BATCH_TABLE_STYLE = """<style>
/* Batch table: long file names and messages wrap rather than widen the table past a phone;
   genre and confidence stay on one line. */
[data-testid='stTable'] :is(td, th, td *, th *) {
  white-space: normal !important; overflow-wrap: anywhere !important;
}
[data-testid='stTable'] :is(:nth-child(2), :nth-child(3)):is(td, th) * {
  white-space: nowrap !important;
}
</style>"""


@dataclass
class Outcome:
    name: str
    prediction: Prediction | None = None
    error: str | None = None

    @property
    def size_bytes(self) -> int:
        """Roughly what keeping this result costs in memory."""
        p = self.prediction
        if p is None:
            return len(self.error or "") + 100
        arrays = (p.mel, p.window_probs, p.window_starts_s, p.probs)
        return sum(a.nbytes for a in arrays) + 1000


def session_results() -> ResultsMemory[Outcome]:
    memory = st.session_state.get("classify_results")
    if not isinstance(memory, ResultsMemory):  # first visit, or state from an older version
        memory = ResultsMemory(MAX_REMEMBERED, MAX_REMEMBERED_BYTES, lambda o: o.size_bytes)
        st.session_state["classify_results"] = memory
    return memory


@st.cache_resource(show_spinner="Loading the genre model…")
def load_classifier(bundle_dir: str) -> Classifier:
    return Classifier(bundle_dir)


def current_classifier() -> Classifier | None:
    chosen = active_bundle_dir()
    try:
        return load_classifier(str(chosen))
    except GenreError as err:
        if chosen == default_bundle_dir():
            st.error(f"The genre model cannot be loaded. {err}")
            return None
        st.warning(f"The promoted model cannot be used ({err}). Using the shipped default.")
    try:
        return load_classifier(str(default_bundle_dir()))
    except GenreError as err:
        st.error(f"The genre model cannot be loaded. {err}")
        return None


def analyse(classifier: Classifier, name: str, data: bytes, max_minutes: float) -> Outcome:
    """Classify one file; results live in this session only (never shared between users)."""
    key = (str(classifier.bundle.path), hashlib.sha1(data).hexdigest(), name, max_minutes)
    memory = session_results()
    remembered = memory.get(key)
    if remembered is not None:
        return remembered
    outcome = Outcome(name=name)
    try:
        outcome.prediction = classifier.predict(data, name=name, max_minutes=max_minutes)
    except AudioError as err:
        outcome.error = str(err)
        if err.detail:  # the technical reason (e.g. ffmpeg's), for the log only
            get_logger("genre.pages").info("%s: %s (%s)", name, outcome.error, err.detail)
    except Exception:  # a bug: log the traceback, tell the user plainly
        get_logger("genre.pages").exception("classifying %s failed", name)
        outcome.error = f"Something went wrong while analysing {name}; the details are in the log."
    memory.put(key, outcome)
    return outcome


def show_prediction(outcome: Outcome, data: bytes, classifier: Classifier, key: str) -> None:
    prediction = outcome.prediction
    assert prediction is not None
    line = headline(prediction)
    left, right = st.columns([2, 3], gap="large")
    with left:
        st.audio(data)
        st.markdown(
            f"<h2 style='margin-bottom:0'>{html.escape(line.heading, quote=False)}</h2>",
            unsafe_allow_html=True,
        )
        if line.kind == "not_music":
            if line.detail:
                st.markdown(line.detail)
            st.caption(line.small_print)
        elif line.kind == "clear":
            st.progress(prediction.confidence, text=f"{prediction.confidence:.0%} confident")
        else:  # close call, mix or unsure: the probabilities behind the words
            st.markdown(line.detail)
        bundle = classifier.bundle
        overlapping = "overlapping " if bundle.hop_s < bundle.window_s else ""
        count = len(prediction.window_probs)
        windows = f"{count} {overlapping}{bundle.window_s:.0f}-second window{'s' * (count != 1)}"
        st.caption(
            f"Confidence is the model's probability for a genre, averaged over {windows} "
            "of the track."
        )
        if prediction.tags and line.kind != "not_music":
            top = [tag for tag, _ in list(prediction.tags.items())[:5]]
            st.markdown("**Sounds like:** " + ", ".join(top))
        for note in prediction.warnings:
            st.info(note)
        if prediction.duration_s < 10:
            st.info("Short clip: 10 s or more gives a steadier answer.")
    with right:
        st.plotly_chart(charts.probability_bars(prediction.ranked()), key=f"bars-{key}")
    st.markdown("**Genre over time** — what the model hears in each few-second stretch.")
    st.plotly_chart(
        charts.genre_timeline(
            prediction.window_starts_s,
            prediction.window_probs,
            prediction.labels,
            classifier.bundle.window_s,
            music=music_windows(prediction),
        ),
        key=f"timeline-{key}",
    )
    with st.expander("Spectrogram: what the model sees"):
        st.caption(
            "A spectrogram shows sound as a picture: time runs left to right, pitch from "
            "bottom (bass) to top (treble), and brighter means louder."
        )
        st.plotly_chart(charts.spectrogram(prediction.mel, prediction.mel_hop_s), key=f"mel-{key}")
    if line.kind != "not_music":
        why_this_genre(outcome, data, classifier, key)


def session_explanations() -> ResultsMemory[Explanation | str]:
    memory = st.session_state.get("classify_explanations")
    if not isinstance(memory, ResultsMemory):
        memory = ResultsMemory(
            MAX_EXPLANATIONS, MAX_EXPLANATION_BYTES,
            lambda e: e.size_bytes if isinstance(e, Explanation) else len(e) + 100,
        )  # fmt: skip
        st.session_state["classify_explanations"] = memory
    return memory


def explanation_for(
    classifier: Classifier, name: str, data: bytes, genre: str
) -> Explanation | str:
    """The explanation of one track (computed once per session), or why there is none."""
    max_minutes = float(st.session_state.get("max_minutes", DEFAULT_MAX_MINUTES))
    key = (str(classifier.bundle.path), hashlib.sha1(data).hexdigest(), genre, max_minutes)
    memory = session_explanations()
    remembered = memory.get(key)
    if remembered is not None:
        return remembered
    try:
        with st.spinner("Finding where the model heard it…"):
            result: Explanation | str = explain_source(
                classifier, data, genre=genre, name=name, max_minutes=max_minutes
            )
    except (AudioError, GenreError) as err:
        result = str(err)
    except Exception:  # a bug: log the traceback, tell the user plainly
        get_logger("genre.pages").exception("explaining %s failed", name)
        result = "Something went wrong while explaining this track; the details are in the log."
    memory.put(key, result)
    return result


def why_this_genre(outcome: Outcome, data: bytes, classifier: Classifier, key: str) -> None:
    """On demand: the overlay, the plain-words summary, the caution, the 3-s extremes."""
    prediction = outcome.prediction
    assert prediction is not None
    if not st.toggle(
        f"Why {display_name(prediction.genre)}? Show where the model heard it",
        key=f"why-{key}",
        help="Takes a second or two: the model is asked which parts of the sound pushed it "
        "towards this genre.",
    ):
        return
    explanation = explanation_for(classifier, outcome.name, data, prediction.genre)
    if isinstance(explanation, str):
        st.warning(explanation)
        return
    show_explanation(explanation)


def show_outcome(outcome: Outcome, data: bytes, classifier: Classifier, key: str) -> None:
    if outcome.error:
        st.error(f"**{outcome.name}**: {outcome.error}")
    else:
        show_prediction(outcome, data, classifier, key)


def about_the_model(bundle: Bundle) -> None:
    """Plain words first; the technical model card only for those who ask."""
    st.markdown(f"**{bundle.title}.** {bundle.description}")
    trained = bundle.trained_on.get("dataset")
    if trained:
        st.caption(f"Trained on: {trained}.")
    if st.toggle("Show the technical model card", key="show_model_card"):
        st.markdown(bundle.model_card or "This model has no model card.")


def analysis_settings() -> float:
    """The user's cap on how much of each track is analysed, in minutes."""
    with st.expander("⚙️ Settings"):
        return float(
            st.number_input(
                "Analyse at most this many minutes of each track",
                min_value=0.5,
                max_value=MAX_ANALYSIS_MINUTES,  # the decoder's own bound
                value=DEFAULT_MAX_MINUTES,
                step=0.5,
                key="max_minutes",
                help="Only the beginning of a longer track is analysed, and the result says so. "
                "A higher limit covers more of long tracks but takes longer and uses more memory.",
            )
        )


def record_tab(classifier: Classifier, max_minutes: float) -> None:
    recording = st.audio_input(
        "Play ~30 s of music near your microphone",
        sample_rate=44100,
        help="Press the microphone to start and the stop button to finish. Nothing is uploaded "
        "anywhere: the recording is analysed on this computer.",
        key="recording",
    )
    if recording is None:
        st.caption("Tip: hold the phone or speaker close to the microphone and avoid talking.")
        return
    data = recording.getvalue()
    outcome = analyse(classifier, "recording.wav", data, max_minutes)
    show_outcome(outcome, data, classifier, key="recording")


def upload_tab(classifier: Classifier, max_minutes: float) -> None:
    st.html(BATCH_TABLE_STYLE)
    files = st.file_uploader(
        "Upload one or more tracks",
        accept_multiple_files=True,
        help="WAV, FLAC, OGG, MP3 or AU (other formats when ffmpeg is installed). Long tracks "
        f"are analysed up to their first {max_minutes:g} minutes; change that in Settings.",
        key="uploads",
    )
    upload_limit_note(
        "For longer recordings, use a compressed format (MP3, OGG) or the command line."
    )
    if not files:
        st.caption("Drop files here to see their genres side by side.")
        return
    progress = st.progress(0.0, text="Analysing…") if len(files) > 1 else None
    tracks: list[tuple[Outcome, bytes]] = []
    for i, file in enumerate(files, 1):
        data = file.getvalue()
        tracks.append((analyse(classifier, file.name, data, max_minutes), data))
        if progress:
            progress.progress(i / len(files), text=f"Analysed {i} of {len(files)}")
    if progress:
        progress.empty()
    if len(tracks) > 1:
        rows = [batch_row(o.name, o.prediction, o.error) for o, _ in tracks]
        # A static table: long error texts wrap instead of being cut off, and on a phone the
        # genre and confidence stay in view next to the file name.
        st.table(display_table(rows), hide_index=True)
        st.download_button(
            "Download results (CSV)",
            csv_table(rows).to_csv(index=False).encode(),
            file_name="genre-results.csv",
            mime="text/csv",
        )
        for i, (outcome, data) in enumerate(tracks):
            label = outcome.name if outcome.error is None else f"⚠️ {outcome.name}"
            with st.expander(label, expanded=i == 0):
                show_outcome(outcome, data, classifier, key=f"upload-{i}")
    else:
        outcome, data = tracks[0]
        show_outcome(outcome, data, classifier, key="upload-0")


st.title("🎧 Classify")
st.markdown(
    "Record music or upload tracks: the model listens in short windows and tells you which of "
    "ten genres (blues, classical, country, disco, hip-hop, jazz, metal, pop, reggae, rock) it "
    "hears."
)
classifier = current_classifier()
if classifier is not None:
    bundle = classifier.bundle
    with st.expander(model_label(bundle.metrics)):
        about_the_model(bundle)
    max_minutes = analysis_settings()
    record, upload, live = st.tabs(["🎙️ Record", "📁 Upload", "🔴 Live"])
    with record:
        record_tab(classifier, max_minutes)
    with upload:
        upload_tab(classifier, max_minutes)
    with live:
        live_tab(classifier)
