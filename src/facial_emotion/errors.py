"""The one exception a user can cause, and output streams that print its message (any file name)
wherever they point; the CLI prints it on one line and exits non-zero."""

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
