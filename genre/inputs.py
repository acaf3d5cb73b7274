"""The files a command works on, from the paths a user gave: folders are walked, nothing dropped.

Every entry met is either picked (to be classified), skipped as not audio (named on stderr),
or returned with the reason it cannot be used: a broken link, a symbolic link loop, a folder
that cannot be read, a FIFO or device, a link back to a folder already walked. Files are picked
by extension or by their first bytes, with one list of formats for both (:mod:`audio.formats`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from audio.formats import AUDIO_EXTENSIONS, SNIFF_BYTES, sniff_format
from audio.source import unusable_reason

SKIPPED_SHOWN = 10  # skipped files named on stderr; the rest are counted

Item = tuple[Path, str | None]  # (file, None) to use, or (path, why it cannot be)


def looks_like_audio(path: Path) -> bool:
    """Do the file's first bytes name an audio container? (A regular file, checked first.)"""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        return sniff_format(os.read(fd, SNIFF_BYTES)) is not None
    except OSError:
        return False
    finally:
        os.close(fd)


def _folder_key(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_dev, info.st_ino


def walk_folder(root: Path) -> tuple[list[Item], list[Path]]:
    """The entries under ``root`` (links to folders followed once): items and skipped files."""
    items: list[Item] = []
    skipped: list[Path] = []

    def unreadable(err: OSError) -> None:
        where = Path(err.filename) if err.filename else root
        why = "permission denied" if isinstance(err, PermissionError) else err.strerror or err
        items.append((where, f"Cannot read the folder {where}: {why}."))

    seen = {_folder_key(root)}
    for folder, dirnames, filenames in os.walk(root, onerror=unreadable, followlinks=True):
        kept = []
        for name in sorted(dirnames):
            sub = Path(folder, name)
            try:
                key = _folder_key(sub)
            except OSError as err:  # gone since it was listed, or not reachable
                unreadable(err)
                continue
            if key in seen:
                items.append((sub, f"{sub} links back to a folder already read; not read again."))
                continue
            seen.add(key)
            kept.append(name)
        dirnames[:] = kept  # os.walk descends only into these
        for name in filenames:
            path = Path(folder, name)
            reason = unusable_reason(path)  # broken link, link loop, FIFO, device, socket
            if reason:
                items.append((path, reason))
            elif path.suffix.lower() in AUDIO_EXTENSIONS or looks_like_audio(path):
                items.append((path, None))
            else:
                skipped.append(path)
    return sorted(items, key=lambda item: str(item[0])), sorted(skipped)


def expand(paths: list[Path]) -> tuple[list[Item], list[Path]]:
    """(file, None) to classify or (path, error) for paths that cannot be; and skipped files.

    Files named explicitly are always tried (unless they are not regular files). In folders,
    a file is picked when its extension or its first bytes say audio; every other file is
    skipped and reported, and every entry that cannot be read comes back with its reason, so
    nothing is left out silently.
    """
    items: list[Item] = []
    skipped: list[Path] = []
    for path in paths:
        if path.is_dir():
            found, left_out = walk_folder(path)
            if not found:
                items.append((path, f"No audio files found in folder {path}."))
            items.extend(found)
            skipped.extend(left_out)
        else:
            items.append((path, unusable_reason(path)))
    return items, skipped


def report_skipped(skipped: list[Path]) -> None:
    if not skipped:
        return
    shown = ", ".join(str(p) for p in skipped[:SKIPPED_SHOWN])
    more = f" and {len(skipped) - SKIPPED_SHOWN} more" if len(skipped) > SKIPPED_SHOWN else ""
    print(
        f"skipped {len(skipped)} file(s) that are not audio by name or content: {shown}{more} "
        "(name a file on the command line to try it anyway)",
        file=sys.stderr,
    )
