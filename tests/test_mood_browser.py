"""Real browser: Chromium's fake camera → streamlit-webrtc → the Mood page's live analysis.

Chromium's fake camera plays a Y4M clip of a smiling face (skimage's astronaut), so the page
must report real analysed frames, "happy", and music for it. To keep WebRTC traffic
hermetic, the journey runs in a fresh network namespace (``unshare -n``) that has only
loopback plus a veth pair of its own, so aiortc (which never offers 127.0.0.1) and Chromium
find host candidates there with ``iceServers: []``. Without permission to create a
namespace it runs on this host directly. A namespace with loopback only blocks WebRTC: the
page must then suggest the snapshot mode.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# IPv6 is off in the namespace: otherwise the veth pair's link-local addresses finish their
# duplicate-address check ~2 s after the links come up, Chromium takes that for a network
# change and aborts the page's script loads (net::ERR_NETWORK_CHANGED), leaving a blank page
# (the clean-clone CI failure on 82caf0f; 1 of 4 runs here).
NETNS_SETUP = (
    "{ [ ! -d /proc/sys/net/ipv6 ] || echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; } && "
    "ip link set lo up && ip link add mood0 type veth peer name mood1 && "
    "ip addr add 10.213.0.1/24 dev mood0 && ip addr add 10.213.0.2/24 dev mood1 && "
    "ip link set mood0 up && ip link set mood1 up"
)


def face_video(path: Path, seconds: float = 2.0) -> Path:
    """A Y4M clip of skimage's astronaut (a smiling face) for Chromium's fake camera."""
    import cv2
    import numpy as np
    import skimage.data

    frame = np.full((480, 640, 3), 110, np.uint8)
    frame[:, 64:576] = skimage.data.astronaut()[16:496, :, ::-1]
    yuv = cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes()
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        for _ in range(int(seconds * 30)):
            out.write(b"FRAME\n" + yuv)
    return path


def journey(artifacts: Path) -> dict:
    """Open the page, press START, wait for analysed frames; return what the page said.

    The fake camera plays a smiling face, so the page should show "happy" and then music
    for it (search links here, where YouTube cannot be reached).
    """
    sys.path.insert(0, str(REPO))
    import ifaddr  # installed with aiortc

    from tests.browser import chromium_page, streamlit_server

    camera = [f"--use-file-for-fake-video-capture={face_video(artifacts / 'mood-face.y4m')}"]

    addresses = sorted(str(ip.ip) for a in ifaddr.get_adapters() for ip in a.ips if ip.is_IPv4)
    result: dict = {"frames_analysed": 0, "ipv4": addresses}
    with streamlit_server() as url, chromium_page(camera) as page:
        page.goto(f"{url}/mood")
        page.get_by_text("Privacy:").wait_for(timeout=90_000)
        page.get_by_text("Details", exact=True).click()  # the frames-per-second caption
        frame = page.frame_locator("iframe").first
        frame.get_by_role("button", name="START").click(timeout=60_000)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            text = page.inner_text("body")
            match = re.search(r"(\d+) of (\d+) frames analysed", text)
            if match and int(match.group(1)) >= 3:
                result["frames_analysed"] = int(match.group(1))
                result["frames_seen"] = int(match.group(2))
                break
            time.sleep(1)
        with contextlib.suppress(Exception):  # judged below from the page text
            page.get_by_text("Music for a happy mood").wait_for(timeout=30_000)
        with contextlib.suppress(Exception):  # the YouTube results sit in a tab beside the library
            page.get_by_role("tab", name=re.compile("YouTube")).click(timeout=10_000)
            # the tab's panel is shown a moment after the click: read the page once it is (a
            # clean-clone CI run read it before, while its screenshot showed the searches)
            page.get_by_text("upbeat happy English songs").first.wait_for(timeout=30_000)
        text = page.inner_text("body")
        result["no_face"] = "No face found" in text
        label = re.search(r"You look (\w+)", text)
        result["mood_label"] = label.group(1) if label else None
        result["music"] = "Music for a happy mood" in text
        result["links_or_videos"] = "upbeat happy English songs" in text
        video_ok = page.evaluate(
            "() => [...document.querySelectorAll('iframe')].some(f => {"
            " const v = f.contentDocument && f.contentDocument.querySelector('video');"
            " return v && v.videoWidth > 0; })"
        )
        result["video_playing"] = bool(video_ok)
        page.screenshot(path=str(artifacts / "mood-live.png"), full_page=True)
        result["text"] = text[-600:]
    return result


def blocked_journey(artifacts: Path) -> dict:
    """No usable network path for WebRTC: the page must suggest the snapshot mode."""
    sys.path.insert(0, str(REPO))
    from tests.browser import chromium_page, streamlit_server

    result: dict = {"suggested": False}
    with streamlit_server() as url, chromium_page() as page:
        page.goto(f"{url}/mood")
        page.get_by_text("Privacy:").wait_for(timeout=90_000)
        page.frame_locator("iframe").first.get_by_role("button", name="START").click(timeout=60_000)
        suggestion = page.get_by_text("The live video could not connect")
        suggestion.wait_for(timeout=60_000)
        result["suggested"] = suggestion.is_visible()
        result["frames"] = "frames analysed" in page.inner_text("body")
        page.screenshot(path=str(artifacts / "mood-live-blocked.png"), full_page=True)
    return result


def _can_unshare() -> bool:
    if not shutil.which("unshare") or not shutil.which("ip"):
        return False
    probe = subprocess.run(
        ["unshare", "-n", "sh", "-c", NETNS_SETUP], capture_output=True, timeout=20
    )
    return probe.returncode == 0


@pytest.mark.browser
@pytest.mark.timeout(400)
def test_live_webcam_through_webrtc(artifacts_dir):
    from tests.browser import chromium_available

    if not chromium_available():
        pytest.skip("Debian chromium is not installed (make chromium)")
    env = {**os.environ, "MOOD_ICE_SERVERS": ""}
    cmd = [sys.executable, __file__, str(artifacts_dir)]
    hermetic = _can_unshare()
    if hermetic:
        cmd = ["unshare", "-n", "sh", "-c", f'{NETNS_SETUP} && exec "$0" "$@"', *cmd]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=380)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if hermetic:  # only the namespace's own addresses were there to talk to
        assert result["ipv4"] == ["10.213.0.1", "10.213.0.2", "127.0.0.1"], result
    assert result["frames_analysed"] >= 3, result
    assert result["frames_seen"] >= result["frames_analysed"]
    assert result["video_playing"], result  # the processed video comes back to the browser
    assert result["mood_label"] == "happy" and not result["no_face"], result
    assert result["music"] and result["links_or_videos"], result  # the playlist followed


@pytest.mark.browser
@pytest.mark.timeout(400)
def test_blocked_webrtc_suggests_snapshot(artifacts_dir):
    from tests.browser import chromium_available

    if not chromium_available():
        pytest.skip("Debian chromium is not installed (make chromium)")
    if not _can_unshare():
        pytest.skip("needs a private network namespace (unshare -n) to block WebRTC")
    # Only loopback in the namespace: aiortc offers no candidate, ICE can never connect.
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$0" "$@"',
           sys.executable, __file__, str(artifacts_dir), "blocked"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=380)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"suggested": True, "frames": False}, result


if __name__ == "__main__":
    run = blocked_journey if sys.argv[2:] == ["blocked"] else journey
    print(json.dumps(run(Path(sys.argv[1]))))
