"""Progress on long work: a bar on a terminal, a line a minute in a log, none when asked not to."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from tqdm import tqdm

BARS_ON = ("", "0", "false", "no")  # TQDM_DISABLE values that leave the bars on
# A log hears of work that lasts longer than this, once this often (training's heartbeat too:
# training_callbacks.EpochHeartbeat): under `dvc repro > log`, a 300,000-image prepare said
# nothing for minutes
LOG_EVERY = 60.0


def bar_disabled(off: bool = False) -> bool:
    """True when ``off`` (``--no-progress``) or when ``TQDM_DISABLE`` is set. tqdm's own
    ``TQDM_DISABLE`` gave way to the ``disable=`` its callers pass, so nothing turned a bar off,
    and a screen reader reads each redraw."""
    return off or os.environ.get("TQDM_DISABLE", "").lower() not in BARS_ON


def progress_bar(
    total: int | None,
    *,
    desc: str | None = None,
    unit: str = "it",
    off: bool = False,
    leave: bool = True,
) -> tqdm:
    """A tqdm bar redrawn on a terminal. Elsewhere (a log file, a pipe, CI) a redraw would be
    kept, so there a plain line every ``LOG_EVERY`` seconds, and none for shorter work."""
    from tqdm import tqdm  # imported by the commands that draw one, not by every command

    stream = sys.stderr
    common = {"total": total, "desc": desc, "unit": unit, "leave": leave}
    if bar_disabled(off) or stream.isatty():
        return tqdm(**common, file=stream, mininterval=0.5, disable=bar_disabled(off))
    # miniters=1: tqdm's monitor thread redrew a bar whose miniters had grown 10 s (maxinterval)
    # after each line, two lines a minute; disable=False: TQDM_DISABLE=0 (bars on) was read by
    # tqdm itself, as off, where no disable= is passed
    return tqdm(
        **common,
        file=_Lines(stream),
        mininterval=LOG_EVERY,
        delay=LOG_EVERY,
        miniters=1,
        disable=False,
        ascii=True,
    )


class _Lines:
    """A file for tqdm that keeps each redraw as a line of its own, once: tqdm writes ``\\r``
    and a redraw over it, which a log keeps as one ever longer line."""

    def __init__(self, stream: TextIO) -> None:
        self.stream, self.last = stream, ""

    def write(self, text: str) -> None:
        line = text.replace("\r", "").strip()
        # the count, without the times after its last "[" (a folder named "faces [2024]" is in
        # the description): closing redraws the last count again
        count = line.rsplit("[", 1)[0]
        if line and count != self.last:
            self.stream.write(line + "\n")
            self.last = count

    def flush(self) -> None:
        self.stream.flush()
