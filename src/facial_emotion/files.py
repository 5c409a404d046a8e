"""Safe writes: an interrupted run never leaves a truncated model, metrics file or report, and
no output replaces an input."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from facial_emotion.errors import FacialEmotionError

# A wait on a stream's reader goes in steps this long, between which Python takes Ctrl-C and
# SIGTERM: blocked in the kernel instead, a signal that reached another of TensorFlow's threads
# gave no EINTR, and the run waited on (a FIFO no program opens, a pipe its reader stopped reading)
STREAM_WAIT = 0.2


@contextmanager
def atomic_path(target: str | Path, on_wait: Callable[[], object] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it over ``target`` only on success.

    A symbolic link is written through: its file is replaced and the link kept. A device or pipe
    (``/dev/null``, ``/dev/stdout``, a FIFO) is written to in place once the temporary file is
    whole: renamed over, it would become a plain file (as root, for the whole machine). A FIFO no
    program reads yet is waited for, after ``on_wait`` (to say so): see ``opened_when_read``.
    A file the system will not replace (on Windows, one open in another program) is kept whole
    under its ``partial_name``, with the outputs whose writes its own ends (a model's card), and
    :class:`PartialKept` names them: nested, an output's write is the last of the outer's."""
    target = Path(target)
    if target.is_dir():
        raise FacialEmotionError(f"{target}: is a folder; name a file to write instead")
    followed = _followed_link(target)
    # a link to a pipe (/dev/stdout into `| other-program`) resolves to "pipe:[N]", which
    # names nothing: a stream is written through the link itself
    in_place = is_stream(target)
    real = Path(os.path.realpath(target)) if followed and not in_place else target
    kept_mode = _mode_for(real)
    try:
        fd, tmp = tempfile.mkstemp(  # .gitignore knows the name: only a kill -9 leaves it
            dir=tempfile.gettempdir() if in_place else _made(real.parent),
            prefix=f".{real.stem[:40]}.",  # short: a 255-byte name is legal, its temp file not
            suffix=f".partial{real.suffix}",
        )
    except OSError as exc:
        raise _unwritable(target, exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    # writable while it is written, even in place of a read-only file
    tmp_path.chmod(kept_mode | stat.S_IWUSR)
    kept = None
    try:
        yield tmp_path
        tmp_path.chmod(kept_mode)  # a replaced file keeps its own: a private 0600 stays private
        _put_in_place(tmp_path, real, target, in_place, on_wait)
    except PartialKept as refused:
        # refused in place, or written with an output that was, and whole (that output's write
        # ends this one's): kept beside it, so the two are swapped in together
        if not in_place:  # a stream has no file to swap
            kept = refused.add(_kept(tmp_path, real), real)
        raise
    finally:
        if kept != tmp_path:
            _remove(tmp_path)


def _mode_for(real: Path) -> int:
    """The permissions ``real`` is to have: its own when it exists, else a new file's usual ones
    (mkstemp makes 0600)."""
    if real.is_file():
        return stat.S_IMODE(real.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _put_in_place(
    tmp: Path, real: Path, target: Path, in_place: bool, on_wait: Callable[[], object] | None
) -> None:
    """Rename the whole ``tmp`` over ``real``, or copy it into a stream; an error names
    ``target``, and a refused rename (on Windows, ``real`` open in another program) is
    :class:`PartialKept`, for ``tmp`` to be kept."""
    if in_place:
        try:
            with tmp.open("rb") as done, _opened_in_place(real, on_wait) as out:
                shutil.copyfileobj(done, out)
        except OSError as exc:
            raise _unwritable(target, exc) from exc
        return
    try:
        os.replace(tmp, real)
    except PermissionError as exc:
        raise PartialKept(target, exc.strerror or str(exc)) from exc
    except OSError as exc:
        raise _unwritable(target, exc) from exc


class PartialKept(FacialEmotionError):
    """An output the system would not replace once written: on Windows, one open in another
    program, as Excel holds a CSV it shows, which ``require_writable`` saw closed before the work.
    The run's results were deleted with the temporary file; they are kept, with the outputs
    written with it, under their partial names (as a stop keeps them), for the user to put in
    place."""

    def __init__(self, refused: Path, reason: str) -> None:
        super().__init__(refused, reason)
        self.refused, self.reason = refused, reason
        self.kept: list[tuple[Path, Path]] = []  # (kept as, for): the refused output's first

    def add(self, kept: Path, target: Path) -> Path:
        """Name one more output kept, as ``kept``, for ``target``."""
        self.kept.append((kept, target))
        return kept

    def __str__(self) -> str:
        names = " and ".join(str(kept) for kept, _ in self.kept)
        renames = " and ".join(f"{kept.name} to {target.name}" for kept, target in self.kept)
        return (
            f"{self.refused}: could not be replaced ({self.reason}), so what the run wrote is "
            f"kept in {names}; close {self.refused.name} where it is open (Excel?) or make it "
            f"writable, then rename {renames}"
        )


def partial_name(path: Path) -> Path:
    """Where a file's run stopped by Ctrl-C or SIGTERM keeps what it wrote: ``faces.csv`` as
    ``faces.partial.csv``, beside the name asked for, which is left as it was."""
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def _kept(tmp: Path, real: Path) -> Path:
    """Where ``tmp``, whole, is kept for ``real``: under its partial name, or its own where that
    cannot be written either (open too); writable, for ``--resume`` to replace or delete."""
    with contextlib.suppress(OSError):
        tmp.chmod(stat.S_IMODE(tmp.stat().st_mode) | stat.S_IWUSR)
        os.replace(tmp, partial_name(real))
        return partial_name(real)
    return tmp


def _opened_in_place(target: Path, on_wait: Callable[[], object] | None) -> Any:
    """A stream to write ``target`` through: stdout's own descriptor for ``/dev/stdout``, which
    opened again would start a file behind ``> out.json`` or ``>> log.json`` from its first byte
    (``>>`` lost what the file held), and stderr's for ``/dev/stderr`` (``2>> log``). A FIFO is
    opened once a program reads it: opened blocking, one no program read held
    `predict -o fifo.json` after its work without a word."""
    fd = standard_fd(target)
    if fd is not None:
        (sys.stdout if fd == 1 else sys.stderr).flush()  # what the run printed before comes first
        return open(os.dup(fd), "wb")  # closed by the caller's with
    if is_named_fifo(target):
        return open(opened_when_read(target, on_wait), "wb")
    return target.open("wb")


def is_named_fifo(path: str | Path) -> bool:
    """Whether ``path`` is a FIFO in a folder (``mkfifo``), not a pipe's ``/dev/fd/N``, which
    resolves to a name like ``pipe:[N]`` that is nowhere on disk."""
    real = os.path.realpath(path)
    return os.path.exists(real) and stat.S_ISFIFO(os.stat(real).st_mode)


def opened_when_read(path: str | Path, on_wait: Callable[[], object] | None = None) -> int:
    """A blocking descriptor to write ``path``, a FIFO, opened once a program opens it to read.
    Opened blocking, a FIFO no one read held the command without a word; opened non-blocking, it
    is refused (ENXIO) until then, and is asked again every ``STREAM_WAIT`` seconds, after
    ``on_wait`` (to say so), between which Python takes Ctrl-C and SIGTERM."""
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0)
    if os.name != "posix":  # no O_NONBLOCK: the open waits in the kernel
        return os.open(path, flags)
    waited = False
    while True:
        try:
            fd = os.open(path, flags | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise
        else:
            os.set_blocking(fd, True)  # the writer decides: copied whole, or in waited steps
            return fd
        if not waited and on_wait is not None:
            on_wait()
        waited = True
        time.sleep(STREAM_WAIT)


def _remove(tmp_path: Path) -> None:
    """Windows deletes no read-only file (``DeleteFile``), and a temporary made read-only for a
    read-only output stayed behind, its error replacing the one-line message: made writable
    first, as the docs' ``shutil.rmtree(onexc=)`` example does."""
    with contextlib.suppress(OSError):  # gone already, when it was renamed into place
        tmp_path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    tmp_path.unlink(missing_ok=True)


def _followed_link(target: Path) -> bool:
    """Whether ``target`` is a link to write through. Another user's link in a shared sticky
    folder (/tmp) is refused, where the kernel's protected_symlinks draws the line: planted
    there, it made a run replace the file it named (root's, say) with results."""
    if not target.is_symlink():
        return False
    folder = target.parent.stat()
    link_owner = target.lstat().st_uid
    shared = folder.st_mode & stat.S_ISVTX and folder.st_mode & stat.S_IWOTH
    if shared and link_owner not in (os.geteuid(), folder.st_uid):
        raise FacialEmotionError(
            f"{target}: is another user's link in a shared folder; name a file of your own"
        )
    return True


def is_stdout(path: str | Path | None) -> bool:
    """Whether ``path`` is this process's stdout (``/dev/stdout``, ``/dev/fd/1``), whatever the
    shell made of it: a pipe, a terminal, or a file (``> log.csv``, ``>> log.csv``)."""
    return standard_fd(path) == 1


def standard_fd(path: str | Path | None) -> int | None:
    """The descriptor, 1 (stdout) or 2 (stderr), that ``path`` is (``/dev/stdout``,
    ``/dev/stderr``, ``/dev/fd/2``), whatever the shell made of it, or None. The two are one
    file behind ``2>&1`` or a terminal: stdout is asked first."""
    try:
        found = None if path is None else os.stat(path)
    except OSError:  # no such file yet
        return None
    for fd in (1, 2):
        with contextlib.suppress(OSError):  # no such stream at all
            if found is not None and os.path.samestat(found, os.fstat(fd)):
                return fd
    return None


def is_stream(path: str | Path) -> bool:
    """Whether ``path`` is a stream to write into as it is (``/dev/null``, ``/dev/stdout``, a
    FIFO), which a program may read while it is written, rather than a file to replace; a disk
    device is refused. Stdout and stderr are ones whatever the shell made of them, a file behind
    ``> log`` or ``2>> log`` too: replaced, ``>>`` lost what the file held."""
    path = Path(path)
    if standard_fd(path) is not None:
        return True
    if not path.exists() or path.is_file() or path.is_dir():
        return False
    if stat.S_ISBLK(path.stat().st_mode):
        raise FacialEmotionError(f"{path}: is a disk device; name a file to write instead")
    return True


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _unwritable(target: Path, exc: OSError) -> FacialEmotionError:
    # a full disk or quota is not fixed by another writable path on it
    full = exc.errno in (errno.ENOSPC, errno.EDQUOT)
    fix = "free some space, or write to another disk" if full else "choose a writable path"
    return FacialEmotionError(f"{target}: cannot be written ({exc.strerror or exc}); {fix}")


def require_writable(target: str | Path, folder: bool = False, suffix: str | None = None) -> None:
    """Stop before the work, not after it: ``target`` (a file, or with ``folder`` a folder) must
    be creatable, so hours of predictions are not lost to a typo in an output path; a file must
    not be a model's card (``model.json`` beside ``model.keras`` or ``model.tflite``), or the
    model would lose its class names; and a file written in one format must be named ``suffix``,
    or ``x.txt`` would hold JSON."""
    target = Path(target)
    _refuse_misnamed(target, suffix)
    if is_stream(target):  # stdout into a file too: /dev is not its folder
        _require_stream_writable(target, folder)
        return
    if target.is_dir() != folder and target.exists():
        kind = "a folder; name a file" if target.is_dir() else "a file; name a folder"
        raise FacialEmotionError(f"{target}: is {kind} to write instead")
    if not folder:  # a folder such as "." has no name to swap, and no program holds it open
        _refuse_a_card(target)
        _refuse_held_open(target)  # after the card's check: a card is never to be written
    _require_creatable(target, folder)


def _refuse_misnamed(target: Path, suffix: str | None) -> None:
    """Refuse ``-``, which is no stdout here, and a name without the format's ``suffix``."""
    if str(target) == "-":
        raise FacialEmotionError(
            "-: would be a file named '-', not stdout; name a file, or /dev/stdout for stdout"
        )
    if suffix is not None and target.suffix.lower() != suffix:
        raise FacialEmotionError(
            f"{target}: is written as {suffix[1:].upper()}; name the file {suffix}"
        )


def _require_stream_writable(target: Path, folder: bool) -> None:
    if folder:
        raise FacialEmotionError(f"{target}: is not a folder; name a folder to write instead")
    if not os.access(target, os.W_OK):
        raise _unwritable(target, PermissionError(errno.EACCES, "Permission denied"))


def _refuse_a_card(target: Path) -> None:
    """Refuse a model's card (``model.json`` beside ``model.keras``): written over, the model
    would lose its class names."""
    if target.suffix != ".json":
        return
    models = [target.with_suffix(s) for s in (".keras", ".tflite", ".h5")]
    model = next((m for m in models if m.is_file()), None)
    if model is not None:
        raise FacialEmotionError(
            f"{target}: is the card of {model}, which would lose its class names; "
            "write to another file name"
        )


def _refuse_held_open(target: Path) -> None:
    """Windows replaces no file another program holds open, as Excel holds a CSV it shows: the
    results, written whole at the end, were lost there to "Access is denied". One opened
    during the run is kept instead (``PartialKept``)."""
    if sys.platform != "win32" or not target.is_file():
        return
    try:
        os.close(os.open(target, os.O_WRONLY))  # denied where the holder shares no writes
    except PermissionError as exc:
        raise FacialEmotionError(
            f"{target}: is open in another program (Excel?) or read-only; close it there, "
            "or write to another file"
        ) from exc


def _require_creatable(target: Path, folder: bool) -> None:
    """Create and delete a file in ``target``'s nearest existing folder: one that cannot be
    written there, or a file in the path's place, is refused before the work."""
    existing = target if folder and target.is_dir() else target.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise FacialEmotionError(
            f"{target}: cannot be written, {existing} is a file, not a folder; choose another path"
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        raise _unwritable(target, exc) from exc


def write_json(target: str | Path, data: Any, on_wait: Callable[[], object] | None = None) -> None:
    """Write ``data`` as indented JSON, atomically, with LF line ends on every system: Windows'
    text mode wrote CRLF, which Git (eol=lf) commits as LF, so DVC's hash of a metrics file no
    longer matched dvc.lock in any checkout of that commit, and its stage ran again."""
    write_text(target, json.dumps(data, indent=2, sort_keys=False) + "\n", on_wait)


def write_text(target: str | Path, text: str, on_wait: Callable[[], object] | None = None) -> None:
    """Write ``text`` atomically; a file name that is not valid UTF-8 in it is written back as
    the bytes it was read as, as ``ls`` shows it. ``on_wait``: see ``atomic_path``."""
    with atomic_path(target, on_wait) as tmp, named_if_unwritten(target):
        tmp.write_text(text, encoding="utf-8", errors="surrogateescape", newline="\n")


def write_bytes(target: str | Path, data: bytes) -> None:
    """Write ``data`` atomically (see :func:`atomic_path`); an error met writing it, such as a
    full disk, names ``target`` rather than the temporary file."""
    with atomic_path(target) as tmp, named_if_unwritten(target):
        tmp.write_bytes(data)


@contextmanager
def named_if_unwritten(target: str | Path) -> Iterator[None]:
    """Name ``target`` in an error met writing its temporary file: a full disk's "[Errno 28] No
    space left on device" named no file, and the CLI, which takes such an error for its stdout's,
    said "standard output: cannot be written" for `-o faces.csv` on a full disk."""
    try:
        yield
    except OSError as exc:
        raise _unwritable(Path(target), exc) from exc


def write_csv(target: str | Path, table: Any, float_format: str | None = None) -> None:
    """Write a pandas ``table`` as CSV without its index, atomically, with LF line ends on every
    system (pandas ends lines with ``os.linesep``: CRLF on Windows; see :func:`write_json`);
    ``float_format`` (``"%.6g"``) keeps float32's 17 printed digits out of a plot's file."""
    with atomic_path(target) as tmp, named_if_unwritten(target):
        table.to_csv(tmp, index=False, lineterminator="\n", float_format=float_format)


def _file_id(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_dev, found.st_ino


def refuse_overwrite(inputs: Iterable[Path], outputs: Iterable[Path]) -> None:
    """Stop before an output would replace an input or another output, or land in an input
    folder: the lost file would be the user's photo, video, data or model card, silently."""
    read = {path.resolve() for path in inputs}
    folders = [path for path in read if path.is_dir()]  # data folders: every file in them is read
    # the files themselves: on macOS's and Windows' disks Clip.mp4 is clip.mp4, which a path
    # comparison missed, and the output replaced the video it was made from
    files_read = {_file_id(path) for path in read if path.is_file()}
    written: set[Path] = set()
    for path in outputs:
        target = path.resolve()
        if target in read or (target.is_file() and _file_id(target) in files_read):
            raise FacialEmotionError(
                f"{path}: is an input, and an output would replace it; "
                "write the outputs to another folder or file name"
            )
        if any(target.is_relative_to(folder) for folder in folders):
            raise FacialEmotionError(
                f"{path}: is inside a folder this command reads, and would replace or join its "
                "files; write the outputs to another folder"
            )
        if target in written:
            raise FacialEmotionError(f"{path}: named for two outputs; give each its own file name")
        written.add(target)
