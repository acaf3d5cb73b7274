"""The failure trace a real-browser test keeps: a page that never reaches the app still says
what it loaded, what failed and what it logged."""

from __future__ import annotations

import pytest

from tests.browser import chromium_available, chromium_page, free_port
from tests.ws_trace import WebSocketTrace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not chromium_available(), reason="Debian chromium is not installed"),
]


def test_the_trace_keeps_load_events_errors_and_failed_requests() -> None:
    closed = free_port()  # nothing listens there: the request fails
    with chromium_page() as page:
        trace = WebSocketTrace(page)
        page.set_content(
            f'<img src="http://127.0.0.1:{closed}/missing.png">'
            "<script>console.error('the bundle did not start')</script>",
            wait_until="load",
        )
        page.wait_for_timeout(500)
    text = "\n".join(trace.lines)
    assert "page: loaded" in text
    assert "console error: the bundle did not start" in text
    assert f"request failed: GET http://127.0.0.1:{closed}/missing.png" in text
