"""Where things live: shipped assets, the user's data folder, the shared GTZAN clips.

Everything a user makes (runs, trained models, the choice of active model) goes to the data
folder outside the checkout, so a ``git clean`` or an update never loses it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from runs.home import default_root

REPO_ROOT = Path(__file__).resolve().parents[1]
ASSETS_DIR = REPO_ROOT / "assets"
DEFAULT_BUNDLE_NAME = "musicnn-genre"
# The pretrained musicnn (MSD) backbone every musicnn-based model and the GAN's musicnn judge use.
MUSICNN_BACKBONE_WEIGHTS = ASSETS_DIR / "musicnn-msd" / "weights.safetensors"


def data_dir() -> Path:
    """The user's data folder (``GENRE_STUDIO_HOME``, else ``~/.local/share/genre-studio``)."""
    root = default_root()  # one definition, shared with the run registry
    root.mkdir(parents=True, exist_ok=True)
    return root


def shared_gtzan_dir() -> Path:
    """The 100 shared GTZAN clips and tables (``GENRE_SHARED_GTZAN``, else ``../shared``)."""
    configured = os.environ.get("GENRE_SHARED_GTZAN")
    if configured:
        return Path(configured)
    return REPO_ROOT.parent / "shared" / "data" / "gtzan"


def shared_extra_dir() -> Path:
    """The shared non-GTZAN recordings (``music/``, ``notmusic/``), beside the GTZAN clips."""
    return shared_gtzan_dir().parent / "extra"


def default_bundle_dir() -> Path:
    return ASSETS_DIR / DEFAULT_BUNDLE_NAME


def _active_pointer() -> Path:
    return data_dir() / "active_bundle.txt"


def active_bundle_dir() -> Path:
    """The bundle the Classify page and CLI use: the promoted one if it still exists."""
    pointer = _active_pointer()
    if pointer.is_file():
        chosen = Path(pointer.read_text(encoding="utf-8").strip())
        if (chosen / "bundle.json").is_file():
            return chosen
    return default_bundle_dir()


def set_active_bundle_dir(bundle_dir: Path | None) -> None:
    """Promote ``bundle_dir``; ``None`` restores the shipped default."""
    write_pointer(_active_pointer(), bundle_dir)


def write_pointer(pointer: Path, target: Path | None) -> None:
    """Make ``pointer`` (a one-line file) name ``target``; ``None`` removes it.

    Atomic, and safe when two sessions promote at once: each writes its own temporary file.
    """
    if target is None:
        pointer.unlink(missing_ok=True)
        return
    pointer.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=pointer.parent, prefix=pointer.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(str(Path(target).resolve()))
    Path(tmp).replace(pointer)  # a reader never sees half a path
