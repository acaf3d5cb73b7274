"""Audio → genre: model bundles, the ``Classifier``, the model zoo, training and the CLI.

``Classifier`` and friends are imported lazily, so ``python -m genre`` can configure the
process (thread policy) before torch loads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genre.bundle import Bundle, load_bundle
    from genre.classifier import Classifier, Prediction
    from genre.errors import BundleError, DatasetError, GenreError

_EXPORTS = {
    "Bundle": "genre.bundle",
    "load_bundle": "genre.bundle",
    "Classifier": "genre.classifier",
    "Prediction": "genre.classifier",
    "GenreError": "genre.errors",
    "BundleError": "genre.errors",
    "DatasetError": "genre.errors",
}
__all__ = [  # noqa: RUF022 — grouped by module, as in _EXPORTS
    "Bundle", "load_bundle", "Classifier", "Prediction",
    "GenreError", "BundleError", "DatasetError",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'genre' has no attribute {name!r}")
