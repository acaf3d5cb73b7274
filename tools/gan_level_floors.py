"""Give an existing generator bundle its dropout floors and hole limits (one-off, for bundles
picked before ``gan pick`` stored them).

    .venv/bin/python tools/gan_level_floors.py --bundle assets/gan-cgan [--data CLIPS]

Per genre, the level of the quietest real 3-s segment of the clips (default: the shared
GTZAN clips the shipped generator was trained on) goes into ``gan.json`` as
``sampling.level_floors_db``, and the deepest half-second dips in level, of the whole and of
one band, that only 1 % of those segments pass as ``sampling.hole_limits_db``; from then on
sampling draws a patch below the floor or with a deeper hole again (``gan.levels``,
``gan.holes``). The model card is
re-rendered; run ``python -m gan evaluate --write`` after it, so the quality figures describe
clips as they are now drawn.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gan.bundle import load_gan_bundle
from gan.errors import GanError
from gan.floors import store_folder_guards


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, required=True, help="the generator bundle")
    parser.add_argument("--data", type=Path, help="real clips (default: shared GTZAN)")
    args = parser.parse_args()
    try:
        guards = store_folder_guards(args.bundle, args.data)
    except GanError as err:
        print(err, file=sys.stderr)
        return 2
    load_gan_bundle(args.bundle)  # the bundle still loads, guards and all
    print(json.dumps(guards))
    return 0


if __name__ == "__main__":
    sys.exit(main())
