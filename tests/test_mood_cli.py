"""``python -m mood`` as a user runs it: real subprocesses, real image files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import skimage.data

from tests.mood_helpers import DEEPFACE_STANDIN, refusing_proxy_url

REPO = Path(__file__).resolve().parents[1]
SEARCH_URL = "https://www.youtube.com/results?search_query="


def run(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mood", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )  # fmt: skip


def test_emotion_json_on_astronaut(tmp_path):
    path = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(path), skimage.data.astronaut()[:, :, ::-1])
    proc = run("emotion", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert len(out["faces"]) == 1
    face = out["faces"][0]
    assert face["emotion"] == "happy" and face["probabilities"]["happy"] > 0.9
    assert len(face["box"]) == 4 and set(face["probabilities"]) == {
        "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral",
    }  # fmt: skip
    human = run("emotion", str(path))
    assert human.returncode == 0 and "happy" in human.stdout


def test_emotion_with_deepface_that_cannot_fetch_its_weights(tmp_path):
    path = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(path), skimage.data.astronaut()[:, :, ::-1])
    env = {
        "PYTHONPATH": str(DEEPFACE_STANDIN),  # deepface "installed": the stand-in
        "DEEPFACE_HOME": str(tmp_path / "deepface-home"),  # no weights there
        "HTTPS_PROXY": refusing_proxy_url(),
    }
    proc = run("emotion", str(path), "--backend", "deepface", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "note: deepface could not load its emotion weights" in proc.stderr
    assert "Using the built-in model instead." in proc.stderr and "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert out["backend"] == "built-in" and out["faces"][0]["emotion"] == "happy"


def test_emotion_no_face_and_unreadable(tmp_path):
    path = tmp_path / "coffee.png"
    cv2.imwrite(str(path), skimage.data.coffee()[:, :, ::-1])
    proc = run("emotion", str(path), "--json")
    assert proc.returncode == 0
    assert json.loads(proc.stdout)["faces"] == []
    assert "No face found" in proc.stderr
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG")
    proc = run("emotion", str(bad), "--json")
    assert proc.returncode == 1 and "not a readable image" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_recommend_offline_json_and_text():
    proc = run("recommend", "--emotion", "fear", "--language", "Korean", "--artist", "IU",
               "--offline", "--json")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["status"] == "links" and out["queries"][0] == "IU calm reassuring songs"
    assert out["links"][1]["url"].endswith("calm+reassuring+Korean+songs")
    text = run("recommend", "--emotion", "happy", "--offline")
    assert "search links" in text.stdout and "https://www.youtube.com/results?" in text.stdout


def test_recommend_without_network_falls_back(tmp_path):
    proc = run("recommend", "--emotion", "sad", "--timeout", "4", "--json", timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["queries"] == ["soothing comforting English songs", "uplifting English songs"]
    # the search links come with every answer, one per query
    assert [link["query"] for link in out["links"]] == out["queries"]
    assert all(link["url"].startswith(SEARCH_URL) for link in out["links"])
    if out["status"] == "ok":  # a machine with a route to YouTube
        assert out["videos"] and out["message"].startswith(f"{len(out['videos'])} videos found")
        assert all(
            v["title"] and v["url"].startswith("https://www.youtube.com/") for v in out["videos"]
        )
    else:  # the normal case here and in CI: no route to YouTube, said at once
        assert out["status"] in ("offline", "timeout", "error", "empty")
        assert "YouTube" in out["message"] and out["videos"] == []


def test_usage_errors():
    assert run("recommend", "--emotion", "bored").returncode == 2
    proc = run("recommend", "--emotion", "happy", "--n", "0")
    assert proc.returncode == 2 and "--n: 0 is not between 1 and 50" in proc.stderr
