"""TensorFlow's and LiteRT's C++ start-up log (and OpenCV's notes on codec tags), which say nothing
about a run but read like errors.

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
from collections.abc import Callable, Iterator
from typing import BinaryIO

from facial_emotion.errors import FacialEmotionError

NATIVE_LOG = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWEF]\d{4} [\d:]+\.\d+ +\d+ [\w.]+:\d+\] "
    r"|To enable the following instructions: "
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU\."
    r"|fully_quantize: \d+, inference_type: "  # the int8 converter's settings, as a debug print
    r"|OpenCV: FFMPEG: tag 0x[0-9a-f]{8}/'.{4}' is not supported with codec id "  # it uses its own
)


def without_native_log(text: str) -> str:
    """What a person should see of caught output (a notebook cell's, stderr held back while a
    model loads): the native log lines read like errors and say nothing about the run."""
    lines = text.splitlines(keepends=True)
    return "".join(line for line in lines if not NATIVE_LOG.match(line))


# File descriptor 2 belongs to the whole process: two threads that each redirected it at once
# (two recognizers built together) would each restore the other's temporary file, leaving
# stderr pointing at a deleted file for good. Reentrant, as one redirection can hold another.
_STDERR_REDIRECTION = threading.RLock()
_FILTERED_FOR_GOOD = False  # see filter_native_log_from_now_on


def _flush_stderr() -> None:
    """Flush Python's stderr, which is None under pythonw.exe and in windowed PyInstaller apps:
    there the shipped model's load failed, reported as "not a valid TensorFlow Lite model"."""
    if sys.stderr is not None:
        sys.stderr.flush()


@contextlib.contextmanager
def _stderr_to(fd: int) -> Iterator[int | None]:
    """Point file descriptor 2, where C++ code writes, at ``fd`` while the block runs; yields a
    copy of the real stderr (``None``, and nothing redirected, when the process has none)."""
    with _STDERR_REDIRECTION:
        _flush_stderr()
        try:
            saved = os.dup(2)
        except OSError:
            yield None
            return
        os.dup2(fd, 2)
        try:
            yield saved
        finally:
            _flush_stderr()
            os.dup2(saved, 2)


def _catch_file() -> BinaryIO | None:
    """A file to hold stderr in: an anonymous one in memory where Linux has them, as a container
    may have no writable folder at all (Kubernetes' readOnlyRootFilesystem without a /tmp
    volume), where a temporary file failed every model load ("not a valid TensorFlow Lite
    model"); else a temporary file, or None when even that cannot be made."""
    if hasattr(os, "memfd_create"):
        with contextlib.suppress(OSError):  # kernels or sandboxes without it
            return os.fdopen(os.memfd_create("facial-emotion-stderr", os.MFD_CLOEXEC), "w+b")
    try:
        return tempfile.TemporaryFile()
    except OSError:
        return None


@contextlib.contextmanager
def native_log_held_back() -> Iterator[None]:
    """Catch stderr while the block runs and pass on everything but the native log once it ends.
    Safe around C++ code that holds Python's lock while it writes (an import, a model load)."""
    saved = None
    caught = _catch_file()
    if caught is None:  # nowhere to hold it: let it through rather than fail the block
        yield
        return
    with caught:
        try:
            with _stderr_to(caught.fileno()) as saved:
                yield
        finally:  # also when the block fails: what it wrote may say why
            if saved is not None:
                os.close(saved)
            caught.seek(0)
            rest = without_native_log(caught.read().decode(errors="replace"))
            if rest:
                os.write(2, rest.encode())


@contextlib.contextmanager
def native_log_filtered() -> Iterator[Callable[[], None]]:
    """Pass stderr on line by line as it is written, without the native log: for a notebook
    stage, whose kernel inherits stderr and whose output people watch. Yields a function that
    drops the rest, for an interrupt: a kernel shut down mid-cell prints tracebacks about its
    closed sockets, which bury the one line that says the stage was stopped."""
    read_end, write_end = os.pipe()
    interrupted = threading.Event()
    pump: tuple[threading.Thread, int] | None = None  # the thread and the stderr it writes to
    try:
        with _stderr_to(write_end) as saved:
            os.close(write_end)  # fd 2 is now the pipe's only writer here
            if saved is None:
                os.close(read_end)
                yield interrupted.set
                return
            pump = _start_pump(read_end, saved, interrupted), saved
            yield interrupted.set
    finally:  # fd 2 is restored: the pump reads to the pipe's end, even after an interrupt
        if pump is not None:
            thread, fd = pump
            thread.join(timeout=10)
            if not thread.is_alive():
                os.close(fd)


def filter_native_log_from_now_on() -> None:
    """Filter the native log out of stderr for the rest of the process: for a notebook opened in
    Jupyter, whose kernel shows what C++ code writes to stderr in red under the cell, where
    TensorFlow's start-up notices and its "E0000 ... NodeDef" line during training read as
    errors. Once per process; nothing is done when there is no stderr."""
    global _FILTERED_FOR_GOOD
    with _STDERR_REDIRECTION:
        if _FILTERED_FOR_GOOD:
            return
        try:
            saved = os.dup(2)
        except OSError:
            return
        read_end, write_end = os.pipe()
        _flush_stderr()
        os.dup2(write_end, 2)
        os.close(write_end)
        _start_pump(read_end, saved, threading.Event())
        _FILTERED_FOR_GOOD = True


def _start_pump(read_end: int, saved: int, interrupted: threading.Event) -> threading.Thread:
    """A thread copying lines from ``read_end`` to ``saved`` without the native log, and none
    once ``interrupted`` is set."""

    def pump() -> None:
        with os.fdopen(read_end, "rb") as pipe:
            for line in pipe:
                if not (interrupted.is_set() or NATIVE_LOG.match(line.decode(errors="replace"))):
                    os.write(saved, line)

    thread = threading.Thread(target=pump, name="native-log", daemon=True)
    thread.start()
    return thread


def import_tensorflow(needed_for: str) -> None:
    """Import TensorFlow (once per process) without its start-up log. Reading faces with the
    shipped TensorFlow Lite model does not need it, so a plain `pip install` leaves it out;
    ``needed_for`` names what does, for the one line that says how to add it."""
    if sys.modules.get("tensorflow") is None:
        try:
            with native_log_held_back():
                import tensorflow  # noqa: F401
        except ModuleNotFoundError as exc:
            raise FacialEmotionError(
                f"{needed_for} needs TensorFlow, which is not installed: pip install "
                "'facial-emotion[train]' (or pip install -r requirements.txt in a clone)"
            ) from exc


@contextlib.contextmanager
def opencv_log_silenced() -> Iterator[None]:
    """Mute OpenCV's own log (camera back-ends probed, ``TIFFRGBAImageOK: Sorry, ...`` for a file
    Pillow reads next) so the user sees our one clear line instead."""
    import cv2

    logging = cv2.utils.logging
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(previous)
