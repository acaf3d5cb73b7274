"""A click recorded by ui.clicks survives a rerun that interrupts the run it started."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

# The run started by the click is cut short before the click is read (here by st.rerun(); in
# the app, another rerun request from the browser does the same), as happens to a click on a
# busy page. ``READ`` is how the page reads the click.
SCRIPT = """
import streamlit as st
from ui.clicks import remember_click, take_click

st.button("Launch", key="launch", on_click=remember_click("launch-clicked"))
if st.session_state.get("launch") and not st.session_state.get("interrupted"):
    st.session_state["interrupted"] = True
    st.rerun()
if {READ}:
    st.session_state["launches"] = st.session_state.get("launches", 0) + 1
st.write("launches", st.session_state.get("launches", 0))
"""


def launches_after_one_click(read: str) -> int:
    at = AppTest.from_string(SCRIPT.replace("{READ}", read))
    at.run()
    at.button(key="launch").click()
    at.run()
    at.run()  # a later run must not count the same click again
    assert not at.exception
    return at.session_state.get("launches", 0)


def test_a_recorded_click_counts_once_even_when_its_run_is_interrupted() -> None:
    assert launches_after_one_click('take_click("launch-clicked")') == 1


def test_the_buttons_own_value_loses_that_click() -> None:
    # why the pages record clicks: the one-shot value is gone by the run that follows
    assert launches_after_one_click('st.session_state.get("launch")') == 0
