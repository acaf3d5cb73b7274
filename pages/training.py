"""Training: launch models in the background, watch them learn, compare honest numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from genre.errors import GenreError
from genre.paths import (
    REPO_ROOT,
    active_bundle_dir,
    default_bundle_dir,
    set_active_bundle_dir,
    shared_gtzan_dir,
)
from genre.runs import Run, RunRegistry
from genre.splits import SPLIT_KINDS, WHY_SPLITS_MATTER
from genre.training import compare, jobs
from genre.training.experiment import preflight, suggest_split
from pages import charts
from pages.navigation import ensure_app_navigation
from pages.run_watch import note_whole_page_run, rerun_page_when_runs_end
from pages.training_gan import gan_section, is_gan_run

ensure_app_navigation()

POLL_S = 2.0
SPLIT_NAMES = {
    "filtered": "artist-filtered (GTZAN only: 443 / 197 / 290)",
    "holdout": "stratified hold-out (tracks)",
    "kfold": "grouped k-fold (blocks of neighbouring tracks)",
}
SOURCE_NAMES = {
    compare.FEATURE_SOURCE: "Feature table (one row of audio features per track)",
    compare.AUDIO_SOURCE: "Audio folder (one sub-folder per genre)",
}
NOT_PROMOTABLE = (
    "Only neural networks trained on log-mel spectrograms (and the musicnn head) can be used on "
    "the Classify page: it computes log-mel windows from your audio. Feature-table models "
    "(scikit-learn) need the table's librosa features and STFT models another front-end, so "
    "they stay here for comparison."
)


def registry() -> RunRegistry:
    return RunRegistry()


# -- launch ---------------------------------------------------------------------------------
def launch_form() -> None:
    source = st.radio(
        "Data",
        list(SOURCE_NAMES),
        format_func=SOURCE_NAMES.get,
        horizontal=True,
        key="source",
    )
    default_path = (
        str(REPO_ROOT / "data" / "gtzan" / "features_30_sec.csv")
        if source == compare.FEATURE_SOURCE
        else str(shared_gtzan_dir() / "audio")
    )
    # data and split outside the form: the split suggestion follows the data at once
    path = st.text_input(
        "Feature table (CSV)" if source == compare.FEATURE_SOURCE else "Audio folder",
        value=default_path,
        key=f"path-{source}",
        help="The GTZAN feature table of all 1000 tracks ships with the app"
        if source == compare.FEATURE_SOURCE
        else "Kaggle's genres_original/, the original genres/ tarball, or any folder of "
        "class folders. The 100 shared GTZAN clips are the default.",
    )
    suggestion = suggested_split(source, path.strip())
    apply_split_suggestion(suggestion)
    split = st.selectbox("Split", SPLIT_KINDS, format_func=SPLIT_NAMES.get, key="split")
    if suggestion is not None:
        st.caption(suggestion[1])
    with st.form("launch"):
        names = compare.models_for(source)
        models = st.multiselect(
            "Models",
            names,
            default=[n for n in compare.DEFAULT_MODELS[source] if n in names][:1],
            key=f"models-{source}",
            help="\n".join(compare.describe_model(n) for n in names),
        )
        folds_column, epochs_column = st.columns(2)
        folds = folds_column.number_input("Folds (k-fold)", 2, 10, 5, key="folds")
        epochs = epochs_column.number_input(
            "Epochs", 1, 200, 10, key="epochs", disabled=source == compare.FEATURE_SOURCE
        )
        settings = {"split": split, "folds": int(folds), "epochs": int(epochs)}
        if source == compare.AUDIO_SOURCE:
            with st.expander("Spectrogram and training options"):
                a, b, c = st.columns(3)
                settings["frontend"] = a.selectbox("Input", ["mel", "stft"], key="frontend")
                settings["n_mels"] = int(b.number_input("Mel bands", 16, 256, 128, key="n_mels"))
                settings["window_s"] = float(
                    c.number_input("Window (s)", 0.5, 10.0, 3.0, step=0.5, key="window_s")
                )
                settings["hop_s"] = settings["window_s"] / 2
                settings["augment"] = a.checkbox("Random-crop augmentation", True, key="augment")
                settings["mixup"] = float(
                    b.number_input("Mixup α (0 = off)", 0.0, 2.0, 0.0, key="mixup")
                )
                settings["patience"] = int(
                    c.number_input("Early stopping patience (0 = off)", 0, 50, 0, key="patience")
                )
                settings["lr"] = float(
                    a.number_input("Learning rate", 1e-5, 1e-1, 1e-3, format="%.4f", key="lr")
                )
                settings["batch_size"] = int(b.number_input("Batch size", 4, 256, 32, key="batch"))
                settings["crops_per_track"] = int(
                    c.number_input("Crops per track and epoch", 1, 64, 8, key="crops")
                )
        if source == compare.AUDIO_SOURCE:
            st.caption(
                "Each run trains on 3-s windows and scores whole tracks by averaging them. "
                "musicnn_genre trains only a genre head on the pretrained musicnn backbone "
                "(its embeddings are computed once per clip, about a second each, and cached) "
                "with the shipped head's recipe: the epoch and spectrogram options do not "
                "apply to it, and its model also gives the 50 MSD tags on the Classify page."
            )
        submitted = st.form_submit_button("Launch training", type="primary", key="launch-button")
    if submitted:
        start_runs(source, path.strip(), models, settings)


@st.cache_data(show_spinner=False, max_entries=32)
def _suggestion(source: str, path: str, modified_ns: int) -> tuple[str, str] | None:
    data = {"features": path} if source == compare.FEATURE_SOURCE else {"dataset": path}
    try:
        return suggest_split(**data)
    except GenreError:
        return None  # the launch reports what is wrong with the path


def suggested_split(source: str, path: str) -> tuple[str, str] | None:
    """(split kind, why) for the data at ``path``; None when it cannot be read."""
    try:
        modified_ns = Path(path).expanduser().stat().st_mtime_ns
    except OSError:
        return None
    return _suggestion(source, path, modified_ns)


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


def start_runs(source: str, path: str, models: list[str], settings: dict) -> None:
    if not models:
        st.warning("Pick at least one model.")
        return
    try:
        configs = [compare.build_config(source, path, m, **settings) for m in models]
        note, warnings = preflight(configs[0])
        for config in configs[1:]:
            preflight(config)
    except GenreError as err:
        st.error(str(err))
        return
    for warning in warnings:
        st.warning(warning)
    started = [jobs.launch(config, registry()) for config in configs]
    failed = [r for r in started if r.status == "failed"]
    for run in failed:
        st.error(f"{run.model}: {run.error}")
    if len(failed) < len(started):
        st.success(
            f"Started {len(started) - len(failed)} run(s) in the background: {note}. "
            "They keep running if you leave this page."
        )


# -- live runs ------------------------------------------------------------------------------
def curves_figure(run_id: str, epochs: list[dict]) -> go.Figure | None:
    frame = compare.curves_frame(epochs)
    if frame.empty:
        return None
    fig = make_subplots(rows=1, cols=2, subplot_titles=("loss", "accuracy"))
    dash = {"train": "solid", "validation": "dot"}
    for (fold, side), part in frame.groupby(["fold", "side"], sort=True):
        for col, metric in ((1, "loss"), (2, "accuracy")):
            rows = part[part.metric == metric]
            if rows.empty:
                continue
            name = side if frame.fold.nunique() == 1 else f"{side}, fold {fold}"
            fig.add_trace(
                go.Scatter(
                    x=rows.epoch,
                    y=rows.value,
                    mode="lines+markers",
                    name=name,
                    legendgroup=name,
                    showlegend=col == 1,
                    line=dict(dash=dash[side]),
                ),
                row=1,
                col=col,
            )
    fig.update_yaxes(tickformat=".0%", row=1, col=2, range=[0, 1])
    fig.update_xaxes(title_text="epoch", dtick=1 if frame.epoch.max() <= 20 else None)
    fig.update_layout(height=280, margin=dict(l=10, r=10, t=30, b=10))
    return fig


def show_active(run: Run, reg: RunRegistry) -> None:
    with st.container(border=True):
        head, button = st.columns([5, 1])
        head.markdown(f"**{run.model}** · {run.split} · `{run.id}`  \n{run.dataset}")
        if button.button("Cancel", key=f"cancel-{run.id}"):
            st.toast(jobs.cancel(run.id, reg))
        st.progress(run.progress, text=compare.progress_text(run))
        fig = curves_figure(run.id, reg.epochs(run.id))
        if fig is not None:
            st.plotly_chart(fig, key=f"live-{run.id}")


def live_runs() -> None:
    note_whole_page_run("active_runs")
    _live_runs()


@st.fragment(run_every=POLL_S)
def _live_runs() -> None:
    reg = registry()
    jobs.refresh(reg)
    active = [r for r in reg.list(limit=200) if r.active]
    rerun_page_when_runs_end("active_runs", {r.id for r in active})  # refresh the comparison
    if not active:
        st.caption("No training is running. Launch one above; runs continue in the background.")
        return
    for run in active:
        show_active(run, reg)


# -- comparison -----------------------------------------------------------------------------
def confusion_figure(metrics: dict) -> go.Figure:
    labels = [charts.display_name(g) for g in metrics["labels"]]
    matrix = metrics["confusion"]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=labels,
            y=labels,
            colorscale="Blues",
            text=matrix,
            texttemplate="%{text}",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(
        height=380,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis=dict(title="predicted", tickangle=-45),
        yaxis=dict(title="true", autorange="reversed"),
    )
    return fig


def accuracy_bars(table: pd.DataFrame) -> go.Figure:
    shown = table.sort_values("accuracy %", ascending=False).head(20)
    errors = shown["k-fold std %"].fillna(0.0).tolist()
    fig = go.Figure(
        go.Bar(
            x=[
                f"{m} ({s}) {r[-6:]}"
                for m, s, r in zip(shown.model, shown.split, shown.run, strict=True)
            ],
            y=shown["accuracy %"],
            error_y=dict(type="data", array=errors, visible=any(errors)),
            marker_color=["#2e7d32" if p else "#607d8b" for p in shown.promotable],
            text=[f"{a:.1f} %" for a in shown["accuracy %"]],
            textposition="outside",
            hovertemplate="%{x}: %{y:.1f} %<extra></extra>",
        )
    )
    fig.update_layout(
        height=340,
        margin=dict(l=10, r=10, t=10, b=10),
        yaxis=dict(title="test accuracy (%)", range=[0, 105]),
    )
    return fig


def promote_controls(run: Run) -> None:
    bundle = run.metrics.get("bundle")
    if not bundle:
        st.caption(NOT_PROMOTABLE)
        return
    active = str(active_bundle_dir())
    if active == bundle:
        st.success("This model is in use on the Classify page.")
    elif st.button("Use this model on the Classify page", key=f"promote-{run.id}"):
        try:
            set_active_bundle_dir(bundle)
            st.toast(f"The Classify page now uses {run.model} ({run.id}).")
            st.rerun()
        except OSError as err:
            st.error(f"The model could not be promoted: {err}")


def run_details(run: Run, reg: RunRegistry) -> None:
    st.markdown(f"**{compare.run_label(run)}**")
    st.plotly_chart(confusion_figure(run.metrics), key=f"confusion-{run.id}")
    st.dataframe(
        compare.per_genre_table(run.metrics),
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format="%.1f")
            for c in ("precision %", "recall %", "F1 %")
        },
        key=f"report-{run.id}",
    )
    fig = curves_figure(run.id, reg.epochs(run.id))
    if fig is not None:
        st.plotly_chart(fig, key=f"curves-{run.id}")
    skipped = run.metrics.get("skipped") or []
    if skipped:
        with st.expander(f"{len(skipped)} file(s) skipped"):
            st.dataframe(pd.DataFrame(skipped, columns=["file", "reason"]), hide_index=True)
    promote_controls(run)


def comparison() -> None:
    reg = registry()
    runs = reg.list(limit=500)
    # GAN runs have no accuracy to compare: they have their own section
    finished = [r for r in runs if r.status == "finished" and not is_gan_run(r)]
    table = compare.comparison_table(finished)
    if table.empty:
        st.info("Finished runs will be compared here.")
    else:
        percent = st.column_config.NumberColumn(format="%.1f")
        st.dataframe(
            table.drop(columns=["promotable"]),
            hide_index=True,
            column_config={
                "accuracy %": percent,
                "macro precision %": percent,
                "macro recall %": percent,
                "macro F1 %": percent,
                "k-fold mean %": percent,
                "k-fold std %": percent,
                "training s": st.column_config.NumberColumn(format="%.1f"),
                "ms per track": st.column_config.NumberColumn(format="%.1f"),
                "windows/s": st.column_config.NumberColumn(format="%.0f"),
            },
            key="comparison",
        )
        st.plotly_chart(accuracy_bars(table), key="accuracy-bars")
        st.caption(
            "Accuracy is per track, on tracks the model never saw in training. With k-fold, "
            "every track is tested once; the bars show the folds' standard deviation. "
            "Green bars: models that can be used on the Classify page."
        )
        by_id = {r.id: r for r in finished}
        best = list(table.sort_values("accuracy %", ascending=False).run[:2])
        chosen = st.multiselect(
            "Compare in detail",
            list(by_id),
            default=best,
            format_func=lambda i: compare.run_label(by_id[i]),
            key="detail-runs",
        )
        if chosen:
            for column, run_id in zip(st.columns(len(chosen)), chosen, strict=True):
                with column:
                    run_details(by_id[run_id], reg)
    restore_default()
    ended_badly(reg, [r for r in runs if r.status in ("failed", "cancelled")])


def restore_default() -> None:
    current = active_bundle_dir()
    if current != default_bundle_dir():
        left, right = st.columns([4, 1])
        left.info(f"The Classify page uses a model you trained: {current.name}.")
        if right.button("Restore the shipped model", key="restore-default"):
            set_active_bundle_dir(None)
            st.rerun()


def ended_badly(reg: RunRegistry, runs: list[Run]) -> None:
    if not runs:
        return
    with st.expander(f"Failed or cancelled runs ({len(runs)})"):
        for run in runs:
            left, right = st.columns([5, 1])
            left.markdown(f"**{run.model}** · {run.status} · `{run.id}`")
            left.caption(run.error or "")
            if right.button("Delete", key=f"delete-{run.id}"):
                reg.delete(run.id)
                st.rerun()


st.title("📈 Training")
st.markdown(
    "Train genre models in the background, watch them learn and compare them on tracks they "
    "never heard. " + WHY_SPLITS_MATTER
)
st.subheader("Launch")
launch_form()
st.subheader("Running")
live_runs()
st.subheader("Compare")
comparison()
with st.expander("🎹 Train the music generator (GAN)"):
    gan_section(registry())
