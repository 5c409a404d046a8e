"""Stops: SIGTERM and SIGHUP end a run as Ctrl-C does, so the cleanup that the safe writes in
``files`` rely on (their temporary files removed) runs, what a command keeps of a stopped run is
kept, and the command says on one line that it stopped.

Apart from ``files`` because it writes nothing: the command line, ``prepare``, the notebook runner
and ``video`` use it, each to turn a signal into an exception and that exception into an exit
status."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# A closed terminal or dropped SSH session sends SIGHUP, whose default ended a 20,000-photo
# `predict` or an hour of `video` keeping nothing (audit BS); Windows has no SIGHUP
SIGHUP: int | None = getattr(signal, "SIGHUP", None)
STOPPED = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated", SIGHUP: "hung up"}
STOP_SIGNALS = tuple(signum for signum in STOPPED if signum is not None)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``docker stop``, systemd) or SIGHUP (``signum``), raised so that it
    cleans up as Ctrl-C does: the default action would end the process with its temporary files
    still on disk."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__()
        self.signum = signum


@contextmanager
def sigterm_as_interrupt(on_signal: Callable[[], object] | None = None) -> Iterator[None]:
    """Raise ``Terminated`` on SIGTERM and SIGHUP. ``on_signal``, if given, runs first as one of
    them or Ctrl-C arrives, before the cleanup that the interrupt sets off."""
    if threading.current_thread() is not threading.main_thread():  # only it can take signals
        yield
        return

    def stop(signum: int, frame: object) -> None:
        if on_signal is not None:
            on_signal()
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)

    signums: list[int] = [signal.SIGTERM]
    if SIGHUP is not None and signal.getsignal(SIGHUP) is signal.SIG_DFL:
        signums.append(SIGHUP)  # not under nohup, which ignores it so that the run goes on
    if on_signal is not None and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signums.append(signal.SIGINT)  # not where Ctrl-C is ignored (a background job)
    previous = {signum: signal.signal(signum, stop) for signum in signums}
    try:
        yield
    except SystemError as exc:
        if (interrupt := interrupt_in(exc)) is not None:
            raise interrupt from None
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def interrupt_in(exc: BaseException) -> KeyboardInterrupt | None:
    """The Ctrl-C or SIGTERM ``exc`` is, or None. Raised while C code called back into Python
    (TensorFlow reading a numpy array), it comes out as a SystemError ("returned a result with an
    exception set"), the interrupt its cause and context. TensorFlow re-raises that error
    ``from None``, which clears the cause but keeps the context: a SIGTERM then ended `video` with
    a traceback and exit status 1 (once in 4 CI runs)."""
    if isinstance(exc, KeyboardInterrupt):
        return exc
    if isinstance(exc, SystemError):
        for linked in (exc.__cause__, exc.__context__):
            if isinstance(linked, KeyboardInterrupt):
                return linked
    return None


def interrupted_status(program: str, exc: KeyboardInterrupt) -> int:
    """Say that ``program`` was stopped, on one line, and each note the command added to the
    interrupt (what it kept) on one of its own; return the shell's status for it."""
    signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT
    try:
        print(f"{program}: {STOPPED[signum]}", file=sys.stderr)
        for note in getattr(exc, "__notes__", ()):
            print(f"{program}: note: {note}", file=sys.stderr)
    except OSError:  # a hung-up terminal takes no more lines; what was kept is on disk
        pass
    return 128 + signum
