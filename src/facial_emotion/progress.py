"""When progress bars are drawn: on a terminal only, and not at all when asked not to."""

from __future__ import annotations

import os

BARS_ON = ("", "0", "false", "no")  # TQDM_DISABLE values that leave the bars on


def bar_disabled(off: bool = False) -> bool | None:
    """tqdm's ``disable=``: True when ``off`` (``--no-progress``) or when ``TQDM_DISABLE`` is
    set, else None (drawn on a terminal only). tqdm's own ``TQDM_DISABLE`` gave way to the
    ``disable=`` its callers pass, so nothing turned a bar off, and a screen reader reads each
    redraw."""
    return True if off or os.environ.get("TQDM_DISABLE", "").lower() not in BARS_ON else None
