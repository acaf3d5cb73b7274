"""Imported at start-up by every ``streamlit run`` the browser tests start (it is on their
PYTHONPATH): what the server side of a failed journey needs to be found again.

- streamlit-webrtc's own account of each streamer (offer, answer, resets) goes to the
  server's log in test-artifacts/, so a live connection that closed by itself says why.
- With ``GENRE_STUDIO_TEST_RUN_COUNT_LAG_S`` set, Streamlit's count of finished script runs
  is raised that many seconds after the run's "finished" message is sent, as on a loaded
  machine, where the event loop that raises it falls behind the script thread. A test
  thereby meets, every time, the timing a busy CI machine produces now and then.
"""

from __future__ import annotations

import logging
import os
import sys

LAG_ENV = "GENRE_STUDIO_TEST_RUN_COUNT_LAG_S"


def _log_webrtc() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s")
    )
    for name, level in (("streamlit_webrtc", logging.DEBUG), ("aiortc", logging.INFO)):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
        logger.propagate = False


def _lag_the_run_count(lag_s: float) -> None:
    import asyncio

    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from streamlit.runtime.runtime import Runtime

    send = Runtime._send_message  # raises the count, then writes the message (Streamlit 1.67)

    def send_then_count_late(self, session_info, msg):  # type: ignore[no-untyped-def]
        finished = msg.WhichOneof("type") == "script_finished"
        if not (finished and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY):
            return send(self, session_info, msg)

        def count() -> None:
            session_info.script_run_count += 1

        asyncio.get_running_loop().call_later(lag_s, count)
        session_info.client.write_forward_msg(msg)
        return None

    Runtime._send_message = send_then_count_late


if __name__ == "sitecustomize":  # at a server's start-up, not when a test reads LAG_ENV
    _log_webrtc()
    if os.environ.get(LAG_ENV):
        _lag_the_run_count(float(os.environ[LAG_ENV]))
