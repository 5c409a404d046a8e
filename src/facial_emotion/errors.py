"""The one exception a user can cause, and output streams that print its message (any file name)
wherever they point; the CLI prints it on one line and exits non-zero."""

import os
import sys


class FacialEmotionError(Exception):
    """A problem with the user's input: the message names the file and the fix."""

    def _render_traceback_(self) -> list[str]:
        """What IPython shows in place of the traceback: in a notebook the message came after
        some sixty lines of the package's own frames, which say nothing the message does not."""
        return [f"{type(self).__name__}: {self}"]


def output_escapes_what_it_cannot_encode() -> None:
    """Print what the output's encoding cannot hold as escapes: on Windows, output to a pipe or
    a file is cp1252, and an arrow or a CJK file name raised UnicodeEncodeError, a traceback
    after the work was done."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def closed_streams_opened(results_on_stdout: bool) -> None:
    """Open the null device in place of a closed stdin, stdout or stderr (`<&-`, `>&-`, `2>&-`).
    Left closed, Python set ``sys.stdout`` or ``sys.stderr`` to None: a warning for stderr
    went to stdout, into the CSV a program reads; a progress bar, uvicorn's log or the results
    raised AttributeError, a traceback (or none, with stderr closed) and status 1; and the
    first file opened took the free number, where C libraries write their logs. A stdout that
    would carry the results is opened read-only, so that printing them fails as on any closed
    stream, in one line, while `-o FILE` works; a log or a report on stdout (the app's, the
    pipeline stages') is dropped. The CLI and the stages' ``python -m`` entry points share it."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        writable = fd == 2 or (fd == 1 and not results_on_stdout)
        null = os.open(os.devnull, os.O_WRONLY if writable else os.O_RDONLY)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if fd:
            name = "stdout" if fd == 1 else "stderr"
            stream = open(fd, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
            setattr(sys, name, stream)
