"""Real-browser helpers: a ``streamlit run`` subprocess on loopback and Debian's Chromium.

Chromium runs with fake media devices, so recording and the webcam work headless.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.ws_trace import WebSocketTrace

REPO_ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


SERVER_PIDS: dict[str, int] = {}  # url -> pid of the streamlit_server() serving it


@contextlib.contextmanager
def streamlit_server(
    env: dict[str, str] | None = None, timeout: float = 90.0, args: list[str] | None = None
) -> Iterator[str]:
    """Start ``streamlit run app.py`` (with extra options ``args``) on a free loopback port;
    yield its URL."""
    port = free_port()
    log_path = REPO_ROOT / "test-artifacts" / f"streamlit-{port}.log"
    log_path.parent.mkdir(exist_ok=True)
    cmd = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.address", "127.0.0.1", "--server.port", str(port),
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", *(args or []),
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT,
            env=server_env(env),
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        SERVER_PIDS[url] = proc.pid
        try:
            deadline = time.monotonic() + timeout
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited early; see {log_path}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start in {timeout} s; see {log_path}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


def server_env(extra: dict[str, str] | None) -> dict[str, str]:
    """This environment plus ``extra``, with tests/server_hooks first on PYTHONPATH (its
    sitecustomize logs streamlit-webrtc into the server's log)."""
    merged = {**os.environ, **(extra or {})}
    hooks = str(REPO_ROOT / "tests" / "server_hooks")
    merged["PYTHONPATH"] = os.pathsep.join(filter(None, [hooks, merged.get("PYTHONPATH")]))
    return merged


@contextlib.contextmanager
def chromium_page(extra_args: list[str] | None = None) -> Iterator[object]:
    """A Playwright page in Debian's Chromium (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS + (extra_args or [])
        )
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, permissions=["microphone", "camera"]
        )
        page = context.new_page()
        trace = WebSocketTrace(page)
        try:
            yield page
        except BaseException:
            _save_failure(page, trace)
            raise
        finally:
            context.close()
            browser.close()


def _save_failure(page, trace: WebSocketTrace) -> None:
    """Keep what the browser showed when a test failed, and what it said to the server: a
    flake is found from its picture and its messages."""
    folder = REPO_ROOT / "test-artifacts"
    folder.mkdir(exist_ok=True)
    stem = folder / f"failure-{time.strftime('%H%M%S')}-{os.getpid()}"
    with contextlib.suppress(Exception):  # a page that died cannot be saved: keep the error
        Path(f"{stem}.ws.txt").write_text("\n".join(trace.lines) + "\n")
        page.screenshot(path=f"{stem}.png", full_page=True)
        text = page.inner_text("body")
        Path(f"{stem}.txt").write_text(text)
        print(f"The page when the test failed ({stem}.png):\n{text[:4000]}", file=sys.stderr)


def wait_until_idle(page, timeout_ms: float = 120_000) -> None:
    """Wait until the app's script has finished its run (the attribute Streamlit's own
    end-to-end tests wait on), so a click lands on the finished page."""
    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(
        timeout=timeout_ms
    )


def wait_until_still(locator, checks: int = 3, interval_ms: int = 150, timeout_ms: int = 30_000):
    """Wait until ``locator``'s box has stayed put for ``checks`` looks ``interval_ms`` apart
    (an expander opening animates the height of what is below it), and return that box: a
    click at a moving target can land beside it, and then no click reaches the app."""
    deadline = time.monotonic() + timeout_ms / 1000
    last, same = None, 0
    while time.monotonic() < deadline:
        box = locator.bounding_box()
        same = same + 1 if box is not None and box == last else 0
        if same >= checks:
            return box
        last = box
        locator.page.wait_for_timeout(interval_ms)
    raise TimeoutError(f"{locator} kept moving for {timeout_ms} ms (last box {last})")


def wait_until_laid_out(locator, interval_ms: int = 100, timeout_ms: int = 10_000):
    """``locator``'s box once it is wider than a screen-reader stub (1 × 1 px; Streamlit draws
    some text that way before the page's style lays it out), or the last box seen."""
    deadline = time.monotonic() + timeout_ms / 1000
    box = locator.bounding_box()
    while (box is None or box["width"] <= 1) and time.monotonic() < deadline:
        locator.page.wait_for_timeout(interval_ms)
        box = locator.bounding_box()
    return box
