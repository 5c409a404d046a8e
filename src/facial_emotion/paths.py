"""Where the pipeline reads and writes, relative to the repository root."""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

from facial_emotion.errors import FacialEmotionError

PREPARED = Path("data/prepared")
MODEL = Path("models/model.keras")
REPORTS = Path("reports")
METRICS = Path("metrics")
# Where a notebook run by hand writes: the pipeline's outputs are DVC's, and a hand run that
# replaced them cost a second training to make `dvc status` clean again, or put a model in
# models/ that dvc.lock said other settings had made.
NOTEBOOK_RUNS = Path("runs/notebook")


def output_root(publish: bool) -> Path:
    """The repository root when the pipeline runs a notebook (it injects ``publish = True``),
    otherwise ``NOTEBOOK_RUNS``, which holds the same layout (``models/``, ``metrics/``, ...)."""
    return Path(".") if publish else NOTEBOOK_RUNS


# The image files a folder is searched for: what Pillow reads (.jfif and .jpe are JPEG names too).
IMAGE_EXTENSIONS = frozenset(
    ".bmp .gif .jfif .jpe .jpeg .jpg .jp2 .pbm .pgm .png .pnm .ppm .tif .tiff .webp".split()
)
# What `video -o` writes (OpenCV's FFmpeg writer), in the order its help lists them; .m4v is the
# MP4 container under Apple's name (FFmpeg's ipod muxer), which players and OpenCV read as .mp4
VIDEO_SUFFIXES = (".mp4", ".m4v", ".avi", ".mkv", ".mov", ".webm")


def video_name(output: str | Path) -> Path:
    """``output`` as a path, refused unless named as a video: OpenCV wrote a .gif as one frame
    and a .png as a stream nothing plays."""
    output = Path(output)
    if output.suffix.lower() not in VIDEO_SUFFIXES:
        raise FacialEmotionError(
            f"{output}: the annotated video is a video file; name it {', '.join(VIDEO_SUFFIXES)}"
        )
    return output


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


# Bidirectional overrides and isolates: "a\u202egpj.exe" shows as "aexe.jpg". (Other format
# characters stay: Persian names need the zero-width non-joiner, emoji the joiner.)
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)


def printable(text: str) -> str:
    """``text`` with control characters (a newline, a terminal escape), line separators and bidi
    controls shown as ``?``: a file name may hold them, and printed as they are they forge a line
    of a log, split a table's row or show another name."""
    return "".join(
        "?" if unicodedata.category(ch) in ("Cc", "Zl", "Zp") or ch in BIDI_CONTROLS else ch
        for ch in text
    )


NOT_DATA = frozenset({"thumbs.db", "desktop.ini"})  # what Windows leaves in picture folders


def image_files(
    folder: Path,
    on_unreadable: Callable[[OSError], None] | None = None,
    on_other: Callable[[Path], None] | None = None,
) -> list[Path]:
    """Image files under ``folder``, sub-folders included, sorted: what ``predict`` reads from a
    folder and what a class folder holds (``happy/session1/*.jpg`` is a happy face too). Hidden
    files and folders (``.DS_Store``, macOS's ``._x.jpg``, ``.thumbnails/``) are skipped; linked
    folders are followed, each real folder once (links may loop). Other files (``IMG_1.heic``,
    a link to nothing) go to ``on_other`` when given. A folder that cannot be listed goes to
    ``on_unreadable`` when given, so ``predict`` reports it and searches on; otherwise its error
    stops the search, so training never runs on part of a class without a word."""
    found = _image_files(folder, on_unreadable, on_other, {os.path.realpath(folder)})
    # by name parts, case kept: Windows paths compare without case, which gave a folder's faces,
    # and so its seeded split, another order there; on Linux and macOS this is Path's own order
    return sorted(found, key=lambda path: path.parts)


def _image_files(
    folder: Path,
    on_unreadable: Callable[[OSError], None] | None,
    on_other: Callable[[Path], None] | None,
    visited: set[str],
) -> Iterator[Path]:
    try:
        entries = os.scandir(folder)
    except OSError as exc:
        if on_unreadable is None:
            raise
        on_unreadable(exc)
        return
    with entries:
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                is_dir, is_file = e.is_dir(), e.is_file()
            except OSError:  # a link in a loop (a -> b -> a) is ELOOP: a link to nothing too
                is_dir = is_file = False
            if is_dir:
                real = os.path.realpath(e.path)
                if real not in visited:
                    visited.add(real)
                    yield from _image_files(Path(e.path), on_unreadable, on_other, visited)
            elif is_file and is_image_name(e.name):
                yield Path(e.path)
            elif on_other is not None and e.name.lower() not in NOT_DATA:
                on_other(Path(e.path))


def repo_root() -> Path:
    """The folder holding ``dvc.yaml``, searched upwards from the working folder, so notebooks
    opened from ``notebooks/`` resolve the same paths as papermill runs from the root."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "dvc.yaml").is_file():
            return folder
    raise FileNotFoundError(
        f"no dvc.yaml in {here} or above; open the notebook inside the repository"
    )


def enter_repo_root() -> Path:
    """Run the rest of a notebook from the repository root: opened by hand in ``notebooks/``,
    its relative paths (``data/prepared``, ``models/``) would name folders that do not exist."""
    root = repo_root()
    os.chdir(root)
    return root


def run_on_repository_code(module: str) -> None:
    """Run ``python -m module`` again on the code in ``src/`` of the repository the stage runs in,
    when this process imported ``facial_emotion`` from elsewhere; return if it did not.

    A queued or ``--temp`` ``dvc exp run`` runs its stages in a copy of the repository, but an
    editable install (or a venv shared between clones) imports the workspace's code: code edited
    after ``--queue`` ran, while the experiment's ``dvc.lock`` recorded the hashes of the copy's.
    """
    own = Path("src/facial_emotion").resolve()
    searched = os.environ.get("PYTHONPATH", "")
    if (
        not (own / "__init__.py").is_file()
        or own == Path(__file__).resolve().parent
        or searched.split(os.pathsep)[0] == str(own.parent)  # tried already: PYTHONPATH ignored
    ):
        return
    if os.pathsep in str(own.parent):  # read as two entries: the child would import the same code
        print(
            f"warning: {own.parent}: a {os.pathsep!r} in the path keeps it off PYTHONPATH, so "
            f"this runs facial_emotion from {Path(__file__).resolve().parent}; move the "
            f"repository to a path without {os.pathsep!r}",
            file=sys.stderr,
        )
        return
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(own.parent), searched]))}
    argv = [sys.executable, "-m", module, *sys.argv[1:]]
    if sys.platform == "win32":  # exec starts a new process there, and the stage would end at once
        import contextlib
        import subprocess

        child = subprocess.Popen(argv, env=env)
        while child.returncode is None:
            # Ctrl+C reaches the child too (one console) and it stops as it does alone, writing
            # no half outputs: subprocess.call killed it 0.25 s later and left a traceback here
            with contextlib.suppress(KeyboardInterrupt):
                child.wait()
        sys.exit(child.returncode)
    os.execve(sys.executable, argv, env)
