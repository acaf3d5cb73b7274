"""Writing a musicnn-head bundle: the shipped one (``python -m genre recipe musicnn-genre``,
:mod:`genre.recipes.musicnn_genre`) and a user's (a ``musicnn_genre`` run of the Training page
or ``python -m genre train``).

One writer for both: :func:`head_bundle_meta` lays out ``bundle.json`` (with
:func:`serving_meta`, how the head is served), :func:`card_licence` ends the model card's
description and :func:`save_head_bundle` saves weights, metadata and card and writes
``LICENSE`` (musicnn's ISC text for the backbone, then a line about the head). Where the two
bundles differ in wording, it is a :class:`HeadLicence` (:data:`SHIPPED_HEAD`,
:data:`USER_HEAD`) or the cards' own text below.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from genre.bundle import Bundle, save_bundle
from genre.datasets import Track
from genre.labels import GTZAN_GENRES
from genre.musicnn import MSD_TAGS, MUSICNN_FRONTEND, PATCH_FRAMES
from genre.paths import ASSETS_DIR
from genre.training.musicnn_head import HeadConfig
from genre.training.trainers import saved_model_tracks, split_words

if TYPE_CHECKING:
    from torch import nn

    from genre.models import ModelSpec
    from genre.splits import Split
    from genre.training.config import RunConfig
    from genre.training.data import TrackData

WINDOW_S = PATCH_FRAMES * MUSICNN_FRONTEND.hop / MUSICNN_FRONTEND.sample_rate  # 2.992 s
BACKBONE_LICENCE = ASSETS_DIR / "musicnn-msd" / "LICENSE"  # musicnn 0.1.0's ISC licence


@dataclass
class CrossValidation:
    """A finished head run's grouped CV: what the shipped card and ``bundle.json`` report."""

    accuracies: list[float]
    confusion: np.ndarray  # summed over the held-out folds, rows true
    temperature: float
    nll_before: float
    nll_after: float

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies))


@dataclass(frozen=True)
class HeadLicence:
    """Whose the head is, as a bundle's three licence texts say it (the backbone's is fixed)."""

    meta: str  # bundle.json "licence", after "Head: "
    card: str  # the model card's licence paragraph, after "Head: "
    file: str  # LICENSE: the line after the backbone's licence


SHIPPED_HEAD = HeadLicence(
    meta="this project. GTZAN: research.",
    card="this project. GTZAN audio is for research use.",
    file="The genre head and this bundle's code: this project's licence.",
)
USER_HEAD = HeadLicence(
    meta="trained by the user in Genre Studio on their own data.",
    card="trained by the user.",
    file="The genre head: trained by the user in Genre Studio on their own data.",
)


def serving_meta(config: HeadConfig, labels: list[str]) -> dict:
    """The bundle fields that say how a musicnn head is served: model, labels, tags, front-end."""
    return {
        "params": {
            "n_classes": len(labels),
            "features": list(config.features),
            "hidden": config.hidden,
            "dropout": config.dropout,
            "low_precision": config.low_precision,
        },
        "labels": labels,
        "tags": list(MSD_TAGS),
        "sample_rate": MUSICNN_FRONTEND.sample_rate,
        "frontend": MUSICNN_FRONTEND.to_dict(),
        "window_s": WINDOW_S,
        "hop_s": WINDOW_S,  # non-overlapping patches, as musicnn itself tags
    }


def head_bundle_meta(
    *,
    name: str,
    title: str,
    description: str,
    kind: str,
    config: HeadConfig,
    labels: list[str],
    trained_on: dict[str, Any],
    metrics: dict[str, Any],
    training: dict[str, Any],
    head: HeadLicence,
) -> dict[str, Any]:
    """``bundle.json`` of a musicnn-head bundle (``created`` and ``weights`` are save_bundle's)."""
    return {
        "name": name,
        "title": title,
        "description": description,
        "kind": kind,
        **serving_meta(config, labels),
        "trained_on": trained_on,
        "metrics": metrics,
        "training": training,
        "licence": f"Backbone: ISC (musicnn 0.1.0, MTG-UPF). Head: {head.meta}",
    }


def card_licence(head: HeadLicence) -> str:
    """The model card's licence paragraph."""
    return (
        "**Licence.** Backbone weights: ISC, © Music Technology Group, Universitat Pompeu Fabra "
        f"(see\nLICENSE). Head: {head.card}\n"
    )


def save_head_bundle(
    folder: Path, *, model: nn.Module, meta: dict[str, Any], card: str, head: HeadLicence
) -> Bundle:
    """Weights, ``bundle.json``, the model card and ``LICENSE``; the bundle, re-loaded."""
    bundle = save_bundle(folder, model=model, meta=meta, model_card=card)
    (folder / "LICENSE").write_text(
        "The backbone weights in weights.safetensors are musicnn's (MSD_musicnn), under:\n\n"
        + BACKBONE_LICENCE.read_text(encoding="utf-8")
        + f"\n{head.file}\n",
        encoding="utf-8",
    )
    return bundle


def shipped_meta(
    out_dir: Path, tracks: list[Track], config: HeadConfig, cv: CrossValidation, minutes: float
) -> dict[str, Any]:
    """``bundle.json`` of the shipped head (``assets/musicnn-genre``), before the extras."""
    return head_bundle_meta(
        name=out_dir.name,
        title="musicnn (MSD) + genre head",
        description=(
            "musicnn pretrained on the Million Song Dataset (frozen) with a genre head trained "
            "on 100 GTZAN clips; also gives the 50 MSD tags ('sounds like')."
        ),
        kind="musicnn_genre",
        config=config,
        labels=list(GTZAN_GENRES),
        trained_on={
            "dataset": "GTZAN, the 100 shared clips (ten per genre); backbone: MSD (musicnn)",
            "files": [t.gtzan_key for t in tracks],
            "split": f"grouped {config.folds}-fold CV by blocks of {config.block} neighbouring "
            "IDs of every genre; shipped head trained on all clips",
        },
        metrics={
            "grouped_cv_accuracy_mean": {
                "value": round(cv.mean, 4),
                "how": "track-level (mean of serving-window probabilities), held-out blocks",
            },
            "grouped_cv_accuracy_std": {"value": round(cv.std, 4), "how": "across folds"},
            "fold_accuracies": {"value": [round(a, 4) for a in cv.accuracies], "how": "per fold"},
            "confusion_matrix": {
                "value": cv.confusion.tolist(),
                "how": "rows true, cols predicted",
            },
            "calibration_temperature": {
                "value": round(cv.temperature, 4),
                "how": f"fitted on held-out folds: track NLL {cv.nll_before:.3f} → "
                f"{cv.nll_after:.3f}",
            },
        },
        training={"config": asdict(config), "minutes": round(minutes, 1)},
        head=SHIPPED_HEAD,
    )


def _copies_text(config: dict[str, Any]) -> str:
    """The recording-chain copies a head was trained on, in the card's words."""
    copies = int(config.get("recording_copies", 0))
    if not copies:
        return ""
    return (
        f", and of {copies} copies of every clip through a random recording chain (one or two "
        "of: gain -30…+6 dB, band limit 2.5–6 kHz, white or brown noise at 8–25 dB SNR, EQ tilt "
        "±4 dB/octave; `audio/degrade.py`) so that the head does not depend on how 1990s CDs "
        "sound (grouped CV on held-out clips copied through fixed chains: -20 dB 50 % → 67 %, "
        "4 kHz lo-fi 66 % → 83 %, bass tilt 62 % → 69 %)"
    )


def shipped_card(meta: dict[str, Any], cv: CrossValidation) -> str:
    """The shipped head's model card (genre.fusion_fit adds its section later)."""
    header = "| true \\ predicted | " + " | ".join(g[:5] for g in GTZAN_GENRES) + " |"
    rule = "|---" * (len(GTZAN_GENRES) + 1) + "|"
    rows = [
        f"| {g} | " + " | ".join(str(v) for v in row) + " |"
        for g, row in zip(GTZAN_GENRES, cv.confusion, strict=True)
    ]
    config = meta["training"]["config"]
    copies = _copies_text(config)
    m = meta["metrics"]
    halves = (
        " A stricter split into halves of every genre's IDs (0–4 vs 5–9): "
        f"{m['halves_cv_accuracy_mean']['value']:.0%} ± {m['halves_cv_accuracy_std']['value']:.0%}."
        if "halves_cv_accuracy_mean" in m
        else ""
    )
    head = f"an MLP ({config['hidden']} hidden units)" if config["hidden"] else "a linear layer"
    per_fold = ", ".join(f"{a:.0%}" for a in cv.accuracies)
    return f"""# Model card: {meta["title"]}

**What it is.** musicnn (Pons & Serra, 2019), a music-tagging CNN pretrained on ~200 k songs
of the Million Song Dataset, ported to PyTorch from the ISC-licensed `musicnn` 0.1.0 wheel
(`tools/convert_musicnn.py`; the port matches the original TensorFlow graph within 1e-4, see
`tests/test_musicnn_port.py`). The backbone is frozen. On top of its features
({", ".join(config["features"])}; standardised) sits {head} trained on the 100 GTZAN clips
shared with the project. Input: 16 kHz mono, log-mel (96 bands, `log10(1 + 10000·mel)`),
non-overlapping 3-s patches; a track's genre is the mean of its patches' probabilities. The
same forward pass gives the 50 MSD tags shown as "sounds like".

**How it was trained.** Features of every 3-s patch plus patches shifted by 1.5 s
(augmentation){copies}, label smoothing {config["label_smoothing"]},
dropout {config["dropout"]}, L2 {config["weight_decay"]}, full-batch AdamW for
{config["epochs"]} epochs. One softmax temperature ({cv.temperature:.2f}) fitted on the
held-out folds calibrates the probabilities (held-out track NLL {cv.nll_before:.3f} →
{cv.nll_after:.3f}). Reproduce with `python -m genre recipe musicnn-genre` (alias
`python -m genre train-musicnn`): a run in the run registry like any other, then shipped
here. The float32 backbone pass over the clips takes minutes on 2 CPU cores and is cached in
the data folder; the head then trains in seconds.
Serving runs the backbone's timbral convolutions as int8 GEMMs (exact int32 sums) and the rest
of its front-end in bfloat16 where the CPU supports it (~3× faster than float32; float32
elsewhere). On the 100 clips this changes no track's genre and 0.1 % of window genres;
probabilities move by < 0.015.

**How good it is — honestly.** Accuracy only on clips the head did not train on: grouped
{config["folds"]}-fold cross-validation, each fold holding out blocks of {config["block"]}
neighbouring IDs of every genre (GTZAN is ordered by artist, so neighbours often share one).
Track-level accuracy: **{cv.mean:.0%} ± {cv.std:.0%}** (mean ± standard deviation over folds;
per fold {per_fold}). Chance is 10 %.{halves} For reference, a plain logistic regression on
each track's mean embedding scores {m["plain_logreg_cv_accuracy_mean"]["value"]:.0%} ± \
{m["plain_logreg_cv_accuracy_std"]["value"]:.0%} in the same folds: with 100 clips, one clip
is 1 %, so the heads are indistinguishable in accuracy; this one is kept because it is
trained and scored on windows exactly as it is served, and its probabilities are calibrated.
The head's settings were picked among 12 candidates by the same cross-validation, so these
figures are slightly optimistic.

Held-out folds may still share artists with training folds, so music by other artists will
score lower (the artist-filtered GTZAN split cannot be used here: among the 100 shared clips
its training side lacks blues, classical and country). The pretrained backbone is what makes
the model transfer far better than one trained from scratch on these clips.

Confusion matrix summed over the held-out folds (rows: true genre, columns: predicted):

{header}
{rule}
{chr(10).join(rows)}

**Limits.** Ten genres only (GTZAN's); music outside them gets the nearest one. The MSD tags
reflect Last.fm listeners' tags of Western popular music around 2010.

""" + card_licence(SHIPPED_HEAD)


def run_meta(
    run_id: str,
    spec: ModelSpec,
    config: RunConfig,
    head_config: HeadConfig,
    data: TrackData,
    splits: list[Split],
    accuracy: float,
) -> dict[str, Any]:
    """``bundle.json`` of a user's head, trained in run ``run_id``."""
    fit_all = config.final_fit
    return head_bundle_meta(
        name=f"{spec.name}-{run_id}",
        title=f"musicnn (MSD) + genre head (training run {run_id})",
        description=spec.description,
        kind=spec.name,
        config=head_config,
        labels=list(data.labels),
        trained_on={
            "dataset": data.source,
            "files": [data.keys[i] for i in saved_model_tracks(splits, data.n_tracks, fit_all)],
            "split": split_words(config.split, fit_all),
        },
        metrics={
            "test_accuracy": {
                "value": round(accuracy, 4),
                "how": f"track-level, {config.split} split, tracks never seen in training",
            }
        },
        training={"run": config.to_dict(), "head": asdict(head_config)},
        head=USER_HEAD,
    )


def run_card(
    config: RunConfig,
    head_config: HeadConfig,
    data: TrackData,
    splits: list[Split],
    accuracy: float,
    temperature: float,
) -> str:
    """The model card of a user's head (the caller adds the verdict evidence)."""
    trained = len(saved_model_tracks(splits, data.n_tracks, config.final_fit))
    after = ", after cross-validation" if config.final_fit else ""
    return (
        "# musicnn (MSD) + genre head, trained in Genre Studio\n\n"
        "musicnn, pretrained on the Million Song Dataset, stays frozen; a genre head on "
        f"its {', '.join(head_config.features)} features was trained on {trained} "
        f"tracks of {data.source} ({len(data.labels)} classes: {', '.join(data.labels)}){after}, "
        f"{config.split} split, with the shipped head's recipe ({head_config.epochs} full-batch "
        f"epochs, label smoothing {head_config.label_smoothing}, dropout {head_config.dropout}"
        f"); softmax temperature {temperature:.2f} fitted on held-out tracks.\n\n"
        f"Track-level accuracy on held-out tracks: **{accuracy:.1%}**. Small datasets give "
        "optimistic numbers for music by artists not in the training data. The same forward "
        "pass gives the 50 MSD tags ('sounds like').\n\n" + card_licence(USER_HEAD)
    )
