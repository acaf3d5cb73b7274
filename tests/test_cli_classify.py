"""``python -m genre classify`` as a user runs it: a real subprocess on real files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from genre.classifier import Classifier
from genre.labels import GTZAN_GENRES
from genre.paths import default_bundle_dir
from tests.conftest import REPO_ROOT, wav_bytes


def run_cli(*args: str, env_home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if env_home is not None:
        env["GENRE_STUDIO_HOME"] = str(env_home)
    return subprocess.run(
        [sys.executable, "-m", "genre", *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip


def test_json_lines_for_good_files(gtzan_dir: Path, private_data_dir: Path) -> None:
    clips = [
        gtzan_dir / "audio" / "rock" / "rock.00004.ogg",
        gtzan_dir / "audio" / "pop/pop.00005.ogg",
    ]
    done = run_cli("classify", "--json", *map(str, clips), env_home=private_data_dir)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [line["file"] for line in lines] == [str(c) for c in clips]
    for line in lines:
        assert set(line) >= {"file", "genre", "confidence", "probabilities"}
        assert line["genre"] in GTZAN_GENRES
        assert set(line["probabilities"]) == set(GTZAN_GENRES)
        assert abs(sum(line["probabilities"].values()) - 1) < 1e-4
        assert line["confidence"] == max(line["probabilities"].values())
    assert "Traceback" not in done.stderr


def test_folder_with_a_corrupt_file_completes_and_exits_1(
    gtzan_dir: Path, tmp_path: Path, private_data_dir: Path
) -> None:
    folder = tmp_path / "music" / "nested"
    folder.mkdir(parents=True)
    shutil.copy(gtzan_dir / "audio" / "jazz" / "jazz.00001.ogg", folder / "good.ogg")
    (folder / "jazz.00054.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(100))
    (folder / "tone.wav").write_bytes(wav_bytes(seconds=2))
    (folder / "notes.txt").write_text("not audio, not picked up from a folder")
    (folder / "LICENSE").write_text("no extension and not audio either")
    (folder / "recording").write_bytes(wav_bytes(seconds=2))  # audio with no extension
    done = run_cli("classify", "--json", str(tmp_path / "music"), env_home=private_data_dir)
    assert done.returncode == 1
    lines = {Path(x["file"]).name: x for x in map(json.loads, done.stdout.strip().splitlines())}
    assert set(lines) == {"good.ogg", "jazz.00054.wav", "tone.wav", "recording"}
    assert "damaged or truncated" in lines["jazz.00054.wav"]["error"]
    assert lines["good.ogg"]["genre"] in GTZAN_GENRES
    # found by content and analysed; a steady test tone is honestly not music (no genre)
    assert lines["recording"]["is_music"] is False and lines["recording"]["genre"] is None
    assert set(lines["recording"]["probabilities"]) == set(GTZAN_GENRES)
    # The files left out are named, never dropped silently.
    skipped = next(line for line in done.stderr.splitlines() if line.startswith("skipped"))
    assert skipped.startswith("skipped 2 file(s)")
    assert str(folder / "LICENSE") in skipped and str(folder / "notes.txt") in skipped
    assert "Traceback" not in done.stderr


def test_non_audio_file_named_explicitly_is_an_error_row(
    tmp_path: Path, private_data_dir: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("a shopping list, not music\n" * 40)
    good = tmp_path / "tone.wav"
    good.write_bytes(wav_bytes(seconds=3))
    done = run_cli("classify", "--json", str(notes), str(good), env_home=private_data_dir)
    assert done.returncode == 1
    first, second = map(json.loads, done.stdout.strip().splitlines())
    assert set(first) == {"file", "error"} and first["file"] == str(notes)
    assert first["error"].startswith("notes.txt is not a recognised audio file")
    assert set(second["probabilities"]) == set(GTZAN_GENRES)  # analysed (a tone: not music)
    human = run_cli("classify", str(notes), env_home=private_data_dir)
    assert human.returncode == 1
    assert human.stdout.startswith(f"{notes}: error: notes.txt is not a recognised audio file")
    assert "Traceback" not in done.stderr + human.stderr


def test_missing_file_is_a_failure_not_a_crash(tmp_path: Path, private_data_dir: Path) -> None:
    done = run_cli("classify", "--json", str(tmp_path / "absent.wav"), env_home=private_data_dir)
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"].startswith("File not found")


def test_human_output(gtzan_dir: Path, private_data_dir: Path) -> None:
    clip = gtzan_dir / "audio" / "disco" / "disco.00006.ogg"
    done = run_cli("classify", str(clip), env_home=private_data_dir)
    assert done.returncode == 0
    assert done.stdout.startswith(f"{clip}: ")
    assert "%; next " in done.stdout


def test_human_output_says_what_the_page_says_for_a_mix(
    gtzan_dir: Path, private_data_dir: Path, tmp_path: Path
) -> None:
    """Not the top genre alone: the verdict heading, as on the page, then the figures."""
    parts = []
    for clip in ("classical/classical.00003.ogg", "rock/rock.00004.ogg"):
        samples, rate = sf.read(gtzan_dir / "audio" / clip, dtype="float32")
        parts.append(samples)  # whole clips: each genre leads about half of the windows
    mix = tmp_path / "classical-then-rock.wav"
    sf.write(mix, np.concatenate(parts), rate, subtype="PCM_16")
    done = run_cli("classify", str(mix), env_home=private_data_dir)
    assert done.returncode == 0, done.stderr
    heading = Classifier(default_bundle_dir()).predict(mix).verdict.heading  # as the page says
    assert heading in ("A mix of classical and rock", "A mix of rock and classical"), heading
    assert done.stdout.startswith(f"{mix}: {heading} ("), done.stdout
    assert "%; next " in done.stdout


def test_usage_errors_exit_2(tmp_path: Path, private_data_dir: Path) -> None:
    assert run_cli("classify", env_home=private_data_dir).returncode == 2
    assert run_cli("no-such-command", env_home=private_data_dir).returncode == 2
    clip = tmp_path / "tone.wav"
    clip.write_bytes(wav_bytes(seconds=2))
    for minutes in ["0", "-1", "nan"]:
        done = run_cli("classify", "--max-minutes", minutes, str(clip), env_home=private_data_dir)
        assert done.returncode == 2, minutes
        assert f"argument --max-minutes: {minutes} is out of range: use more than 0" in done.stderr
        assert done.stdout == ""
    done = run_cli("classify", "--workers", "0", str(clip), env_home=private_data_dir)
    assert done.returncode == 2 and "argument --workers: 0 is out of range" in done.stderr
    broken = tmp_path / "bundle"
    broken.mkdir()
    done = run_cli("classify", "--bundle", str(broken), "x.wav", env_home=private_data_dir)
    assert done.returncode == 2
    assert "bundle.json is missing" in done.stderr
    assert "Traceback" not in done.stderr


def test_progress_bar_goes_to_stderr_for_many_files(tmp_path: Path, private_data_dir: Path) -> None:
    for i in range(5):
        (tmp_path / f"t{i}.wav").write_bytes(wav_bytes(seconds=1.5))
    done = run_cli("classify", "--json", str(tmp_path), env_home=private_data_dir)
    assert done.returncode == 0
    assert len(done.stdout.strip().splitlines()) == 5
    assert "classifying" in done.stderr
