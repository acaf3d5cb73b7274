"""Peak memory for one input, whatever its size: the decoder and the classify CLI.

Writes bench/results/memory.json. Each case runs in a fresh child process; the figure is the
child's peak resident set (``ru_maxrss``). A child's ``ru_maxrss`` starts from its parent's at
fork, so ffmpeg is measured apart, started from a small process. The inputs are built here:
4 GB sparse files (zeros, and a WAV header declaring 4 GB of 48 kHz stereo over zeros), 1 GB of
random bytes named .mp3, and 15-minute 48 kHz stereo WAV and 44.1 kHz FLAC files. The size cap
is raised to 8192 MB for these runs so that the decoding itself is measured; with the default
cap (2048 MB) the 4 GB files are refused before any byte is read.

``--before DIR`` also measures the decoder from an older checkout's ``audio`` package (DIR is
the folder holding it), for a before/after comparison. Timings are not the point and are noisy
on a shared machine; memory is what is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from common import ROOT, write_results

from audio.ffmpeg import FFMPEG_OVERRUN_S

GB = 2**30
MAX_MINUTES = 10.0
BOUND_GB = 1.5
CHILD_TIMEOUT_S = 1800  # the stated bound for any single input at a 10-minute analysis

DECODE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
from audio import AudioError, load_audio
started = time.monotonic()
try:
    audio = load_audio(sys.argv[2], sample_rate=16000, max_minutes=float(sys.argv[3]))
    outcome = f"decoded {audio.duration_s:.0f} s"
except AudioError as err:
    outcome = f"AudioError: {err}"
print(json.dumps({
    "outcome": outcome, "seconds": round(time.monotonic() - started, 2),
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
}))
"""


def make_inputs(folder: Path) -> dict[str, Path]:
    zeros = folder / "sparse_zeros_4gb.wav"
    with zeros.open("wb") as f:
        f.truncate(4 * GB)
    header = folder / "sparse_header_4gb.wav"
    rate, channels, align = 48000, 2, 4
    size = 4 * GB - 44
    fmt = struct.pack("<IHHIIHH", 16, 1, channels, rate, rate * align, align, 16)
    header.write_bytes(b"RIFF" + struct.pack("<I", size + 36) + b"WAVEfmt " + fmt + b"data"
                       + struct.pack("<I", size))  # fmt: skip
    os.truncate(header, 4 * GB)
    random_mp3 = folder / "random_1gb.mp3"
    rng = np.random.default_rng(0)
    with random_mp3.open("wb") as f:
        for _ in range(64):
            f.write(rng.bytes(16 * 2**20))
    inputs = {"sparse zeros 4 GB .wav": zeros, "WAV header over 4 GB of zeros": header,
              "random bytes 1 GB .mp3": random_mp3}  # fmt: skip
    for name, rate, fmt_name in (("wav", 48000, "WAV"), ("flac", 44100, "FLAC")):
        path = folder / f"sweep_15min.{name}"
        t = np.arange(rate * 60, dtype=np.float64) / rate
        minute = (0.3 * np.sin(2 * np.pi * (220 + 200 * np.sin(t / 3)) * t)).astype(np.float32)
        with sf.SoundFile(path, "w", rate, 2, format=fmt_name, subtype="PCM_16") as f:
            for _ in range(15):
                f.write(np.stack([minute, 0.5 * minute], axis=1))
        inputs[f"15 min {rate // 1000} kHz stereo .{name}"] = path
    return inputs


def run_child(cmd: list[str], env: dict[str, str]) -> dict:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S,
                              env=env, check=False, cwd=ROOT)  # fmt: skip
    except subprocess.TimeoutExpired:
        return {"outcome": f"not finished within {CHILD_TIMEOUT_S} s (a loaded machine?)"}
    if done.returncode != 0 and not done.stdout.strip():
        return {"outcome": f"exit {done.returncode}: {done.stderr.strip()[-300:]}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_cli(path: Path, env: dict[str, str]) -> dict:
    """The whole ``python -m genre classify`` process: torch, the model and the decoding."""
    script = (
        "import json, resource, subprocess, sys, time; t = time.monotonic(); "
        "d = subprocess.run([sys.executable, '-m', 'genre', 'classify', '--json', sys.argv[1]], "
        "capture_output=True, text=True); "
        "line = (d.stdout.strip().splitlines() or [d.stderr.strip()])[-1]; "
        "print(json.dumps({'outcome': line[:160], 'exit': d.returncode, "
        "'seconds': round(time.monotonic() - t, 1), "
        "'peak_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"
    )
    return run_child([sys.executable, "-c", script, str(path)], env)


def measure_ffmpeg(path: Path, env: dict[str, str]) -> dict:
    """ffmpeg as the decoder runs it (input from disk, -t cap, mono 16 kHz out), on its own."""
    seconds = MAX_MINUTES * 60 + FFMPEG_OVERRUN_S
    script = (
        "import json, resource, subprocess, sys; "
        "d = subprocess.run(['ffmpeg', '-v', 'error', '-nostdin', '-i', sys.argv[1], '-t', "
        f"'{seconds}', '-vn', '-f', 'f32le', '-ac', '1', '-ar', '16000', 'pipe:1'], "
        "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(json.dumps({'exit': d.returncode, "
        "'peak_rss_mb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))"
    )
    return run_child([sys.executable, "-c", script, str(path)], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", type=Path, help="a folder holding an older audio package")
    parser.add_argument("--no-cli", action="store_true", help="measure the decoder only")
    args = parser.parse_args()
    env = {**os.environ, "GENRE_STUDIO_MAX_FILE_MB": "8192", "OMP_WAIT_POLICY": "PASSIVE"}
    results: dict = {"max_minutes": MAX_MINUTES, "bound_gb": BOUND_GB, "cases": {}}
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        env["GENRE_STUDIO_HOME"] = str(Path(folder) / "home")  # not the user's data folder
        inputs = make_inputs(Path(folder))
        floor = run_child([sys.executable, "-c", "import resource, json, sys; "
                           f"sys.path.insert(0, {str(ROOT)!r}); import audio; print(json.dumps("
                           "{'peak_rss_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss"
                           " / 1024}))"], env)  # fmt: skip
        results["import_audio_peak_rss_mb"] = floor["peak_rss_mb"]
        for name, path in inputs.items():
            case: dict = {"file_mb": round(path.stat().st_size / 1e6)}
            print(f"== {name}", flush=True)
            decode = [sys.executable, "-c", DECODE]
            case["decoder"] = run_child([*decode, str(ROOT), str(path), str(MAX_MINUTES)], env)
            if args.before:
                case["decoder_before"] = run_child(
                    [*decode, str(args.before), str(path), str(MAX_MINUTES)], env
                )
            if name.endswith((".mp3", "zeros 4 GB .wav")):  # the inputs that reach ffmpeg
                case["ffmpeg"] = measure_ffmpeg(path, env)
            if not args.no_cli:
                case["classify_cli"] = measure_cli(path, env)
            results["cases"][name] = case
    peaks = [
        max(c["decoder"].get("peak_rss_mb", 0), c.get("ffmpeg", {}).get("peak_rss_mb", 0),
            c.get("classify_cli", {}).get("peak_rss_mb", 0))
        for c in results["cases"].values()
    ]  # fmt: skip
    results["highest_peak_mb"] = round(max(peaks))
    results["within_bound"] = max(peaks) <= BOUND_GB * 1024
    write_results("memory", results)


if __name__ == "__main__":
    main()
