"""Training page, launch section: the quick start and the Advanced form (data, split, models,
options), with the checks run before a launch."""

from __future__ import annotations

import time

import streamlit as st

from genre.errors import GenreError
from genre.models import get_model_spec
from genre.models.names import model_order, model_summary, model_title
from genre.splits import SPLIT_KINDS
from genre.training import compare, jobs
from genre.training.config import RunConfig
from genre.training.data_choices import (
    SHIPPED_TABLE,
    TYPED,
    DataCheck,
    check_data,
    data_choices,
    datasets_dir,
    fingerprint,
    resolve,
    shipped_clips,
)
from genre.training.experiment import preflight
from runs.store import RunRegistry
from ui import launch_messages
from ui.clicks import remember_click, take_click
from ui.launch_messages import Message

QUICK, ADVANCED = "quick", "advanced"  # where a launch's messages are shown
QUICK_START_MODEL = "musicnn_genre"  # the most accurate on little data, and quick to fit
QUICK_CLICKED, LAUNCH_CLICKED = "quick-start-clicked", "launch-clicked"
SPLIT_NAMES = {
    "filtered": "artist-filtered (GTZAN only: 443 / 197 / 290)",
    "holdout": "stratified hold-out (tracks)",
    "kfold": "grouped k-fold (blocks of neighbouring tracks)",
}


def quick_start() -> None:
    """One click: the pretrained musicnn head on the shipped clips, with the suggested split."""
    path = str(shipped_clips())
    with st.container(border=True):
        text, button = st.columns([4, 1], vertical_alignment="center")
        text.markdown(
            f"**Quick start**: train the *{model_title(QUICK_START_MODEL)}* on the 100 shipped "
            "GTZAN clips and see its honest accuracy in a few minutes."
        )
        button.button(
            "Quick start", type="primary", key="quick-start", on_click=remember_click(QUICK_CLICKED)
        )
        if take_click(QUICK_CLICKED):
            suggestion = checked(compare.AUDIO_SOURCE, path).suggestion
            split = suggestion[0] if suggestion else "kfold"
            start_runs(compare.AUDIO_SOURCE, path, [QUICK_START_MODEL], {"split": split})
        launch_messages.show(QUICK)


def pick_data() -> tuple[str, str, DataCheck]:
    """The data box, the path box for "another…", and what the check found: (kind, path,
    check). Outside the form: the check, split and models follow the data at once."""
    choices = {c.key: c for c in data_choices()}
    picked = st.selectbox(
        "Data",
        list(choices),
        index=list(choices).index(SHIPPED_TABLE),
        format_func=lambda key: choices[key].label,
        key="data-choice",
        help=f"To train on your own music, put a folder with one sub-folder per genre (audio "
        f"files inside) in {datasets_dir()}: it appears in this list.",
    )
    typed = ""
    if picked == TYPED:
        typed = st.text_input(
            "Folder or feature table on the server",
            key="data-path",
            placeholder="/path/to/genres_original or /path/to/features.csv",
            help="A folder with one sub-folder per genre (Kaggle's genres_original/, the "
            "original genres/ tarball, …) or a feature table (CSV) in the Kaggle layout.",
        )
    kind, path = resolve(choices[picked], typed)
    check = checked(kind, path)
    if check.ok:
        st.caption(f"✅ {check.message}")
    elif not path:
        st.info(check.message)
    else:
        st.error(check.message)
    return kind, path, check


def launch_form() -> None:
    source, path, check = pick_data()
    apply_split_suggestion(check.suggestion)
    split = st.selectbox("Split", SPLIT_KINDS, format_func=SPLIT_NAMES.get, key="split")
    if check.suggestion is not None:
        st.caption(check.suggestion[1])
    names = sorted(compare.models_for(source), key=model_order)
    # outside the form: which inputs apply follows the models chosen at once
    models = st.multiselect(
        "Models",
        names,
        default=[n for n in compare.DEFAULT_MODELS[source] if n in names][:1],
        format_func=model_title,
        key=f"models-{source}",
        placeholder="Pick one or more models",
    )
    for name in models:
        st.caption(f"**{model_title(name)}**: {model_summary(name)} · code name `{name}`")
    # epochs and spectrogram options apply to networks trained here, not to the pretrained head
    trains_a_network = source == compare.AUDIO_SOURCE and any(
        get_model_spec(n).input != "embedding" for n in models
    )
    d = RunConfig.default  # the one source of defaults, shared with the command line
    with st.form("launch"):
        settings: dict = {"split": split}
        folds_column, epochs_column = st.columns(2)
        if split == "kfold":
            settings["folds"] = int(
                folds_column.number_input("Folds", 2, 10, d("folds"), key="folds")
            )
        if split == "kfold" and source == compare.AUDIO_SOURCE:  # models the Classify page uses
            settings["final_fit"] = folds_column.checkbox(
                "Then train the saved model on every track",
                d("final_fit"),
                key="final-fit",
                help="The accuracy shown comes from the folds either way. Ticked, the model "
                "you can use on the Classify page learns from all your tracks (one more "
                "training); unticked, it is the last fold's model.",
            )
        if trains_a_network:
            settings["epochs"] = int(
                epochs_column.number_input("Epochs", 1, 200, d("epochs"), key="epochs")
            )
            # a bordered box, not an expander: expanders cannot nest in the Advanced one
            with st.container(border=True):
                st.caption("Spectrogram and training options")
                a, b, c = st.columns(3)
                inputs = ["mel", "stft"]
                settings["frontend"] = a.selectbox(
                    "Input", inputs, index=inputs.index(d("frontend")), key="frontend"
                )
                settings["n_mels"] = int(
                    b.number_input("Mel bands", 16, 256, d("n_mels"), key="n_mels")
                )
                settings["window_s"] = float(
                    c.number_input("Window (s)", 0.5, 10.0, d("window_s"), step=0.5, key="window_s")
                )
                settings["hop_s"] = settings["window_s"] / 2
                settings["augment"] = a.checkbox(
                    "Random-crop augmentation", d("augment"), key="augment"
                )
                settings["mixup"] = float(
                    b.number_input("Mixup α (0 = off)", 0.0, 2.0, d("mixup"), key="mixup")
                )
                settings["patience"] = int(
                    c.number_input(
                        "Early stopping patience (0 = off)", 0, 50, d("patience"), key="patience"
                    )
                )
                settings["lr"] = float(
                    a.number_input("Learning rate", 1e-5, 1e-1, d("lr"), format="%.4f", key="lr")
                )
                settings["batch_size"] = int(
                    b.number_input("Batch size", 4, 256, d("batch_size"), key="batch")
                )
                settings["crops_per_track"] = int(
                    c.number_input(
                        "Crops per track and epoch", 1, 64, d("crops_per_track"), key="crops"
                    )
                )
            st.caption("Networks train on short windows and score a whole track by averaging them.")
        st.form_submit_button(
            "Launch training",
            type="primary",
            key="launch-button",
            disabled=not check.ok,
            on_click=remember_click(LAUNCH_CLICKED),
        )
    if take_click(LAUNCH_CLICKED) and check.ok:
        start_runs(source, path, models, settings, where=ADVANCED)
    launch_messages.show(ADVANCED)


@st.cache_data(show_spinner=False, max_entries=32)
def _checked(kind: str, path: str, fingerprint: tuple[int, int]) -> DataCheck:
    return check_data(kind, path)


def checked(kind: str, path: str) -> DataCheck:
    """What the data at ``path`` holds; read again only when its folders change."""
    return _checked(kind, path, fingerprint(path))


def apply_split_suggestion(suggestion: tuple[str, str] | None) -> None:
    """Set the split box to the suggestion, unless the user picked a split by hand.

    ``split-auto`` remembers the last value set here: a different value in the box is the
    user's own choice, which is kept whatever data they pick next.
    """
    state = st.session_state
    if "split" not in state:
        state["split"] = suggestion[0] if suggestion else SPLIT_KINDS[0]
        state["split-auto"] = state["split"]
    chosen_by_hand = state["split"] != state.get("split-auto")
    if suggestion is not None and not chosen_by_hand:
        state["split"] = state["split-auto"] = suggestion[0]


def start_runs(
    source: str, path: str, models: list[str], settings: dict, where: str = QUICK
) -> None:
    """Check and launch one run per model; what happened is told under the button clicked
    (``where``) and stays there until the next launch."""
    launch_messages.remember(where, launch_runs(source, path, models, settings))


def launch_runs(source: str, path: str, models: list[str], settings: dict) -> list[Message]:
    if not models:
        return [("warning", "Pick at least one model.")]
    try:
        configs = [compare.build_config(source, path, m, **settings) for m in models]
        note, warnings = preflight(configs[0])
        for config in configs[1:]:
            preflight(config)
    except GenreError as err:
        return [("error", str(err))]
    messages: list[Message] = [("warning", w) for w in warnings]
    started = [jobs.launch(config, RunRegistry()) for config in configs]
    failed = [r for r in started if r.status == "failed"]
    messages += [("error", f"{run.model}: {run.error}") for run in failed]
    if len(failed) < len(started):
        messages.append((
            "success",
            f"Started {len(started) - len(failed)} run(s) in the background at "
            f"{time.strftime('%H:%M')}: {note}. They keep running if you leave this page.",
        ))  # fmt: skip
    return messages
