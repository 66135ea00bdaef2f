import sys

from metrics_lib.cli import main

sys.exit(main())
