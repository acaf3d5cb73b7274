"""Loading a script of ``tools/`` as a module, for tests of its functions (not a package)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

TOOLS_DIR = Path(__file__).resolve().parents[1] / "tools"


def load_tool(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_script(path: Path, *args: str) -> subprocess.CompletedProcess:
    """A tool run as a user runs it, from the repository root (its output captured)."""
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True,
                          timeout=600, cwd=path.parents[1])  # fmt: skip
