"""Model bundles: a folder with ``bundle.json``, weights and a ``MODEL_CARD.md``.

The metadata carries everything needed to reproduce the input the model was trained on
(sample rate, front-end, window length), so a bundle is usable without the code that made it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from audio import MelSpec
from audio.spectrogram import finite_number
from genre.errors import BundleError, GenreError
from genre.models import ModelSpec, get_model_spec

REQUIRED_KEYS = (
    "name", "kind", "labels", "sample_rate", "frontend", "window_s", "hop_s", "weights",
    "trained_on", "metrics", "created", "licence",
)  # fmt: skip


@dataclass(frozen=True)
class Bundle:
    path: Path
    name: str
    kind: str
    labels: tuple[str, ...]
    frontend: MelSpec
    window_s: float
    hop_s: float
    weights: Path
    params: dict[str, Any]
    trained_on: dict[str, Any]
    metrics: dict[str, Any]
    created: str
    licence: str
    title: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()  # labels of an auxiliary tag output, e.g. musicnn's 50 MSD tags
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sample_rate(self) -> int:
        return self.frontend.sample_rate

    @property
    def window_frames(self) -> int:
        return self.frontend.frames_for(self.window_s)

    @property
    def hop_frames(self) -> int:
        return max(1, round(self.hop_s * self.frontend.sample_rate / self.frontend.hop))

    @property
    def model_card(self) -> str:
        card = self.path / "MODEL_CARD.md"
        return card.read_text(encoding="utf-8") if card.is_file() else ""

    def build_model(self) -> torch.nn.Module:
        """Instantiate the network and load its weights (strict: every tensor must fit)."""
        spec = get_model_spec(self.kind)
        # Shapes first, on the meta device (no memory): a hand-edited 'params' entry asking for
        # a network far larger than its weights would otherwise allocate it before failing.
        with torch.device("meta"):
            described = self._build(spec)
        try:
            state = load_file(str(self.weights))
        except Exception as err:  # safetensors raises several types for damaged files
            raise BundleError(f"The weights of model '{self.name}' cannot be read: {err}") from err
        stored = {key: tuple(tensor.shape) for key, tensor in state.items()}
        mismatch = _shape_mismatch(described.state_dict(), stored)
        if mismatch:
            raise BundleError(
                f"The weights of model '{self.name}' do not fit its '{self.kind}' network "
                f"({mismatch})."
            )
        model = self._build(spec)
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise BundleError(
                f"The weights of model '{self.name}' do not fit its '{self.kind}' network "
                f"({str(err).splitlines()[0]})."
            ) from err
        model.eval()
        self._check_outputs(model)
        return model

    def _build(self, spec: ModelSpec) -> torch.nn.Module:
        try:
            return spec.build(**self.params)
        except (TypeError, ValueError, RuntimeError) as err:  # a hand-edited 'params' entry
            raise BundleError(
                f"Model '{self.name}' cannot be built from the 'params' in its bundle.json "
                f"({str(err).splitlines()[0]})."
            ) from err

    def _check_outputs(self, model: torch.nn.Module) -> None:
        """One dummy window through the net: its outputs must match the declared labels."""
        probe = torch.zeros(1, self.frontend.n_mels, self.window_frames)
        try:
            with torch.inference_mode():
                out = model(probe)
        except RuntimeError as err:
            raise BundleError(
                f"Model '{self.name}' cannot read {self.frontend.n_mels}-band windows of "
                f"{self.window_frames} frames ({str(err).splitlines()[0]})."
            ) from err
        logits = out["logits"] if isinstance(out, dict) else out
        if logits.shape[-1] != len(self.labels):
            raise BundleError(
                f"Model '{self.name}' predicts {logits.shape[-1]} classes but its bundle "
                f"lists {len(self.labels)} labels; its weights do not fit the metadata."
            )
        if (
            isinstance(out, dict)
            and "tags" in out
            and self.tags
            and out["tags"].shape[-1] != len(self.tags)
        ):
            raise BundleError(f"Model '{self.name}' has a tag output that does not fit its tags.")


def _shape_mismatch(described: dict[str, torch.Tensor], stored: dict[str, tuple[int, ...]]) -> str:
    """The first difference between a network's tensors and a weights file's, in words ("" if
    none), so a wrong-sized network is refused before it is built for real."""
    missing = sorted(set(described) - set(stored))
    if missing:
        return f"the network has {missing[0]}, which the weights lack"
    extra = sorted(set(stored) - set(described))
    if extra:
        return f"the weights hold {extra[0]}, which the network does not have"
    for key, tensor in described.items():
        if tuple(tensor.shape) != stored[key]:
            return (
                f"{key} is {list(stored[key])} in the weights, {list(tensor.shape)} in the network"
            )
    return ""


# A classifier listens to windows of seconds; one of minutes would not fit a clip (or memory).
MAX_WINDOW_S = 60.0


def _seconds(value: object) -> bool:
    return finite_number(value) and value > 0


def _fail(path: Path, reason: str) -> BundleError:
    return BundleError(f"The model bundle at {path} is not usable: {reason}.")


def load_bundle(path: str | Path) -> Bundle:
    """Read and validate ``bundle.json``; raises :class:`BundleError` with the exact problem."""
    folder = Path(path)
    meta_path = folder / "bundle.json"
    if not meta_path.is_file():
        raise _fail(folder, "bundle.json is missing")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _fail(folder, f"bundle.json is not valid JSON ({err})") from err
    if not isinstance(meta, dict):
        raise _fail(folder, "bundle.json must hold a JSON object")
    missing = [key for key in REQUIRED_KEYS if key not in meta]
    if missing:
        raise _fail(folder, "bundle.json lacks " + ", ".join(missing))
    labels = meta["labels"]
    if (
        not isinstance(labels, list)
        or len(labels) < 2
        or not all(isinstance(x, str) and x for x in labels)
        or len(set(labels)) != len(labels)
    ):
        raise _fail(folder, "'labels' must be a list of at least two distinct names")
    if not isinstance(meta["frontend"], dict):
        raise _fail(folder, "'frontend' must be an object")
    try:
        frontend = MelSpec.checked({"sample_rate": meta["sample_rate"], **meta["frontend"]})
    except ValueError as err:
        raise _fail(folder, str(err)) from err
    if frontend.sample_rate != meta["sample_rate"]:
        raise _fail(folder, "the front-end sample rate differs from 'sample_rate'")
    window_s, hop_s = meta["window_s"], meta["hop_s"]
    if not (_seconds(window_s) and _seconds(hop_s) and hop_s <= window_s <= MAX_WINDOW_S):
        raise _fail(folder, "'window_s' and 'hop_s' must satisfy 0 < hop_s <= window_s <= "
                            f"{MAX_WINDOW_S:g}")  # fmt: skip
    window_s, hop_s = float(window_s), float(hop_s)
    if frontend.frames_for(window_s) < 8:
        raise _fail(folder, "'window_s' is too short: it must hold at least 8 frames")
    weights = folder / str(meta["weights"])
    try:
        present = weights.is_file()
    except OSError:  # a name longer than the file system allows
        present = False
    if not present:
        raise _fail(folder, f"the weights file {meta['weights']} is missing")
    try:
        get_model_spec(str(meta["kind"]))
    except GenreError as err:
        raise _fail(folder, str(err).rstrip(".")) from err
    for key in ("params", "trained_on", "metrics"):
        if not isinstance(meta.get(key, {}), dict):
            raise _fail(folder, f"'{key}' must be an object")
    tags = meta.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(tag, str) and tag for tag in tags):
        raise _fail(folder, "'tags' must be a list of tag names")
    known = set(REQUIRED_KEYS) | {"params", "title", "description", "tags"}
    return Bundle(
        path=folder,
        name=str(meta["name"]),
        kind=str(meta["kind"]),
        labels=tuple(labels),
        frontend=frontend,
        window_s=window_s,
        hop_s=hop_s,
        weights=weights,
        params=dict(meta.get("params", {})),
        trained_on=dict(meta["trained_on"]),
        metrics=dict(meta["metrics"]),
        created=str(meta["created"]),
        licence=str(meta["licence"]),
        title=str(meta.get("title", meta["name"])),
        description=str(meta.get("description", "")),
        tags=tuple(tags),
        extra={k: v for k, v in meta.items() if k not in known},
    )


def save_bundle(
    folder: Path,
    *,
    model: torch.nn.Module,
    meta: dict[str, Any],
    model_card: str,
    weights_name: str = "weights.safetensors",
) -> Bundle:
    """Write weights, ``bundle.json`` and the model card, then re-load to prove consistency."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / weights_name))
    (folder / weights_name).chmod(0o644)  # safetensors writes 0600; bundles are shared files
    full = {"created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **meta}
    full["weights"] = weights_name
    (folder / "bundle.json").write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    (folder / "MODEL_CARD.md").write_text(model_card, encoding="utf-8")
    bundle = load_bundle(folder)
    bundle.build_model()
    return bundle


def shipped_bundles(assets_dir: Path | None = None) -> list[Path]:
    """Genre bundles shipped in ``assets/`` (other assets, e.g. the GAN, are not classifiers)."""
    from genre.models import model_names
    from genre.paths import ASSETS_DIR

    kinds = set(model_names())
    found = []
    for meta in sorted((assets_dir or ASSETS_DIR).glob("*/bundle.json")):
        try:
            kind = json.loads(meta.read_text(encoding="utf-8")).get("kind")
        except (OSError, json.JSONDecodeError, AttributeError):
            continue
        if kind in kinds:
            found.append(meta.parent)
    return found
