"""TensorFlow's and LiteRT's C++ start-up log, which says nothing about a run but reads like errors.

In this TensorFlow version ``TF_CPP_MIN_LOG_LEVEL`` does not stop the oneDNN notice, and LiteRT
prints its XNNPACK notice with no switch at all, so the lines are filtered out of stderr instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator

NATIVE_LOG = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWEF]\d{4} [\d:]+\.\d+ +\d+ [\w.]+:\d+\] "
    r"|To enable the following instructions: "
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
)


def without_native_log(text: str) -> str:
    """``text`` without its native log lines."""
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not NATIVE_LOG.match(line))


@contextlib.contextmanager
def native_log_held_back() -> Iterator[None]:
    """Catch the process's stderr (file descriptor 2, where C++ code writes) while the block runs
    and pass on everything but the native log once it ends."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to catch
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            rest = without_native_log(caught.read().decode(errors="replace"))
            if rest:
                os.write(2, rest.encode())


@contextlib.contextmanager
def native_log_filtered() -> Iterator[None]:
    """Pass stderr (file descriptor 2, which a notebook's kernel inherits) on line by line as it
    is written, without the native log: for long runs whose output people watch."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no stderr to filter
        yield
        return
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)

    def pump() -> None:
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not NATIVE_LOG.match(line.decode(errors="replace")):
                    os.write(saved, line)

    thread = threading.Thread(target=pump, name="native-log-filter", daemon=True)
    thread.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # the pipe's last writer here is gone: the pump reads to its end
        thread.join(timeout=10)
        if not thread.is_alive():
            os.close(saved)


def import_tensorflow() -> None:
    """Import TensorFlow (once per process) without its start-up log."""
    if "tensorflow" not in sys.modules:
        with native_log_held_back():
            import tensorflow  # noqa: F401
