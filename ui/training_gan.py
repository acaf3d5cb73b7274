"""The Training page's GAN section: train the music generator, watch it, use it on Generate."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import streamlit as st

from audio.spectrogram import finite_number, whole_number
from gan import jobs as gan_jobs
from gan.bundle import META_FILE, default_gan_dir, promoted_gan_dir, set_active_gan_dir
from gan.card import quality_sentence
from gan.jobs import GanJob, gan_run_dir, generator_dir, is_gan_run
from genre.report import display_name
from genre.training.compare import progress_text
from runs import launch
from runs.store import Run, RunRegistry
from ui import launch_messages
from ui.gan_charts import loss_figure
from ui.launch_messages import Message
from ui.run_watch import rerun_page_when_runs_end, watch_while_running

POLL_S = 2.0
GAN_LAUNCH = "gan"  # where the launch's messages are shown


def gan_meta(folder: Path) -> dict[str, Any]:
    """A generator bundle's ``gan.json`` as it stands ({} when it cannot be read): what the
    page shows from it is read defensively, so a damaged file only leaves a sentence out."""
    try:
        meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def shipped_training_note() -> str:
    """How long the shipped generator trained, read from its card (not written down here)."""
    try:
        training = gan_meta(default_gan_dir())["training"]
        steps, minutes = int(training["steps"]), float(training["seconds"]) / 60
        threads = int(training.get("threads") or 1)
    except (AttributeError, ValueError, KeyError, TypeError, OverflowError):
        return ""
    cores = "one CPU core" if threads == 1 else f"{threads} CPU threads"
    return (
        f"The shipped generator trained for {steps} steps (about {minutes:.0f} min on {cores}). "
        "A few hundred steps give a rougher, noisier generator, but show the two networks "
        "learning against each other in a few minutes."
    )


def launch_form(registry: RunRegistry) -> None:
    with st.form("gantrain-form"):
        steps_col, batch_col, seed_col = st.columns(3)
        steps = steps_col.number_input(
            "Training steps", 1, 20_000, GanJob.steps, step=100, key="gantrain-steps"
        )
        batch = batch_col.number_input(
            "Batch size", 2, 64, GanJob.batch_size, key="gantrain-batch",
            help="Patches per step: larger is steadier but slower per step.",
        )  # fmt: skip
        seed = seed_col.number_input("Seed", 0, 999_999, GanJob.seed, key="gantrain-seed")
        listen = st.checkbox(
            "Also judge by ear (about 4× slower)", key="gantrain-listen",
            help="A second critic turns every generated patch into sound and listens to it "
            "through a music tagger trained on 200 000 songs, so each genre is asked to sound "
            "as that genre does to it, not only as the ten clips a genre here show. The shipped "
            "generator was trained so.",
        )  # fmt: skip
        pitch = st.checkbox(
            "Also hear each example a tone or two higher or lower", key="gantrain-pitch",
            help="The critic hears every real and generated patch moved up or down by up to "
            "about two tones, so a genre is learnt from more than the keys its ten clips happen "
            "to be in. It costs almost no time. The shipped generator was trained so.",
        )  # fmt: skip
        st.caption(shipped_training_note())
        st.caption(
            "When training ends, the genre classifier listens to 10 new clips of each genre "
            "(a minute or two), so you can see how often it recognises them next to the "
            "shipped generator's figure."
        )
        submitted = st.form_submit_button("Launch GAN training", key="gantrain-launch")
    if submitted:
        job = GanJob(steps=int(steps), batch_size=int(batch), seed=int(seed),
                     musicnn_weight=1.0 if listen else 0.0,
                     augment=gan_jobs.with_pitch() if pitch else GanJob.augment)  # fmt: skip
        launch_messages.remember(GAN_LAUNCH, start_gan_run(registry, job))
    launch_messages.show(GAN_LAUNCH)


def start_gan_run(registry: RunRegistry, job: GanJob) -> list[Message]:
    busy = [r for r in registry.list(limit=200) if r.active and is_gan_run(r)]
    if busy:
        # two GANs at once would each crawl on a small machine
        return [("warning", f"A GAN is already training (run {busy[0].id}); wait for it or "
                 "cancel it.")]  # fmt: skip
    run = gan_jobs.launch(job, registry)
    if run.status == "failed":
        return [("error", run.error or "The training process could not start.")]
    return [(
        "success",
        f"GAN training started in the background (run {run.id}). It keeps running if you "
        "leave this page.",
    )]  # fmt: skip


def show_live(run: Run, registry: RunRegistry) -> None:
    with st.container(border=True):
        head, button = st.columns([5, 1])
        head.markdown(f"**GAN** · {run_settings(run)} · `{run.id}`")
        if button.button("Cancel", key=f"gantrain-cancel-{run.id}"):
            st.toast(launch.cancel(run.id, registry))
        st.progress(run.progress, text=progress_text(run))
        figure = loss_figure(gan_run_dir(run) / "losses.csv", height=260)
        if figure is not None:
            st.plotly_chart(figure, key=f"gantrain-live-{run.id}")


def live_gan_runs(registry: RunRegistry) -> None:
    launch.refresh(registry)
    running = any(r.active and is_gan_run(r) for r in registry.list(limit=200))
    if not running:
        st.caption("No GAN is training.")
    watch_while_running("gantrain-active", running, lambda: _live_gan_runs(registry))


@st.fragment(run_every=POLL_S)
def _live_gan_runs(registry: RunRegistry) -> None:
    launch.refresh(registry)
    active = [r for r in registry.list(limit=200) if r.active and is_gan_run(r)]
    rerun_page_when_runs_end("gantrain-active", {r.id for r in active})  # show it below
    for run in active:
        show_live(run, registry)


def run_settings(run: Run) -> str:
    steps, batch, seed = (run.config.get(k) for k in ("steps", "batch_size", "seed"))
    by_ear = " · judged by ear too" if run.config.get("musicnn_weight") else ""
    pitch = " · other keys too" if gan_jobs.moves_pitch(run.config.get("augment")) else ""
    continued = " · continued" if run.config.get("start_from") else ""
    return f"{steps} steps · batch {batch} · seed {seed}{by_ear}{pitch}{continued}"


def run_label(run: Run) -> str:
    when = time.strftime("%m-%d %H:%M", time.localtime(run.ended or run.created))
    return f"{when} · {run.status} · {run_settings(run)} · {run.id[-6:]}"


def promotion_status() -> None:
    promoted = promoted_gan_dir()
    if promoted is None:
        st.caption("The Generate page uses the shipped generator.")
        return
    left, right = st.columns([4, 1])
    left.info(f"The Generate page uses a generator you trained ({promoted.parent.name}).")
    if right.button("Restore the shipped generator", key="gantrain-restore"):
        set_active_gan_dir(None)
        st.rerun()


def promote_controls(run: Run) -> None:
    bundle = generator_dir(run)
    if bundle is None or not (bundle / META_FILE).is_file():
        st.caption(
            "This run has no exported generator. Export its checkpoint with "
            f"`python -m gan export --run {gan_run_dir(run)} --out FOLDER`."
        )
        return
    promoted = promoted_gan_dir()
    if promoted is not None and promoted == bundle.resolve():
        st.success("This generator is in use on the Generate page.")
    elif st.button("Use this generator on the Generate page", key=f"gantrain-promote-{run.id}"):
        try:
            set_active_gan_dir(bundle)
        except OSError as err:
            st.error(f"The generator could not be chosen: {err}")
            return
        st.toast(f"The Generate page now uses the generator of run {run.id}.")
        st.rerun()


def continue_button(run: Run, job: GanJob, registry: RunRegistry) -> None:
    """A stopped page run goes on from its checkpoint as a new run (``job``: the same settings)."""
    if st.button(
        "Continue training where it stopped", key=f"gantrain-continue-{run.id}",
        help=f"A new run starts from this run's last save: what it learned and its settings, "
        f"up to the same {run.steps} steps. This run stays in the list as it is.",
    ):  # fmt: skip
        launch_messages.remember(GAN_LAUNCH, start_gan_run(registry, job))
        st.rerun()


def show_ended(run: Run, registry: RunRegistry) -> None:
    going_on = gan_jobs.continuation(run)  # None: nothing to go on from
    if run.status == "finished":
        metrics = run.metrics
        losses = metrics.get("losses", {})
        cells = st.columns(4)
        cells[0].metric("Steps", metrics.get("steps"))
        cells[1].metric("Training time", f"{metrics.get('train_seconds', 0) / 60:.1f} min")
        for cell, key, name in ((cells[2], "d_loss", "Discriminator loss"),
                                (cells[3], "g_loss", "Generator loss")):  # fmt: skip
            value = next((v for k, v in losses.items() if k.startswith(f"{key}_last")), None)
            shown = "—" if value is None else f"{value:.3f}"
            cell.metric(name, shown, help="Mean over the last 200 steps (one step is too noisy).")
        recognition_note(run)
    elif run.status == "cancelled" and going_on is not None:
        st.warning(
            f"Stopped before its {run.steps} steps. What it learned so far is kept, so it can "
            "go on from there."
        )
        st.caption(run.error or "")  # the exact step, and the terminal's way to go on
    elif run.status == "cancelled":
        st.warning(run.error or "Cancelled.")
    else:
        st.error(run.error or "Failed.")
    if going_on is not None:
        continue_button(run, going_on, registry)
    figure = loss_figure(gan_run_dir(run) / "losses.csv")
    if figure is not None:
        st.plotly_chart(figure, key=f"gantrain-curves-{run.id}")
    if run.status == "finished":
        promote_controls(run)


def shipped_agreement() -> tuple[float, int | None] | None:
    """How often the classifier recognises the shipped generator's clips, and over how many
    clips (its card; None when the count is not a whole number above 0)."""
    try:
        metrics = gan_meta(default_gan_dir())["metrics"]
        value = metrics["agreement"]
    except (KeyError, TypeError):
        return None
    if not finite_number(value):
        return None
    clips = metrics.get("generated_clips")
    return float(value), clips if whole_number(clips) and clips > 0 else None


def recognition_note(run: Run) -> None:
    """How often the genre classifier recognises the run's clips, beside the shipped
    generator's figure, in the Generate page's words."""
    metrics = run.metrics
    if metrics.get("measure_error"):
        st.caption(metrics["measure_error"])
        return
    agreement, bundle = metrics.get("agreement"), generator_dir(run)
    if not finite_number(agreement) or bundle is None:
        return  # a run from before measuring, or a terminal run without --measure
    shipped, shipped_clips = shipped_agreement() or (None, None)
    clips = metrics.get("measured_clips")
    st.metric(
        "Recognised as the genre asked for", f"{agreement:.0%}",
        delta=None if shipped is None else f"{100 * (agreement - shipped):+.0f} points "
        f"against the shipped generator's {shipped:.0%}",
        help=f"The genre classifier's verdict on {clips or 'the'} clips this generator made "
        f"after training (the shipped generator's card: {shipped_clips or 'its'} clips).",
    )  # fmt: skip
    meta = gan_meta(bundle)
    sentence = None
    if isinstance(meta.get("metrics"), dict):
        sentence = quality_sentence(meta, name=display_name)
    if sentence:
        st.caption(sentence)


def ended_gan_runs(registry: RunRegistry) -> None:
    promotion_status()
    ended = [r for r in registry.list(limit=500) if is_gan_run(r) and not r.active]
    if not ended:
        st.caption("Finished GAN runs appear here, ready to use on the Generate page.")
        return
    by_id = {r.id: r for r in ended}
    chosen = st.selectbox(
        "GAN run", list(by_id), format_func=lambda i: run_label(by_id[i]), key="gantrain-run"
    )
    if chosen in by_id:
        show_ended(by_id[chosen], registry)


def gan_section(registry: RunRegistry) -> None:
    """Launch, watch, inspect and promote GAN runs (all recorded in ``registry``)."""
    st.markdown(
        "Train the generator of the **Generate** page yourself: a genre-conditioned GAN on "
        "log-mel patches of the shared GTZAN clips. Training runs in the background; when it "
        "finishes you can use it on the Generate page and hear what it learned."
    )
    launch_form(registry)
    live_gan_runs(registry)
    ended_gan_runs(registry)
