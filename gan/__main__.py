import sys

from gan.cli import main

sys.exit(main())
