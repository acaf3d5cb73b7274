"""Training: launch models in the background, watch them learn, compare honest numbers.

The launch section (quick start, Advanced form) lives in ui/training_launch.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from genre.paths import (
    active_bundle_dir,
    default_bundle_dir,
    set_active_bundle_dir,
)
from genre.splits import WHY_SPLITS_MATTER
from genre.training import compare
from genre.training.promotion import check_promotion
from runs import launch
from runs.store import STOPPED, Run, RunRegistry
from ui import training_charts
from ui.run_watch import rerun_page_when_runs_end, watch_while_running
from ui.training_gan import gan_section, is_gan_run
from ui.training_launch import launch_form, quick_start

POLL_S = 2.0
NOT_PROMOTABLE_SHORT = "For comparison only: the Classify page cannot use this model."
NOT_PROMOTABLE = (
    "Only neural networks trained on log-mel spectrograms (and the musicnn head) can be used on "
    "the Classify page: it computes log-mel windows from your audio. Feature-table models "
    "(scikit-learn) need the table's librosa features and STFT models another front-end, so "
    "they stay here for comparison."
)


def registry() -> RunRegistry:
    return RunRegistry()


# -- live runs ------------------------------------------------------------------------------
def show_active(run: Run, reg: RunRegistry) -> None:
    with st.container(border=True):
        head, button = st.columns([5, 1])
        split = f" · {run.split}" if run.split else ""  # GAN runs have no split
        head.markdown(f"**{run.model}**{split} · `{run.id}`  \n{run.dataset}")
        if button.button("Cancel", key=f"cancel-{run.id}"):
            st.toast(launch.cancel(run.id, reg))
        st.progress(run.progress, text=compare.progress_text(run))
        fig = training_charts.curves(reg.epochs(run.id))
        if fig is not None:
            st.plotly_chart(fig, key=f"live-{run.id}")


def live_runs() -> None:
    reg = registry()
    launch.refresh(reg)
    running = any(r.active for r in reg.list(limit=200))
    if not running:
        st.caption("No training is running. Launch one above; runs continue in the background.")
    watch_while_running("active_runs", running, _live_runs)


@st.fragment(run_every=POLL_S)
def _live_runs() -> None:
    reg = registry()
    launch.refresh(reg)
    active = [r for r in reg.list(limit=200) if r.active]
    rerun_page_when_runs_end("active_runs", {r.id for r in active})  # refresh the comparison
    for run in active:
        show_active(run, reg)


# -- comparison -----------------------------------------------------------------------------
def promote_controls(run: Run) -> None:
    bundle = run.metrics.get("bundle")
    if not bundle:
        st.caption(NOT_PROMOTABLE_SHORT, help=NOT_PROMOTABLE)
        return
    active = active_bundle_dir()
    if str(active) == bundle:
        st.success("This model is in use on the Classify page.")
        return
    asking = st.session_state.get("promote-asking") == run.id
    if not asking and st.button("Use this model on the Classify page", key=f"promote-{run.id}"):
        check = check_promotion(Path(bundle), active)
        if not check.needs_confirmation:
            promote(run, bundle)
            return
        st.session_state["promote-asking"] = run.id
        st.rerun()
    if asking:
        st.warning(check_promotion(Path(bundle), active).message())
        use, keep = st.columns(2)
        if use.button("Use it anyway", key=f"promote-confirm-{run.id}"):
            del st.session_state["promote-asking"]
            promote(run, bundle)
        if keep.button("Keep the current model", key=f"promote-keep-{run.id}"):
            del st.session_state["promote-asking"]
            st.rerun()


def promote(run: Run, bundle: str) -> None:
    try:
        set_active_bundle_dir(bundle)
        st.toast(f"The Classify page now uses {run.model} ({run.id}).")
        st.rerun()
    except OSError as err:
        st.error(f"The model could not be promoted: {err}")


def run_details(run: Run, reg: RunRegistry) -> None:
    st.markdown(f"**{compare.run_label(run)}**")
    st.plotly_chart(training_charts.confusion(run.metrics), key=f"confusion-{run.id}")
    st.dataframe(
        compare.per_genre_table(run.metrics),
        hide_index=True,
        column_config={
            c: st.column_config.NumberColumn(format="%.1f")
            for c in ("precision %", "recall %", "F1 %")
        },
        key=f"report-{run.id}",
    )
    fig = training_charts.curves(reg.epochs(run.id))
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
        st.plotly_chart(training_charts.accuracy_bars(table), key="accuracy-bars")
        st.caption(
            "Accuracy is per track, on tracks the model never saw in training. With k-fold, "
            "every track is tested once; the bars show the folds' standard deviation. "
            "Green bars: models that can be used on the Classify page."
        )
        by_id = {r.id: r for r in finished}
        best = compare.best_run_per_model(table)
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
    ended_badly(reg, [r for r in runs if r.status in STOPPED])


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
intro, why = st.columns([8, 1], vertical_alignment="center")
intro.markdown(
    "Train genre models in the background, watch them learn and compare them honestly: each is "
    "scored on tracks (and, with GTZAN, artists) it never heard in training."
)
with why.popover("why?", key="why-splits"):
    st.markdown(WHY_SPLITS_MATTER)
classifiers, generator = st.tabs(["🏷️ Classifier models", "🎹 Music generator"])
with classifiers:
    st.subheader("Launch")
    quick_start()
    with st.expander("Advanced: your own data, split, models and training options"):
        launch_form()
    st.subheader("Running")
    live_runs()
    st.subheader("Compare")
    comparison()
with generator:
    gan_section(registry())
