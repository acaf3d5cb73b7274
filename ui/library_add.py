"""The Library page's "Add music" section: a folder or uploads, indexed in the background.

One indexing run per library at a time (shared by every visitor of this server): the registry
below holds it, so a second visitor sees the run's progress rather than starting another.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from genre.classifier import Classifier
from genre.library.browse import save_upload, uploads_dir
from genre.library.jobs import IndexJob, JobState, eta_text
from genre.library.schema import default_db_path
from genre.paths import shared_gtzan_dir
from ui.run_watch import rerun_page_when_runs_end, watch_while_running
from ui.upload_limit import upload_limit_note

JOB_KEY = "library_job"  # this visitor's last run (its summary is shown until the next one)
WATCH_KEY = "library_job_watch"


@st.cache_resource
def running_jobs() -> dict[str, IndexJob]:
    return {}


def current_job() -> IndexJob | None:
    """The run on this library now, or else this visitor's last one."""
    shared = running_jobs().get(str(default_db_path()))
    if shared is not None and shared.state().running:
        return shared
    return st.session_state.get(JOB_KEY)


def indexing() -> bool:
    """Whether a run is writing to this library now."""
    job = current_job()
    return job is not None and job.state().running


def start(paths: list[Path], classifier: Classifier, *, reanalyse: bool = False) -> None:
    job = current_job()
    if job is not None and job.state().running:
        st.warning("The library is being indexed already; wait for that run or cancel it.")
        return
    job = IndexJob(default_db_path(), paths, classifier, reanalyse=reanalyse).start()
    running_jobs()[str(default_db_path())] = job
    st.session_state[JOB_KEY] = job


def folder_form(classifier: Classifier) -> None:
    with st.form("add_folder", border=False):
        typed = st.text_input(
            "Folder on this computer",
            placeholder="/home/me/Music",
            help="A folder on the computer that runs Genre Studio; every audio file in it and "
            "its subfolders is added. Adding the same folder again only analyses what changed.",
            key="library_folder",
        )
        clicked = st.form_submit_button("Add this folder", type="primary")
    sample = shared_gtzan_dir() / "audio"
    if sample.is_dir():
        st.caption(f"No music at hand? Try the sample clips: `{sample}`")
    if not clicked:
        return
    if not typed.strip():
        st.warning("Type the path of a folder first, e.g. /home/me/Music.")
        return
    path = Path(typed.strip()).expanduser()
    if not path.exists():
        st.error(f"There is no folder or file at {path} on this computer.")
        return
    start([path], classifier)


def upload_form(classifier: Classifier) -> None:
    files = st.file_uploader(
        "Audio files",
        accept_multiple_files=True,
        key="library_uploads",
        help=f"Copied into {uploads_dir()} and added to the library.",
    )
    upload_limit_note("For larger files, add the folder they are in (the other tab).")
    if st.button("Add these files", disabled=not files, type="primary"):
        saved = [save_upload(f.name, f.getvalue()) for f in files or []]
        start(saved, classifier)


@st.fragment(run_every=1.0)
def watch_progress() -> None:
    job = current_job()
    state = None if job is None else job.state()
    rerun_page_when_runs_end(WATCH_KEY, {"run"} if state and state.running else set())
    if job is None or state is None or not state.running:
        return
    if state.total == 0:
        st.progress(0.0, text="Looking for audio files…")
    else:
        eta = eta_text(state.eta_s)
        st.progress(
            state.fraction,
            text=f"Analysed {state.done} of {state.total} files" + (f" · {eta}" if eta else ""),
        )
        if state.current:
            st.caption(f"Last done: {Path(state.current).name}")
    if state.cancelling:
        st.caption("Stopping after the file being analysed…")
    elif st.button("Cancel", key="library_cancel"):
        job.cancel()
        st.caption("Stopping after the file being analysed…")


def show_summary(state: JobState) -> None:
    if state.error:
        st.error(state.error)
        return
    s = state.summary
    if s is None:
        return
    line = (
        f"Added {s.added} new track{'s' * (s.added != 1)}, updated {s.updated}, "
        f"{s.unchanged} already up to date"
    )
    if s.missing:
        line += f"; {s.missing} no longer found (kept, marked missing)"
    (st.info if s.cancelled else st.success)(
        ("Stopped on request. " if s.cancelled else "") + line + "."
    )
    if s.skipped:
        st.caption(f"{len(s.skipped)} file(s) skipped: not audio.")
    if s.failed:
        st.warning(f"{len(s.failed)} file(s) could not be added:")
        st.markdown("\n".join(f"- `{Path(f['file']).name}`: {f['error']}" for f in s.failed))


def reanalyse_notice(classifier: Classifier | None, outdated: list[str]) -> None:
    """Say how many tracks another model analysed, with a button that redoes just those (in
    the background like adding, so "Add music" below shows its progress, ETA and Cancel)."""
    job = current_job()
    if classifier is None or not outdated or (job is not None and job.state().running):
        return
    n = len(outdated)
    with st.container(border=True):
        st.markdown(
            f"**{n} track{'s were' if n != 1 else ' was'} analysed by an older model** than the "
            f"one in use now ({classifier.bundle.name}), so {'they' if n != 1 else 'it'} may not "
            "compare fairly with the rest on the map and in **More like this**."
        )
        if st.button(f"Re-analyse {'them' if n != 1 else 'it'}", key="library_reanalyse"):
            here = [Path(p) for p in outdated if Path(p).is_file()]
            if not here:
                st.warning("None of those files is still where it was; add their folder again.")
                return
            start(here, classifier, reanalyse=True)


def add_music(classifier: Classifier | None, library_empty: bool) -> None:
    """The section, folded away once the library has music (open while a job runs or has
    just ended). An empty library shows it unfolded, in a plain box: an expander's first state
    is the browser's, and once in a dozen clean-clone browser runs it came up closed there."""
    job = current_job()
    busy = job is not None and job.state().running
    if library_empty:
        section = st.container(border=True)
        section.markdown("##### ➕ Add music")
    else:
        section = st.expander("➕ Add music", expanded=busy or job is not None)
    with section:
        if classifier is None:
            st.error("Music cannot be added: the genre model did not load (see above).")
            return
        folder, upload = st.tabs(["📁 A folder on this computer", "⬆️ Upload files"])
        with folder:
            folder_form(classifier)
        with upload:
            upload_form(classifier)
        job = current_job()
        watch_while_running(WATCH_KEY, job is not None and job.state().running, watch_progress)
        job = current_job()
        if job is not None and not job.state().running:
            show_summary(job.state())
