"""The ``facial-emotion`` command: one module per subcommand, with ``add_arguments`` and ``run``."""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import signal
import sys
from typing import NoReturn

from facial_emotion.errors import (
    FacialEmotionError,
    closed_streams_opened,
    output_escapes_what_it_cannot_encode,
)
from facial_emotion.paths import printable
from facial_emotion.stops import interrupted_status, sigterm_as_interrupt

COMMANDS: dict[str, str] = {
    "predict": "Read emotions from faces in images, folders or globs.",
    "video": "Read emotions frame by frame from a video file or a webcam.",
    "evaluate": "Evaluate a model on a data set and print JSON metrics.",
    "export": "Export a Keras model to TensorFlow Lite (float32 and int8) with a parity check.",
    "app": "Start the local web app: upload a photo or use the webcam.",
}


class VersionAction(argparse.Action):
    """``--version``, whose version is read only when asked: reading it took longer than the
    rest of ``--help``."""

    def __init__(self, option_strings: list[str], dest: str) -> None:
        super().__init__(
            option_strings,
            dest,
            nargs=0,
            default=argparse.SUPPRESS,
            help="show program's version number and exit",
        )

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> NoReturn:
        import facial_emotion

        print(parser.prog, facial_emotion.__version__)
        parser.exit()


class CommandParser(argparse.ArgumentParser):
    """argparse's parser, whose errors also say how to pass a file whose name starts with "-":
    read as an option, `predict -photo.jpg` said only that PATH was missing."""

    dashed_files: tuple[str, ...] = ()

    def error(self, message: str) -> NoReturn:
        if self.dashed_files:
            name = self.dashed_files[0]
            message += f" ({name} is a file: pass it after -- or as ./{name})"
        super().error(message)


def build_parser(dashed_files: tuple[str, ...] = ()) -> argparse.ArgumentParser:
    """The command's parser; ``dashed_files`` are arguments that name files but look like
    options, for its errors to point at."""
    parser = CommandParser(
        prog="facial-emotion",
        description="Recognise one of seven emotions in faces with a trained model.",
    )
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        module = importlib.import_module(f"facial_emotion.cli.{name}")
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(cmd)
        cmd.set_defaults(run=module.run, parser=cmd)
        cmd.dashed_files = dashed_files
    parser.dashed_files = dashed_files
    return parser


def main(argv: list[str] | None = None) -> int:
    output_escapes_what_it_cannot_encode()
    given = sys.argv[1:] if argv is None else list(argv)
    before_end = given[: given.index("--")] if "--" in given else given
    dashed = tuple(a for a in before_end if a.startswith("-") and a != "-" and os.path.exists(a))
    args, unknown = build_parser(dashed).parse_known_args(given)
    # the app's log and export's report (its results are files) are dropped on a closed stdout
    closed_streams_opened(results_on_stdout=args.command not in ("app", "export"))
    if unknown:  # reported with the subcommand's usage, which lists the options it does take
        args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        with sigterm_as_interrupt():
            code = int(args.run(args) or 0)
            # here, not as Python exits: stdout into a pipe holds what was printed until then, and
            # a reader gone by then (`| head`, `| true`) printed "Exception ignored ... Broken
            # pipe" and exit status 120 (unseen where PYTHONUNBUFFERED is set, as in CI)
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise FacialEmotionError(unwritable_stdout(exc)) from exc
            return code
    except BrokenPipeError:  # the reader stopped early (`| head`): end quietly, as other tools do
        return reader_gone_status()
    except (FacialEmotionError, OSError) as exc:  # OSError: a file no check foresaw
        if isinstance(exc.__cause__, BrokenPipeError):  # written by its path: `-o /dev/stdout`
            return reader_gone_status()
        message = str(exc)
        dropped = stdout_dropped_if_unwritable()
        if isinstance(exc, OSError) and not exc.filename and (dropped or exc.errno in WRITE_ERRORS):
            message = unwritable_stdout(exc)  # met by a print during the run: files have names
        # printable: a file name's newline forged a second line, its escapes drove the terminal;
        # a hung-up terminal (SIGHUP) takes no more lines, and the status still says it failed
        with contextlib.suppress(OSError):
            print(f"facial-emotion {args.command}: error: {printable(message)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return interrupted_status(f"facial-emotion {args.command}", exc)


WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG}


def unwritable_stdout(exc: OSError) -> str:
    """The error for a stdout that refused what was printed, naming it: "[Errno 28] No space
    left on device" alone named no file."""
    if exc.errno == errno.EBADF:  # opened read-only by closed_streams_opened
        return "standard output: is closed (>&-); redirect it to a file, or to /dev/null"
    return f"standard output: cannot be written ({exc.strerror})"


def stdout_dropped_if_unwritable() -> bool:
    """Point stdout nowhere, and say so, when what it holds cannot be written (a full disk under
    a log collector, `> /dev/full`): Python's flush at exit tried again and added "Exception
    ignored ... OSError" to the one-line error, with exit status 120 for 2."""
    try:
        sys.stdout.flush()
    except OSError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return True
    return False


def reader_gone_status() -> int:
    """The status for a pipe whose reader left early (`| head`), which ends a command quietly, as
    it ends other tools; stdout then points nowhere, for Python's flush at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + getattr(signal, "SIGPIPE", 13)  # Windows has no SIGPIPE
