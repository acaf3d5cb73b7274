"""What the browser and the Streamlit server said to each other, kept for a failed test.

A lost click leaves no trace in a screenshot: this log shows whether the browser sent the
rerun carrying it (and its trigger), and which runs the server started and finished; and for a
page that never got that far, its load events, errors and failed requests.
"""

from __future__ import annotations

import time

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

# server messages worth a line: runs starting and ending, sessions, connection status
FORWARD_KINDS = {"new_session", "script_finished", "session_status_changed", "session_event"}


def _sent(payload: bytes | str) -> str:
    msg = BackMsg()
    msg.ParseFromString(payload if isinstance(payload, bytes) else payload.encode())
    kind = msg.WhichOneof("type")
    if kind != "rerun_script":
        return f"sent {kind}"
    rerun = msg.rerun_script
    triggers = [
        w.id[-48:]
        for w in rerun.widget_states.widgets
        if w.WhichOneof("value") == "trigger_value" and w.trigger_value
    ]
    return (
        f"sent rerun page={rerun.page_name!r} fragment={rerun.fragment_id or '-'} "
        f"widgets={len(rerun.widget_states.widgets)} triggers={triggers}"
    )


def _received(payload: bytes | str) -> str | None:
    if isinstance(payload, str):
        return None
    msg = ForwardMsg()
    msg.ParseFromString(payload)
    kind = msg.WhichOneof("type")
    if kind not in FORWARD_KINDS:
        return None
    if kind == "new_session":
        session = msg.new_session
        detail = f"session={session.initialize.session_id[:8]} page={session.page_script_hash[:8]}"
    else:
        detail = " ".join(str(getattr(msg, kind)).split())
    return f"received {kind} {detail}"


class WebSocketTrace:
    """Attach to a Playwright page before it loads; ``lines`` grows as messages pass."""

    def __init__(self, page) -> None:
        self.start = time.monotonic()
        self.lines: list[str] = []
        page.on("websocket", self._watch)
        # A page that stays blank opens no websocket: then what it loaded, and what failed, is
        # the trace (a clean-clone run once showed a blank Mood page for 90 s, 2026-11-26).
        page.on("domcontentloaded", lambda _page: self._add("page: DOM content loaded"))
        page.on("load", lambda _page: self._add("page: loaded"))
        page.on("pageerror", lambda err: self._add(f"page error: {err}"))
        page.on("console", self._console)
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)

    def _add(self, text: str | None) -> None:
        if text:
            self.lines.append(f"{time.monotonic() - self.start:8.2f} s  {text}")

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self._add(f"console {message.type}: {message.text[:300]}")

    def _request_failed(self, request) -> None:
        self._add(f"request failed: {request.method} {request.url[:160]} ({request.failure})")

    def _response(self, response) -> None:
        if response.status >= 400:
            self._add(f"response {response.status}: {response.url[:160]}")

    def _watch(self, ws) -> None:
        self._add(f"websocket opened {ws.url}")
        ws.on("framesent", lambda payload: self._safely(_sent, payload))
        ws.on("framereceived", lambda payload: self._safely(_received, payload))
        ws.on("close", lambda _ws: self._add("websocket closed"))

    def _safely(self, describe, payload) -> None:
        try:
            self._add(describe(payload))
        except Exception as err:  # a frame we cannot read must not break the test
            self._add(f"unreadable frame: {err}")
