"""The model card's account of ``python -m gan pick``: which step ships, at which truncation.

The figures come from the bundle's ``selection`` (written by :func:`gan.pick.pick`); the Quality
section says which truncation its own figures were measured at (:func:`truncation_words`).
"""

from __future__ import annotations

from typing import Any


def fmt(value: Any, pct: bool = False) -> str:
    """A card figure: a percentage, 3 significant digits, or "not measured yet"."""
    if value is None:
        return "not measured yet"
    if pct:
        return f"{100 * float(value):.1f} %"
    return f"{float(value):.3g}" if isinstance(value, float) else str(value)


# columns a curve has only when it measured them (curves scored before they were: none)
OPTIONAL_COLUMNS = ("diversity", "coverage")


def _row(first: str, point: dict[str, Any], columns: tuple[str, ...]) -> str:
    worst = min(point["per_genre"].values()) if point.get("per_genre") else None
    extra = "".join(f" {fmt(point.get(column))} |" for column in columns)
    return (
        f"| {first} | {fmt(point.get('agreement'), pct=True)} | {fmt(worst, pct=True)} | "
        f"{fmt(point.get('fd'))} |{extra}"
    )


def _header(curve: list[dict[str, Any]], first: str) -> tuple[list[str], tuple[str, ...]]:
    """The table's header, with a diversity and a coverage column when the curve measured them
    (curves scored before they were have none, and say nothing about them)."""
    columns = tuple(c for c in OPTIONAL_COLUMNS if any(p.get(c) is not None for p in curve))
    return [
        f"| {first} | agreement | worst genre | Fréchet distance |"
        + "".join(f" {c} |" for c in columns),
        "|---:|---:|---:|---:|" + "---:|" * len(columns),
    ], columns


def sampling_truncation(meta: dict[str, Any]) -> float:
    return float(meta.get("sampling", {}).get("truncation", 1.0))


def truncation_words(meta: dict[str, Any]) -> str:
    """``", noise truncated to ψ = 0.8"`` for the Quality section (nothing at ψ = 1), plus a
    warning when its figures were measured at another ψ than the bundle samples at now."""
    measured = float(meta.get("metrics", {}).get("truncation", 1.0))
    now = sampling_truncation(meta)
    words = "" if measured == 1.0 else f", noise truncated to ψ = {measured:g}"
    if measured != now:
        words += (
            f"; the generator now samples at ψ = {now:g}: "
            "`python -m gan evaluate --write` measures it again"
        )
    return words


def selection_lines(meta: dict[str, Any]) -> list[str]:
    """The snapshot curve ``gan pick`` scored, the shipped step marked, then its truncations."""
    selection = meta.get("selection")
    if not selection:
        return []
    lines = [
        "",
        "## Which training step ships (`python -m gan pick`)",
        f"{selection.get('snapshots', 'Every kept snapshot was')} scored on "
        f"{selection.get('clips_per_genre')} generated clips "
        f"per genre; the rule: {selection.get('rule')}.",
        "",
    ]
    curve = selection.get("curve", [])
    header, columns = _header(curve, "step")
    lines += header
    for point in curve:
        mark = " **(shipped)**" if point["step"] == selection.get("chosen_step") else ""
        lines.append(_row(f"{point['step']}{mark}", point, columns))
    return lines + _truncation_lines(meta)


def _truncation_lines(meta: dict[str, Any]) -> list[str]:
    selection = meta["selection"]
    curve = selection.get("truncation_curve")
    if not curve:
        return []
    shipped = sampling_truncation(meta)
    lines = [
        "",
        "### Truncation",
        "Sampling scales every noise vector by ψ (the truncation trick of BigGAN): below 1, "
        "each genre sounds more typical and less varied. The chosen step was scored at each ψ "
        f"on the same clips; the rule: {selection.get('truncation_rule')}.",
        "",
    ]
    header, columns = _header(curve, "ψ")
    lines += header
    for point in curve:
        mark = " **(shipped)**" if float(point["truncation"]) == shipped else ""
        lines.append(_row(f"{float(point['truncation']):g}{mark}", point, columns))
    return lines
