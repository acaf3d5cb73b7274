import sys

from genre.cli import main

sys.exit(main())
