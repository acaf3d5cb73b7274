import os
import sys

# OpenMP threads busy-wait by default; with 2 cores shared with anything else that makes torch
# several times slower. Must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from genre.cli import main

sys.exit(main())
