"""``python -m genre.training ARGS`` is ``python -m genre train ARGS``."""

import sys

from genre.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
