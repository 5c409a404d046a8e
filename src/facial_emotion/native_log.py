"""TensorFlow's and LiteRT's C++ start-up log, which says nothing about a run but reads like errors.

In this TensorFlow version ``TF_CPP_MIN_LOG_LEVEL`` does not stop the oneDNN notice, and LiteRT
prints its XNNPACK notice with no switch at all, so the lines are filtered out of stderr instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
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


class NativeLogFilter(logging.Filter):
    """Takes the native log out of log records: papermill logs a kernel's stderr as warnings,
    which is how a notebook stage's output reaches `dvc repro`."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = without_native_log(record.getMessage())
        record.msg, record.args = text, ()
        return bool(text.strip())


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


def import_tensorflow() -> None:
    """Import TensorFlow (once per process) without its start-up log."""
    if "tensorflow" not in sys.modules:
        with native_log_held_back():
            import tensorflow  # noqa: F401
