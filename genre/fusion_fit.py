"""Choosing the tag-fusion weight, the verdict thresholds and measuring calibration, all on
held-out tracks of the shipped head's grouped cross-validation.

    python -m genre fit-fusion [--bundle assets/musicnn-genre] [--data DIR] [--json]

1. The bundle's head is trained out-of-fold by the run pipeline, as ``python -m genre recipe
   musicnn-genre`` trains it (same config, cached backbone features; a temporary run outside
   the registry), which keeps every held-out serving window's logits and MSD tags
   (``held_out.npz``). The recipe itself skips this step: it calls :func:`ship_fusion` on its
   own run's windows.
2. Fusion (:mod:`genre.fusion`): ``weight`` and ``floor`` minimise the held-out tracks' NLL
   over a small grid. Because they are picked on the same folds, a nested estimate is also
   reported: every fold is scored with the settings chosen on the other folds.
3. Verdict thresholds (:func:`genre.verdict.thresholds_from_held_out`) and calibration (ECE,
   reliability diagram) from the held-out fused track probabilities.
4. Writes ``"fusion"``, ``"verdict"`` and the figures into the bundle's ``bundle.json``, the
   diagram next to it, and the "How sure is it?" section of its model card. The weights are
   not touched: the shipped head is the one ``recipe musicnn-genre`` trained on all clips.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from genre.calibration import Reliability, draw_reliability, reliability
from genre.errors import BundleError, DatasetError
from genre.fusion import TAG_GENRES
from genre.fusion_choice import FLOORS, TEMPERATURES, WEIGHTS, FusionChoice, HeldOut, choose_fusion
from genre.labels import GTZAN_GENRES
from genre.paths import ASSETS_DIR, shared_extra_dir, shared_gtzan_dir
from genre.training.musicnn_features import Progress
from genre.training.musicnn_head import HeadConfig
from genre.verdict import MIN_HELD_OUT_TRACKS, ThresholdEvidence, thresholds_from_held_out
from genre.windows import mean_probability

RELIABILITY_PNG = "reliability.png"
CARD_SECTION = "## How sure is it? Tag fusion, verdicts and calibration"


@dataclass
class ExtraTrack:
    name: str
    head: str
    head_p: float
    fused: str
    fused_p: float
    verdict: str
    top_tags: list[str]


def check_extra(bundle_dir: Path, folder: Path) -> list[ExtraTrack]:
    """Sanity check (not a benchmark): the fused bundle on real non-GTZAN music."""
    from genre.classifier import Classifier

    if not folder.is_dir():
        return []
    classifier = Classifier(bundle_dir)
    fusion, classifier.fusion = classifier.fusion, None  # one pass: the head, fused below
    assert fusion is not None
    out = []
    for path in sorted(folder.glob("*.ogg")):
        head = classifier.predict(path)
        assert head.window_tags is not None
        windows = fusion.fuse(np.log(head.window_probs), head.window_tags)
        fused = replace(head, window_probs=windows, probs=mean_probability(windows))
        out.append(
            ExtraTrack(
                path.stem, head.genre, head.confidence, fused.genre, fused.confidence,
                fused.verdict.heading, list(head.tags or {})[:3],
            )
        )  # fmt: skip
    return out


def _mean_std(values: list[float]) -> str:
    return f"{np.mean(values):.0%} ± {np.std(values):.0%}"


def detector_paragraph() -> str:
    """Where the music detector's rates are (its own bundle documents them)."""
    if (ASSETS_DIR / "music-detector" / "MODEL_CARD.md").is_file():
        return (
            "**Is it music?** A separate music detector decides first; a track it calls not "
            "music gets no genre. Its rates on held-out generated negatives and on all 100 "
            "clips: [its model card](../music-detector/MODEL_CARD.md)."
        )
    return (
        "**Is it music?** _Pending: the music detector's rates (held-out generated negatives, "
        "all 100 clips) will be in `assets/music-detector/MODEL_CARD.md`._"
    )


def beyond_gtzan(extra: list[ExtraTrack]) -> str:
    if not extra:
        return ""
    rows = "\n".join(
        f"| {e.name} | {e.head} {e.head_p:.0%} | {e.fused} {e.fused_p:.0%} | {e.verdict} | "
        f"{', '.join(e.top_tags)} |"
        for e in extra
    )
    return f"""
**Beyond GTZAN (a sanity check, not a benchmark).** The real non-GTZAN recordings in
`shared/data/extra/music` (their sources file them as: Brahms for string orchestra, Musopen;
Tchaikovsky arranged by Kevin MacLeod, FMA "Classical Sampler"; Vibe Ace, FMA "Jazz Sampler";
a jazz/blues trumpet loop, Freesound; a vocal song by Karissa Hobbs, FMA, no genre given):

| track | head alone | fused | verdict | top tags |
|---|---|---|---|---|
{rows}
"""


def card_section(
    choice: FusionChoice,
    evidence: ThresholdEvidence,
    before: Reliability,
    after: Reliability,
    extra: list[ExtraTrack],
) -> str:
    f, t = choice.fusion, evidence.thresholds
    mapping = "; ".join(
        f"{g} ← {', '.join(tags) or '(no tag: neutral)'}" for g, tags in TAG_GENRES.items()
    )
    head_folds = ", ".join(f"{a:.0%}" for a in choice.head_fold_acc)
    fused_folds = ", ".join(f"{a:.0%}" for a in choice.fused_fold_acc)
    nested_mean = _mean_std(choice.nested_fold_acc)
    nested = ", ".join(f"w={w:g}/floor={fl:g}/T={t:g}" for w, fl, t in choice.nested_choices)

    def pct(value: float | None) -> str:
        return "—" if value is None else f"{value:.0%}"

    bins = "\n".join(
        f"| {k / 10:.1f}–{(k + 1) / 10:.1f} | {before.count[k]} | {pct(before.accuracy[k])} | "
        f"{after.count[k]} | {pct(after.accuracy[k])} |"
        for k in range(len(before.count))
        if before.count[k] or after.count[k]
    )
    return f"""{CARD_SECTION}

Rebuilt by `python -m genre fit-fusion` (after `python -m genre recipe musicnn-genre`); every figure
below is on held-out tracks of the same grouped 5-fold cross-validation (the head retrained
out-of-fold in each fold). With 100 clips one clip is 1 %.

**Tag fusion (product of experts).** The backbone also predicts 50 MSD tags, learned from
~200 k songs. Per 3-s window the served probabilities are
`(head log p(g) + w · log prior(g | tags)) / T`, renormalised, where
`prior(g | tags) ∝ floor + max(probability of the tags mapped to g)`. The mapping is fixed
(not learned from GTZAN): {mapping}. Chosen by mean held-out NLL over the folds, w ∈
{list(WEIGHTS)}, floor ∈ {list(FLOORS)}, T ∈ {list(TEMPERATURES)}:
**w = {f.weight:g}, floor = {f.floor:g}, T = {f.temperature:g}**. The tags alone (the prior
without the head) name the right genre of {choice.tags_only_accuracy:.0%} of these clips.

| held-out tracks | accuracy (mean ± std over folds) | per fold |
|---|---|---|
| head alone | {_mean_std(choice.head_fold_acc)} | {head_folds} |
| fused (shipped) | {_mean_std(choice.fused_fold_acc)} | {fused_folds} |
| fused, nested (settings chosen on the other folds) | {nested_mean} | {nested} |

**Calibration.** Expected calibration error (10 bins of the top probability, held-out tracks):
head alone **{before.ece:.3f}**, fused **{after.ece:.3f}**. Reliability diagram:
![reliability]({RELIABILITY_PNG})

| confidence | tracks (head) | right (head) | tracks (fused) | right (fused) |
|---|---|---|---|---|
{bins}

**Verdicts** (`genre/verdict.py`). A monotone (isotonic) fit of held-out correctness against
confidence gives the thresholds ({evidence.note}):
- **"Jazz"** when the top probability is at least **{t.clear:.2f}**: held-out tracks there were
  right {pct(evidence.accuracy_at_clear)} of the time ({pct(evidence.share_clear)} of tracks).
- **"Jazz or blues"** when the top two sum to at least **{t.close_pair:.2f}**: the right genre
  was one of the two in {pct(evidence.pair_accuracy_at_close)} of those tracks
  ({pct(evidence.share_close)} of tracks).
- **"A mix of reggae and pop"** when each of two genres leads in at least
  **{t.mix_share:.0%}** of the (music) windows of a track of 4 windows or more: GTZAN clips are
  single-genre, so the share was chosen as the smallest that calls at most 5 % of held-out
  clips a mix ({pct(evidence.false_mix_rate)} here).
- **"Hard to say — closest: …"** otherwise ({pct(evidence.share_unsure)} of held-out tracks).

{detector_paragraph()}

{beyond_gtzan(extra)}"""


def best_per_weight(grid: list[dict[str, float]]) -> list[dict[str, float]]:
    best: dict[float, dict[str, float]] = {}
    for row in grid:
        if row["weight"] not in best or row["nll"] < best[row["weight"]]["nll"]:
            best[row["weight"]] = row
    return [best[w] for w in sorted(best)]


def update_bundle(
    bundle_dir: Path,
    choice: FusionChoice,
    evidence: ThresholdEvidence,
    before: Reliability,
    after: Reliability,
) -> None:
    meta_path = bundle_dir / "bundle.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["fusion"] = choice.fusion.to_json()
    meta["verdict"] = evidence.thresholds.to_json()
    metrics = meta.setdefault("metrics", {})
    how = "track-level, held-out blocks of the grouped CV"
    metrics.update(
        {
            "head_cv_accuracy_mean": {"value": round(float(np.mean(choice.head_fold_acc)), 4),
                                      "how": f"head alone, {how}"},
            "grouped_cv_accuracy_mean": {"value": round(float(np.mean(choice.fused_fold_acc)), 4),
                                         "how": f"fused with the tag prior (as served), {how}"},
            "grouped_cv_accuracy_std": {"value": round(float(np.std(choice.fused_fold_acc)), 4),
                                        "how": "fused, across folds"},
            "fold_accuracies": {"value": [round(a, 4) for a in choice.fused_fold_acc],
                                "how": "fused, per fold"},
            "tags_only_cv_accuracy": {"value": round(choice.tags_only_accuracy, 4),
                                      "how": f"the tag prior alone, {how}"},
            "nested_cv_accuracy_mean": {
                "value": round(float(np.mean(choice.nested_fold_acc)), 4),
                "how": "fused, each fold scored with fusion settings chosen on the other folds",
            },
            "ece_head": {"value": round(before.ece, 4), "how": f"10 bins, head alone, {how}"},
            "ece_fused": {"value": round(after.ece, 4), "how": f"10 bins, fused, {how}"},
            "verdict_evidence": {"value": evidence.to_json(), "how": "genre.verdict"},
            "fusion_grid": {"value": best_per_weight(choice.grid),
                            "how": f"best floor and T per weight: held-out NLL, accuracy; {how}"},
        }
    )  # fmt: skip
    meta_path.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def replace_card_section(card_path: Path, section: str) -> None:
    card = card_path.read_text(encoding="utf-8") if card_path.is_file() else ""
    head, _, rest = card.partition(CARD_SECTION)
    tail = ""
    if rest:  # keep whatever follows our section (the next "## " heading onwards)
        cut = rest.find("\n## ")
        tail = rest[cut:] if cut >= 0 else ""
    card_path.write_text(head.rstrip() + "\n\n" + section.rstrip() + "\n" + tail, "utf-8")


def fit_fusion(
    bundle_dir: Path, data_root: Path, extra_dir: Path | None, progress: Progress = print
) -> dict[str, Any]:
    """Choose the fusion for an existing head bundle: its head's run is trained again through
    the pipeline (unregistered, without the final fit) for its held-out windows."""
    # Here, not at the top: `python -m genre` imports every command at start, and the
    # training pipeline (torch and all) would add half a second to each of them.
    from genre.training.experiment import unregistered_run
    from genre.training.head_fusion import HELD_OUT_FILE
    from genre.training.head_loop import run_config

    started = time.monotonic()
    if not (bundle_dir / "bundle.json").is_file():
        raise BundleError(
            f"No bundle.json in {bundle_dir}; run python -m genre recipe musicnn-genre."
        )
    meta = json.loads((bundle_dir / "bundle.json").read_text(encoding="utf-8"))
    if meta.get("kind") != "musicnn_genre" or tuple(meta.get("labels", ())) != GTZAN_GENRES:
        raise BundleError(f"{bundle_dir} is not a musicnn genre bundle of the ten GTZAN genres.")
    trained = meta["training"]["config"]
    head = HeadConfig(**{**trained, "features": tuple(trained["features"])})
    try:
        config = run_config(head, str(data_root), final_fit=False)
    except ValueError as err:
        raise BundleError(
            f"The head in {bundle_dir} was trained with {err}; rebuild the bundle with "
            "python -m genre recipe musicnn-genre."
        ) from err

    def held_out(folder: Path) -> HeldOut | None:  # written where the run could choose one
        path = folder / HELD_OUT_FILE
        return HeldOut.load(path) if path.is_file() else None

    held = unregistered_run(config, progress, keep=held_out)[1]
    if held is None:
        raise DatasetError(
            f"Fusion needs at least {MIN_HELD_OUT_TRACKS} held-out clips in two or more folds; "
            f"{data_root} has too few."
        )
    return ship_fusion(bundle_dir, held, extra_dir, progress, started)


def ship_fusion(
    bundle_dir: Path,
    held: HeldOut,
    extra_dir: Path | None,
    progress: Progress = print,
    started: float | None = None,
) -> dict[str, Any]:
    """Choose the fusion on ``held`` (the grouped CV's held-out windows of the bundle's head)
    and write it, the verdict thresholds, the reliability plot and the card section into the
    shipped bundle; returns the summary."""
    started = time.monotonic() if started is None else started
    labels = held.truth
    choice = choose_fusion(held, GTZAN_GENRES)
    progress(
        f"fusion w={choice.fusion.weight:g} floor={choice.fusion.floor:g} "
        f"T={choice.fusion.temperature:g}: held-out accuracy "
        f"head {_mean_std(choice.head_fold_acc)}, fused {_mean_std(choice.fused_fold_acc)}, "
        f"nested {_mean_std(choice.nested_fold_acc)}"
    )
    evidence = thresholds_from_held_out(choice.fused_probs, labels, choice.fused_windows)
    before, after = reliability(choice.head_probs, labels), reliability(choice.fused_probs, labels)
    progress(f"thresholds {evidence.thresholds}; ECE head {before.ece:.3f}, fused {after.ece:.3f}")
    update_bundle(bundle_dir, choice, evidence, before, after)
    draw_reliability(
        {"head alone": before, "fused": after},
        bundle_dir / RELIABILITY_PNG,
        "Held-out GTZAN tracks (grouped 5-fold CV): share right per confidence bin",
    )
    extra = check_extra(bundle_dir, extra_dir) if extra_dir is not None else []
    for e in extra:
        progress(f"{e.name}: head {e.head} {e.head_p:.0%}, fused {e.fused} {e.fused_p:.0%}")
    replace_card_section(
        bundle_dir / "MODEL_CARD.md", card_section(choice, evidence, before, after, extra)
    )
    return {
        "bundle": str(bundle_dir),
        "weight": choice.fusion.weight,
        "floor": choice.fusion.floor,
        "head_cv_accuracy": [round(float(np.mean(choice.head_fold_acc)), 4),
                             round(float(np.std(choice.head_fold_acc)), 4)],
        "fused_cv_accuracy": [round(float(np.mean(choice.fused_fold_acc)), 4),
                              round(float(np.std(choice.fused_fold_acc)), 4)],
        "temperature": choice.fusion.temperature,
        "tags_only_accuracy": round(choice.tags_only_accuracy, 4),
        "fused_fold_accuracies": [round(a, 4) for a in choice.fused_fold_acc],
        "nested_cv_accuracy": [round(float(np.mean(choice.nested_fold_acc)), 4),
                               round(float(np.std(choice.nested_fold_acc)), 4)],
        "thresholds": evidence.thresholds.to_json(),
        "ece_head": round(before.ece, 4),
        "ece_fused": round(after.ece, 4),
        "extra": [e.__dict__ for e in extra],
        "seconds": round(time.monotonic() - started, 1),
    }  # fmt: skip


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bundle", type=Path, default=ASSETS_DIR / "musicnn-genre")
    parser.add_argument("--data", type=Path, default=None, help="clips folder (default: shared)")
    parser.add_argument(
        "--extra", type=Path, default=None,
        help="real non-GTZAN music to sanity-check (default: shared/data/extra/music)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="last stdout line: JSON summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    shared = shared_gtzan_dir()
    data = args.data or shared / "audio"
    if not data.is_dir():
        raise DatasetError(f"No clips folder at {data}.")
    extra = args.extra or shared_extra_dir() / "music"
    summary = fit_fusion(
        args.bundle, data, extra, progress=lambda m: print(m, file=sys.stderr, flush=True)
    )
    if args.json:
        print(json.dumps(summary), flush=True)
    return 0
