"""Plain names and one-line descriptions of the registered models, for people.

The registry's ``ModelSpec.description`` is the technical summary (layers, weights); this table
is what the app shows a visitor choosing a model. Every registered model has an entry here
(tests/test_model_names.py checks it), so a new model file means a new line in this table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelName:
    title: str
    summary: str


MODEL_NAMES: dict[str, ModelName] = {
    "musicnn_genre": ModelName(
        "Pretrained musicnn + linear head",
        "A network already trained on a million songs listens; only a small genre layer on top "
        "learns from your clips. The most accurate choice on little data.",
    ),
    "simple_cnn": ModelName(
        "Small CNN (from scratch)",
        "A small image-style network that learns genre from spectrograms; quick to train.",
    ),
    "baseline_cnn": ModelName(
        "Baseline CNN (from scratch)",
        "The four-layer network behind the shipped from-scratch model.",
    ),
    "complex_cnn": ModelName(
        "Larger CNN (from scratch)",
        "A wider spectrogram network; needs more data and time than the small one.",
    ),
    "cnn_mlp": ModelName(
        "CNN with dense layers (from scratch)",
        "Two convolution layers followed by a stack of dense layers.",
    ),
    "crnn": ModelName(
        "CNN + recurrent layer (from scratch)",
        "Convolutions find sound patterns, a recurrent layer follows them over time.",
    ),
    "prcnn": ModelName(
        "Parallel CNN and recurrent branches (from scratch)",
        "One branch looks at sound patterns, the other at their order in time; both are joined.",
    ),
    "resnet18_bigru": ModelName(
        "ResNet-18 + recurrent layer (from scratch)",
        "The deepest network here; slow on a CPU and prone to overfit small datasets.",
    ),
    "bigru": ModelName(
        "Recurrent network (from scratch)",
        "Reads the spectrogram frame by frame in both directions.",
    ),
    "lstm_mfcc": ModelName(
        "LSTM on MFCCs (from scratch)",
        "A recurrent network reading compact timbre coefficients (MFCCs) over time.",
    ),
    "linear_mel": ModelName(
        "Linear baseline (spectrogram averages)",
        "The simplest spectrogram model: a straight line through each band's average loudness. "
        "A floor the others should beat.",
    ),
    "logreg": ModelName(
        "Logistic regression",
        "A linear model on the table's audio features; fast and a solid reference.",
    ),
    "logreg_tuned": ModelName(
        "Logistic regression, tuned",
        "The same with reshaped features and its strength tuned by cross-validation.",
    ),
    "svm": ModelName(
        "Support vector machine",
        "Draws curved boundaries between genres in feature space (default settings).",
    ),
    "svm_tuned": ModelName(
        "Support vector machine, tuned",
        "The same with reshaped features and its settings tuned by cross-validation.",
    ),
    "lda": ModelName(
        "Linear discriminant analysis",
        "A classic statistical classifier on reshaped features.",
    ),
    "knn_10": ModelName(
        "Nearest neighbours (10)",
        "Gives the genre most common among the 10 most similar tracks.",
    ),
    "knn_15": ModelName(
        "Nearest neighbours (15)",
        "Gives the genre most common among the 15 most similar tracks.",
    ),
    "knn_20": ModelName(
        "Nearest neighbours (20)",
        "Gives the genre most common among the 20 most similar tracks.",
    ),
    "random_forest": ModelName(
        "Random forest",
        "Three hundred decision trees vote on the genre.",
    ),
    "gradient_boosting": ModelName(
        "Gradient boosting",
        "Many small decision trees, each correcting the previous ones.",
    ),
    "feature_ensemble": ModelName(
        "Ensemble of four feature models",
        "Logistic regression, SVM, LDA and a small neural network vote together.",
    ),
}


def model_title(code: str) -> str:
    """The plain name of a model; its code name when it has none."""
    entry = MODEL_NAMES.get(code)
    return entry.title if entry else code


def model_order(code: str) -> int:
    """Sort key: the table's order (most useful first), unlisted models last."""
    order = list(MODEL_NAMES)
    return order.index(code) if code in order else len(order)


def model_summary(code: str) -> str:
    entry = MODEL_NAMES.get(code)
    return entry.summary if entry else ""
