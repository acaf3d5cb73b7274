"""The memory-release thread's housekeeping: quiet under AppTest, and it never formats a
traceback (on Python 3.11 that parses source with ``ast``, whose recursion counter all threads
share, so it could fail a page script Streamlit compiles at the same moment)."""

from __future__ import annotations

import logging

import pytest
from streamlit.testing.v1 import AppTest

from server_memory import describe_failure, report_once


def cleanup_page() -> None:
    import streamlit as st

    from ui.session_cleanup import free_forgotten_sessions

    st.write(f"freed {free_forgotten_sessions()}")


def test_cleanup_runs_under_apptests_stand_in_runtime() -> None:
    # AppTest installs a runtime without a session manager; cleanup used to raise there every
    # 15 s from the release thread, formatting a traceback each time.
    at = AppTest.from_function(cleanup_page).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["freed 0"]


def failing_housekeeping() -> None:
    raise AttributeError("no session manager")


def test_a_failure_is_logged_once_without_a_traceback(caplog: pytest.LogCaptureFixture) -> None:
    reported: set[str] = set()
    with caplog.at_level(logging.ERROR, logger="server_memory"):
        for _ in range(3):
            try:
                failing_housekeeping()
            except AttributeError as error:
                report_once(error, reported)
    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.exc_info is None
    assert "AttributeError: no session manager at test_housekeeping.py:" in record.getMessage()


def test_a_failure_without_a_traceback_is_described() -> None:
    assert describe_failure(ValueError("bad")) == "ValueError: bad"
