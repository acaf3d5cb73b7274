"""The one exception family of the gan package; messages are written for the end user."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable


class GanError(Exception):
    """Raised when generation or training cannot go on; ``str(err)`` is a complete sentence."""


def print_json_report(make: Callable[[], object]) -> int:
    """What a diagnostic command prints: ``make()``'s result as one JSON object on stdout
    (exit status 0), or the GanError that stopped it as one line on stderr (status 2)."""
    try:
        print(json.dumps(make()))
    except GanError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
