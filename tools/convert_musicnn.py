"""Convert musicnn's TensorFlow checkpoints to safetensors and record a TF reference fixture.

    .venv/bin/python tools/convert_musicnn.py [--models MSD_musicnn [MTT_musicnn]]

1. ``pip download --no-deps musicnn==0.1.0`` into a temporary folder and unpack the wheel;
2. make (or reuse) the throwaway TensorFlow venv ``/tmp/musicnn-tfenv`` (tensorflow-cpu,
   librosa) — TensorFlow never enters the app's environment;
3. read each checkpoint with TensorFlow's checkpoint reader (``tools/musicnn_tf_reference.py``
   runs inside that venv), map the variables onto :class:`genre.musicnn.Musicnn` and write
   ``assets/musicnn-<msd|mtt>/weights.safetensors`` with the ISC licence and a PROVENANCE note;
4. run the original graph (imported from the checkpoint's ``.meta`` and restored) on five
   shared GTZAN clips and store its outputs in ``tests/fixtures/musicnn/`` for the
   equivalence test. The clips are decoded and resampled by our own ``audio.load_audio`` so
   both sides see the same 16-kHz samples; the front-end runs in float32 on both sides.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audio import load_audio
from genre.musicnn import MUSICNN_FRONTEND, Musicnn, tf_to_torch
from genre.paths import ASSETS_DIR, REPO_ROOT, shared_gtzan_dir

PACKAGE = "musicnn==0.1.0"
TF_ENV = Path("/tmp/musicnn-tfenv")
TF_PACKAGES = ["tensorflow-cpu==2.21.0", "librosa==0.11.0", "numpy==2.4.6"]
WORKER = REPO_ROOT / "tools" / "musicnn_tf_reference.py"
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures" / "musicnn"
FIXTURE_CLIPS = ("blues.00000", "classical.00001", "hiphop.00002", "metal.00003", "reggae.00004")
ASSET_NAMES = {"MSD_musicnn": "musicnn-msd", "MTT_musicnn": "musicnn-mtt"}


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def download_wheel(workdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", PACKAGE, "-d", str(workdir)],
        check=True,
    )
    (wheel,) = workdir.glob("musicnn-*.whl")
    return wheel


def ensure_tf_env() -> Path:
    """The throwaway venv with TensorFlow, librosa and the musicnn wheel itself (no deps):
    ``bench/bench_musicnn.py`` finds the original checkpoints there."""
    python = TF_ENV / "bin" / "python"
    probe = [str(python), "-c", "import tensorflow, librosa; import musicnn.configuration"]
    if python.is_file() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    log(f"creating the throwaway TensorFlow environment {TF_ENV} (a few minutes)")
    if not python.is_file():
        subprocess.run([sys.executable, "-m", "venv", str(TF_ENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *TF_PACKAGES], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", PACKAGE], check=True)
    return python


def run_worker(python: Path, *args: str) -> None:
    subprocess.run([str(python), str(WORKER), *args], check=True)


def tf_version(python: Path) -> str:
    out = subprocess.run(
        [str(python), "-c", "import tensorflow as tf; print(tf.__version__)"],
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    return out.stdout.strip().splitlines()[-1]


def fixture_waves(gtzan_audio: Path) -> dict[str, np.ndarray]:
    waves = {}
    for clip in FIXTURE_CLIPS:
        genre = clip.split(".")[0]
        audio = load_audio(gtzan_audio / genre / f"{clip}.ogg", sample_rate=16000)
        waves[clip] = audio.samples.astype(np.float32)
    return waves


def write_provenance(
    folder: Path, model: str, wheel: Path, ckpt: Path, tf: str, extra: dict[str, str]
) -> None:
    files = sorted(p for p in ckpt.iterdir() if p.is_file())
    lines = [
        f"# Provenance of {folder.name}/weights.safetensors",
        "",
        f"- Source: PyPI package `{PACKAGE}` (ISC licence, Music Technology Group, Universitat",
        "  Pompeu Fabra; code by Jordi Pons), downloaded with `pip download --no-deps`.",
        f"- Wheel: `{wheel.name}` sha256 `{sha256(wheel)}`",
        f"- Checkpoint folder inside the wheel: `musicnn/{model}/`",
        *[f"  - `{p.name}` sha256 `{sha256(p)}`" for p in files],
        f"- Read with TensorFlow {tf}'s checkpoint reader (throwaway venv, not an app dependency)",
        "  by `tools/convert_musicnn.py`; variables mapped by `genre.musicnn.tf_to_torch`",
        "  (kernels transposed to PyTorch's layout; Adam slots dropped).",
        *[f"- {k}: `{v}`" for k, v in extra.items()],
        f"- Converted: {time.strftime('%Y-%m-%d', time.gmtime())}",
        "",
        "Front-end the network expects: 16 kHz mono, n_fft 512, hop 256, 96 Slaney mel bands,",
        "`log10(1 + 10000·mel)` computed in float32 (the wheel's own float16 cast overflows).",
        "",
    ]
    (folder / "PROVENANCE.md").write_text("\n".join(lines), encoding="utf-8")


def convert(model: str, package_dir: Path, wheel: Path, python: Path, work: Path) -> Path:
    ckpt = package_dir / model
    variables_path = work / f"{model}_variables.npz"
    run_worker(python, "variables", str(ckpt), str(variables_path))
    variables = dict(np.load(variables_path))
    state = tf_to_torch(variables)
    Musicnn().load_state_dict(state, strict=True)  # proves every tensor fits
    folder = ASSETS_DIR / ASSET_NAMES[model]
    folder.mkdir(parents=True, exist_ok=True)
    weights = folder / "weights.safetensors"
    save_file(
        {k: v.contiguous() for k, v in state.items()},
        str(weights),
        metadata={"source": PACKAGE, "checkpoint": model},
    )
    weights.chmod(0o644)  # safetensors writes 0600; the shipped file must be world-readable
    licence = package_dir.parent / "musicnn-0.1.0.dist-info" / "LICENSE.md"
    (folder / "LICENSE").write_text(
        "ISC License (the musicnn package these weights come from)\n\n"
        + licence.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    write_provenance(
        folder, model, wheel, ckpt, tf_version(python), {"weights sha256": sha256(weights)}
    )
    log(f"wrote {weights} ({weights.stat().st_size / 1e6:.1f} MB)")
    return weights


def make_fixture(package_dir: Path, python: Path, work: Path, gtzan_audio: Path) -> Path:
    waves = fixture_waves(gtzan_audio)
    waves_path = work / "waves.npz"
    np.savez(waves_path, **waves)
    ref_path = work / "reference.npz"
    run_worker(
        python, "reference", str(package_dir / "MSD_musicnn"), str(waves_path), str(ref_path)
    )
    ref = np.load(ref_path)
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    kept: dict[str, np.ndarray] = {}
    for i, clip in enumerate(FIXTURE_CLIPS):
        kept[f"{clip}/taggram"] = ref[f"{clip}/taggram"]
        kept[f"{clip}/penultimate"] = ref[f"{clip}/penultimate"]
        if i == 0:  # the pooled mid-end features of one clip keep the file small
            kept[f"{clip}/mean_pool"] = ref[f"{clip}/mean_pool"]
            kept[f"{clip}/max_pool"] = ref[f"{clip}/max_pool"]
    out = FIXTURE_DIR / "msd_reference.npz"
    np.savez_compressed(out, **kept)
    meta = {
        "what": "outputs of the original musicnn MSD_musicnn TensorFlow graph (imported from the "
        "checkpoint's .meta and restored) on non-overlapping 187-frame patches",
        "made_by": "tools/convert_musicnn.py",
        "package": PACKAGE,
        "frontend": {**MUSICNN_FRONTEND.to_dict(), "dtype": "float32", "computed_by": "librosa"},
        "decoding": "audio.load_audio(path, sample_rate=16000) (ours), same on both sides",
        "clips": {
            clip: {
                "file": f"audio/{clip.split('.')[0]}/{clip}.ogg",
                "sha256": sha256(gtzan_audio / clip.split(".")[0] / f"{clip}.ogg"),
                "samples": len(waves[clip]),
                "float16_frontend_inf_share": round(float(ref[f"{clip}/float16_inf_share"]), 6),
            }
            for clip in FIXTURE_CLIPS
        },
    }
    (FIXTURE_DIR / "msd_reference.json").write_text(
        json.dumps(meta, indent=2) + "\n", encoding="utf-8"
    )
    log(f"wrote {out} ({out.stat().st_size / 1e3:.0f} kB)")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # MTT_musicnn converts the same way (--models MSD_musicnn MTT_musicnn); the app ships only
    # MSD: a second backbone would double the inference time for the default model.
    parser.add_argument("--models", nargs="+", default=["MSD_musicnn"], choices=ASSET_NAMES)
    parser.add_argument("--no-fixture", action="store_true", help="skip the TF reference run")
    args = parser.parse_args(argv)
    python = ensure_tf_env()
    with tempfile.TemporaryDirectory(prefix="musicnn-") as tmp:
        work = Path(tmp)
        wheel = download_wheel(work)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(work / "wheel")
        package_dir = work / "wheel" / "musicnn"
        for model in args.models:
            convert(model, package_dir, wheel, python, work)
        if not args.no_fixture:
            make_fixture(package_dir, python, work, shared_gtzan_dir() / "audio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
