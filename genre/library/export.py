"""Playlists of library tracks: M3U (any player) and CSV (spreadsheets)."""

from __future__ import annotations

import csv
import io

from genre.library.store import Track

CSV_COLUMNS = ("file", "title", "artist", "genre", "confidence", "duration_s", "tags")


def to_m3u(tracks: list[Track]) -> str:
    lines = ["#EXTM3U"]
    for t in tracks:
        seconds = -1 if t.duration_s is None else round(t.duration_s)
        who = f"{t.artist} - " if t.artist else ""
        lines += [f"#EXTINF:{seconds},{who}{t.name}", t.path]
    return "\n".join(lines) + "\n"


def to_csv(tracks: list[Track]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in tracks:
        writer.writerow([
            t.path, t.title or "", t.artist or "", t.genre or "",
            "" if t.confidence is None else f"{t.confidence:.4f}",
            "" if t.duration_s is None else f"{t.duration_s:.1f}",
            "; ".join(t.top_tags()),
        ])  # fmt: skip
    return out.getvalue()
