"""Lines streamed to a reader: non-blocking only where no other descriptor changes with it."""

from __future__ import annotations

import subprocess
import sys


def test_a_stream_is_made_non_blocking_only_where_no_other_descriptor_changes() -> None:
    """A CSV stream is written without blocking, so a stop stops while its reader does not read;
    but stdout opened as a copy of fd 1 (macOS's /dev/stdout) shares that flag, and stdout made
    non-blocking would fail this process's prints and the shell's other programs' writes."""
    code = (
        "import os\n"
        "from facial_emotion.streams import nonblocking_alone, open_stream\n"
        "own = open_stream('/dev/stdout')  # a pipe, opened again: an open file of its own\n"
        "print(own.waits, nonblocking_alone(os.dup(1)), os.get_blocking(1))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["True", "False", "True"], done.stderr
