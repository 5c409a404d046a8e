"""``python -m facial_emotion``: the ``facial-emotion`` command without its console script."""

import sys

from facial_emotion.cli import main

sys.exit(main())
