"""Live run sections: redraw the whole page when a watched run ends, without losing a click.

A section that watches runs is a ``run_every`` fragment. When a run it showed has ended, the
rest of the page (comparison, promote buttons) must be redrawn, so the fragment asks for a
rerun of the whole page, but only when it ran on its own (a timer tick). In a rerun of the
whole page the sections below read the registry themselves, and an ``st.rerun()`` there would
stop the run before they are drawn: Streamlit then resets button clicks, so a click on any of
them (say "Use this generator") would be silently dropped.

The fragment exists only while something runs (``watch_while_running``): a timer ticking on an
idle page reruns part of it every few seconds, and a click that lands during a tick can be lost
(a clean-clone CI run once lost the Training page's "Launch training" click that way).
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def _whole_page_key(key: str) -> str:
    return f"{key}:whole-page-run"


def note_whole_page_run(key: str) -> None:
    """Call in the page body just before the fragment watching ``key``: it runs only in a
    rerun of the whole page, never in the fragment's own timer reruns."""
    st.session_state[_whole_page_key(key)] = True


def rerun_page_when_runs_end(key: str, active_ids: set[str]) -> None:
    """Remember the active runs the fragment shows (under ``key``); rerun the whole page when
    one of those it showed last time has ended, if this is the fragment's own rerun."""
    state = st.session_state
    before: set[str] = state.get(key, set())
    state[key] = active_ids
    whole_page = state.pop(_whole_page_key(key), False)
    if before - active_ids and not whole_page:
        st.rerun(scope="app")


def watch_while_running(key: str, running: bool, fragment: Callable[[], None]) -> None:
    """Draw the ticking ``fragment`` watching ``key`` only while ``running``; on an idle page
    forget what it watched, so nothing ticks and no stale run set outlives it."""
    if not running:
        st.session_state.pop(key, None)
        return
    note_whole_page_run(key)
    fragment()
