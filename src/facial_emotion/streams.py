"""Lines for a program to read as they come, written so that a reader that stops reading does
not hold off Ctrl-C and SIGTERM: the CSV that `video` streams into a pipe, a FIFO or stdout."""

from __future__ import annotations

import contextlib
import os
import select
import stat
import time
from collections.abc import Callable
from pathlib import Path

from facial_emotion.files import STREAM_WAIT, is_named_fifo, opened_when_read, standard_fd

# A pipe takes a write of up to this many bytes whole or not at all (POSIX; 4096 on Linux)
PIPE_BUF = getattr(select, "PIPE_BUF", 512)


class LineStream:
    """Lines for a program to read as they come (a pipe, a FIFO, a terminal, stdout), written
    by the descriptor ``fd``. ``write`` only queues; ``send`` hands the lines over in pieces of
    whole lines a pipe takes at once, so a stop never leaves half a line. Where the descriptor
    can be made non-blocking without touching another (``nonblocking_alone``), a full pipe is
    waited on in ``STREAM_WAIT`` steps, so a stop still stops; otherwise a write blocks until
    the reader reads (a socket behind stdout; Windows)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.queued = bytearray()
        self.waits = nonblocking_alone(fd)

    def write(self, text: str) -> int:
        self.queued += text.encode("utf-8")
        return len(text)

    def send(self, patience: float | None = None) -> None:
        """Hand the queued lines over, waiting for the reader to make room for at most
        ``patience`` seconds (None: as long as it takes); what is left stays queued. Raises
        ``BrokenPipeError`` once the reader has closed its end."""
        deadline = None if patience is None else time.monotonic() + patience
        while self.queued:
            # whole lines up to PIPE_BUF bytes; a longer line alone
            end = self.queued.rfind(b"\n", 0, PIPE_BUF) + 1 or self.queued.find(b"\n") + 1
            try:
                sent = os.write(self.fd, self.queued[: end or len(self.queued)])
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    return
                select.select([], [self.fd], [], STREAM_WAIT)
                continue
            del self.queued[:sent]

    def close(self, patience: float | None = 0.0) -> int:
        """Send what is queued (waiting at most ``patience`` seconds), then close; the lines the
        reader did not make room for by then are dropped: how many, for a note to say so."""
        if self.fd < 0:
            return 0
        try:
            self.send(patience)
            return self.queued.count(b"\n")
        finally:
            self.discard()

    def discard(self) -> None:
        """Close without sending what is queued: the reader has gone."""
        self.queued.clear()
        if self.fd >= 0:
            fd, self.fd = self.fd, -1
            os.close(fd)


def nonblocking_alone(fd: int) -> bool:
    """Make ``fd`` non-blocking if no other descriptor of this process changes with it: the flag
    belongs to the open file, which a dup shares (macOS opens ``/dev/stdout`` as one), and
    stdout or stderr made non-blocking would fail other writes, this process's and those of the
    programs the shell gave the same pipe, with "Resource temporarily unavailable"."""
    if os.name != "posix":  # select() waits on sockets alone there
        return False
    before = {}
    for other in (0, 1, 2):
        with contextlib.suppress(OSError):  # closed
            before[other] = os.get_blocking(other)
    os.set_blocking(fd, False)
    if all(os.get_blocking(other) == blocking for other, blocking in before.items()):
        return True
    os.set_blocking(fd, True)
    return False


def open_stream(path: str | Path, on_wait: Callable[[], object] | None = None) -> LineStream:
    """``path``, a stream (``is_stream``), stdout or stderr, opened to write lines into as they
    come. Stdout or stderr is opened again (a pipe or terminal gets an open file of its own,
    which can be made non-blocking alone), but for a file behind it (``> log.csv``,
    ``2>> log.csv``), written through its own descriptor, with the shell's offset and append
    mode (opened again, it would be written over from its first byte), and a socket, which
    cannot be opened again. A FIFO no program reads yet is waited for, after ``on_wait`` (to say
    so), in ``STREAM_WAIT`` steps."""
    fd = standard_fd(path)
    if fd is not None and stat.S_ISREG(os.fstat(fd).st_mode):
        return LineStream(os.dup(fd))
    if is_named_fifo(path):  # stdout too: `> fifo` whose reader has gone waits for another
        return LineStream(opened_when_read(path, on_wait))
    try:
        return LineStream(os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0)))
    except OSError:
        if fd is None:
            raise
        return LineStream(os.dup(fd))
