"""The model zoo: one file per model, each registering itself by name.

Every module in this package is imported on first use, so adding a model means adding a file
that calls :func:`register`. A spec declares what input the model eats, so training and
serving can build that input.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from genre.errors import GenreError

ModelInput = Literal["features", "mel", "stft", "mfcc", "embedding"]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    input: ModelInput
    build: Callable[..., Any]
    description: str
    family: Literal["torch", "sklearn"] = "torch"


_REGISTRY: dict[str, ModelSpec] = {}
_LOADED = False


def register(spec: ModelSpec) -> ModelSpec:
    if spec.name in _REGISTRY and _REGISTRY[spec.name] is not spec:
        raise ValueError(f"model name registered twice: {spec.name}")
    _REGISTRY[spec.name] = spec
    return spec


def _load_all() -> None:
    global _LOADED
    if _LOADED:
        return
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
    _LOADED = True


def get_model_spec(name: str) -> ModelSpec:
    # A model usually lives in the module of its own name: import just that one, so serving a
    # bundle does not pay for importing the whole zoo (sklearn, recurrent nets, ...).
    if name not in _REGISTRY and name.isidentifier():
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise
    if name not in _REGISTRY:
        _load_all()
    if name not in _REGISTRY:
        known = ", ".join(sorted(_REGISTRY))
        raise GenreError(f"Unknown model '{name}'. Known models: {known}.")
    return _REGISTRY[name]


def model_names() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)
