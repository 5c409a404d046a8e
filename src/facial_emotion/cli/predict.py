"""``facial-emotion predict``: the emotion of every face in image files, folders and globs."""

from __future__ import annotations

import argparse
import errno
import functools
import glob
import io
import os
import select
import sys
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from facial_emotion.cli.options import (
    ParagraphFormatter,
    add_detect_size_option,
    add_detector_option,
    add_min_confidence_option,
    add_model_option,
    add_progress_option,
    detector_options,
    named,
    waiting_note,
)
from facial_emotion.cli.predict_output import (
    ImageResult,
    csv_header,
    csv_rows,
    csv_text,
    render,
    render_json,
)
from facial_emotion.cli.predict_resume import (
    Earlier,
    earlier_results,
    file_sha256,
    refuse_another_reader,
)
from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import (
    is_stream,
    partial_name,
    refuse_overwrite,
    require_writable,
    write_bytes,
    write_text,
)
from facial_emotion.paths import IMAGE_EXTENSIONS, VIDEO_SUFFIXES, image_files, printable
from facial_emotion.progress import progress_bar
from facial_emotion.stops import interrupt_in
from facial_emotion.wording import counted

if TYPE_CHECKING:  # numpy, OpenCV and TensorFlow load in run(), so `--help` stays quick
    from collections.abc import Callable

    import numpy as np

    from facial_emotion.faces import Face
    from facial_emotion.predict import EmotionRecognizer


WRITABLE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"})
MAX_NAME_BYTES = 255  # of one file name on ext4 and APFS (NTFS counts 255 UTF-16 units instead)
PROGRESS_FROM = 10  # images; fewer finish before a bar would help
# faceless photos named on stderr with --csv/--json, the rest counted in one line: a line each
# was 6,000 lines for a library of 20,000 photos, burying the files that could not be read
NAMED_FACELESS = 10

EPILOG = """\
PATH may be an image file, a folder (searched recursively for .jpg .png .webp .bmp .tif .gif
and the other image files Pillow reads) or a glob such as 'photos/**/*.jpg'. An image that is
already a small square gray face crop (such as FER2013's 48x48) is used whole, without detection
("whole_image": true in --json); a larger photo cropped tight to one face is searched again
inside a margin, so it is found too. A multi-page TIFF or an animated GIF is read at its first
page or frame (use `video` for moving pictures).

Files that cannot be read are reported on stderr, one line each, and the rest are processed;
a photo without a face is listed as such (on stderr with --csv or --json: the first 10 by
name, then a count). Exit status: 0 when at least one image was read
(even if others were skipped or had no face); 2 when no image could be read, no PATH matched,
or the model cannot be loaded.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = ParagraphFormatter
    parser.add_argument("paths", nargs="+", metavar="PATH", help="image files, folders or globs")
    add_model_option(parser)
    add_detector_option(parser)
    add_detect_size_option(parser, "1024")
    add_min_confidence_option(parser)
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print JSON instead of a table")
    fmt.add_argument("--csv", action="store_true", help="print CSV, one row per face")
    parser.add_argument(
        "--output",
        "-o",
        type=output_file,
        metavar="FILE",
        help="write the table/JSON/CSV to FILE; a .json or .csv name picks that format; "
        "- is stdout",
    )
    parser.add_argument(
        "--annotate",
        type=named_folder,
        metavar="DIR",
        help="write copies with boxes and labels to DIR",
    )
    parser.add_argument(
        "--crops",
        action="store_true",
        help="each image is one face, cropped already (by your own detector, say): read it whole, "
        "with no search (a tight crop the detector would miss is read too)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="with -o FILE.csv or FILE.json: keep the results FILE already holds (or its "
        ".partial file, which a stopped run leaves, if newer) and read only the images it does "
        "not list, adding theirs after them; for a run that was stopped, or a folder that "
        "grew. Run it from the same folder: files are matched by the path the output shows, "
        "taken from there (a relative and an absolute PATH name the same file), and with the "
        "same options: one photo FILE lists is read again first, and FILE is refused if it "
        "reads otherwise now (another model, detector or setting)",
    )
    add_progress_option(parser)


def stdout_or_file(value: str) -> Path | None:
    """``-`` is stdout, as elsewhere on the command line, not a file named ``-``."""
    return None if value == "-" else Path(value)


output_file = named("file", "name the file, or - for stdout", stdout_or_file)
# `--annotate "$OUT"` with it unset wrote the marked copies into the working folder
named_folder = named("folder", "name . for this folder", Path)


def dead_links(folder: Path, links: list[Path]) -> str:
    """The problem of links in ``folder`` that lead to no file: a link loop (a -> b -> a) or a
    link whose target is gone was told to "convert any that are photos to JPEG or PNG"."""
    first = min(links)
    try:
        os.stat(first)
        looped = False  # its target came back since the search
    except OSError as exc:
        looped = exc.errno == errno.ELOOP
    why = "in a loop of links" if looped else "whose target is gone"
    if len(links) == 1:  # not "(such as ...); remove them"
        return (
            f"{folder}: 1 link that leads to no file ({first.relative_to(folder)}, {why}); "
            "remove it or point it at a photo"
        )
    return (
        f"{folder}: {counted(len(links), 'link')} that lead to no file (such as "
        f"{first.relative_to(folder)}, {why}); remove them or point them at the photos"
    )


def output_format(args: argparse.Namespace) -> str:
    """The output format: ``--json`` or ``--csv``, else the suffix of ``-o``, else the table."""
    suffix = args.output.suffix.lower()[1:] if args.output is not None else ""
    if f".{suffix}" in IMAGE_EXTENSIONS.union(VIDEO_SUFFIXES):  # `video -o` writes the marked video
        raise FacialEmotionError(
            f"{args.output}: -o writes the table, JSON or CSV, not a picture; name it .txt, .json "
            "or .csv, and pass --annotate DIR for copies with boxes and labels"
        )
    named = suffix if suffix in ("json", "csv") else None
    flagged = "json" if args.json else "csv" if args.csv else None
    if flagged and named and flagged != named:
        raise FacialEmotionError(
            f"{args.output}: --{flagged} would write {flagged.upper()} into a .{named} file; "
            f"drop --{flagged} or name the file .{flagged}"
        )
    return flagged or named or "table"


def expand_paths(patterns: list[str]) -> tuple[list[Path], list[str], list[Path]]:
    """Files named by each PATH (file, folder or glob), in order without repeats; problems; and
    the folders searched. A folder a glob matches is searched as a folder given by name is."""
    files: list[Path] = []
    problems: list[str] = []
    searched: list[Path] = []

    def unreadable(exc: OSError) -> None:
        problems.append(f"{exc.filename}: folder cannot be read ({exc.strerror})")

    def search(folder: Path) -> list[Path]:
        """The folder's images; the files passed over are one problem, as prepare counts them
        (an iPhone's .heic was left out without a word)."""
        others: list[Path] = []
        searched.append(folder)
        found = image_files(folder, unreadable, others.append)
        dead = [path for path in others if not path.exists()]  # links that lead to no file
        others = [path for path in others if path not in dead]
        if dead:
            problems.append(dead_links(folder, dead))
        if others:
            problems.append(
                f"{folder}: {counted(len(others), 'file')} that "
                f"{'is not an image' if len(others) == 1 else 'are not images'} Pillow reads "
                f"(such as {min(others).relative_to(folder)}); convert any that are photos to "
                "JPEG or PNG"
            )
        elif not found and not dead:
            problems.append(f"{folder}: folder has no image files")
        return found

    for pattern in patterns:
        path = Path(pattern)
        if not pattern:  # Path("") is ".": `predict "$PHOTOS"` with it unset read the whole cwd
            found = []
            problems.append('"": an empty path (an unset variable?); name . for this folder')
        elif path.is_dir():
            found = search(path)
        elif path.is_file():
            found = [path]
        elif glob.has_magic(pattern):
            found = []
            for match in map(Path, sorted(glob_matches(pattern))):
                if match.is_dir():
                    found.extend(search(match))
                elif match.is_file():
                    found.append(match)
            if not found:
                problems.append(f"{pattern}: no image file matches this pattern")
        else:
            found = []
            exists = path.exists()  # such as /dev/null
            problems.append(
                f"{path}: {'not a file or folder' if exists else 'no such file or folder'}"
            )
        files.extend(found)
    return list(dict.fromkeys(files)), problems, searched


def glob_matches(pattern: str) -> list[str]:
    """``pattern``'s matches; where there are none, those of the same pattern with its longest
    existing folder taken as spelt: a folder named "Party [2024]" holds no character class."""
    matches = glob.glob(pattern, recursive=True)
    folder = os.path.dirname(pattern)
    while folder and not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    if not matches and os.path.isdir(folder) and glob.has_magic(folder):
        matches = glob.glob(glob.escape(folder) + pattern[len(folder) :], recursive=True)
    return matches


def refuse_annotating_among_inputs(out_dir: Path, searched: list[Path], files: list[Path]) -> None:
    """Stop before marked copies land among the photos: in a photo's own folder, or anywhere in a
    folder that is searched, the next run would read them as photos."""
    target = out_dir.resolve()
    beside = {file.resolve().parent for file in files}
    if target in beside or any(target.is_relative_to(f.resolve()) for f in searched):
        raise FacialEmotionError(
            f"{out_dir}: holds the photos being read, so the marked copies would be read as "
            "photos next time; pass --annotate a folder of its own"
        )


def refuse_replacing(out_dir: Path, copies: list[Path]) -> None:
    """Stop before a marked copy replaces a file already in ``out_dir``: a photo of the same name
    there (annotating a sub-folder into its parent) was lost without a word."""
    existing = [copy for copy in copies if os.path.lexists(copy)]
    if existing:
        more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
        raise FacialEmotionError(
            f"{out_dir}: already holds {existing[0].name}{more}, which the marked copies would "
            "replace; pass --annotate a new or empty folder"
        )


def annotated_name(out_dir: Path, source: Path, taken: set[str]) -> Path:
    """``out_dir/<name>``, numbered when two inputs share a name; PNG where OpenCV cannot write.
    Names are told apart as macOS's and Windows' disks tell them, without case or Unicode form:
    there ``Face.jpg`` and ``face.jpg`` are one file, and one copy replaced the other."""
    suffix = source.suffix.lower() if source.suffix.lower() in WRITABLE_SUFFIXES else ".png"
    target = out_dir / _fitted(source.stem, suffix)
    n = 2
    while _as_disk_sees(target) in taken:
        target = out_dir / _fitted(source.stem, f"_{n}{suffix}")
        n += 1
    taken.add(_as_disk_sees(target))
    return target


def _fitted(stem: str, ending: str) -> str:
    """``stem + ending``, the stem cut to fit a file name's 255 bytes: a photo's long name that
    fit did not with a number or a new suffix, and ended the run with a bare OS error."""
    while len(os.fsencode(stem + ending)) > MAX_NAME_BYTES and stem:
        stem = stem[:-1]
    return stem + ending


def _as_disk_sees(path: Path) -> str:
    return unicodedata.normalize("NFC", path.name).casefold()


def write_annotated(target: Path, image: np.ndarray, faces: list[Face]) -> None:
    import cv2

    from facial_emotion.annotate import annotated_copy

    bgr = annotated_copy(image, faces)
    ok, encoded = cv2.imencode(target.suffix, bgr)  # not imwrite: it crashes on non-UTF-8 names
    if not ok:
        raise FacialEmotionError(f"{target}: cannot encode the annotated image; name a .png")
    write_bytes(target, encoded.tobytes())


def run(args: argparse.Namespace) -> int:
    fmt = output_format(args)
    if args.output is not None:
        require_writable(args.output)
    if args.annotate is not None:
        require_writable(args.annotate, folder=True)
    recognizer, meta = recognizer_and_meta(args)

    def nothing_read(skipped: list[str], why: str) -> FacialEmotionError:
        """The error to raise; with --json, the JSON that says so is written first, so a program
        reading it gets a document (no images, every skip) beside the exit status 2."""
        if fmt == "json":
            emit(args, render_json([], skipped, recognizer.classes, meta))
        return FacialEmotionError(why)

    earlier = earlier_results(args, fmt, recognizer.classes, meta) if args.resume else Earlier()
    files, skipped, searched = expand_paths(args.paths)
    if not files and len(skipped) == 1:  # one line, not "skipped" and then why nothing ran
        raise nothing_read(skipped, f"{skipped[0]}; pass image files, folders or globs")
    if not files:
        print_skipped(skipped)
        raise nothing_read(
            skipped, f"{' '.join(args.paths)}: no files to read; pass image files, folders or globs"
        )
    annotated = annotated_copies(args.annotate, searched, files)
    refuse_overwrite(files, [*annotated.values(), *([args.output] if args.output else [])])
    if earlier.files:
        refuse_another_reader(
            earlier, recognizer.classes, lambda path: read_one(args, recognizer, path)
        )
        files, annotated = not_listed(earlier, files, annotated)
    print_skipped(skipped)  # after the refusals: a run that stops says only why
    if note := recognizer.lacking_note():
        print(f"facial-emotion predict: note: {note}", file=sys.stderr)

    results: list[ImageResult] = []
    report = functools.partial(render, fmt, results, skipped, recognizer.classes, meta, earlier)
    # CSV on stdout goes out an image at a time: a program (or `> faces.csv`) has the rows as they
    # come, and a stop keeps them; it waited for the last of 20,000 photos, hours on 2 cores
    streamed = fmt == "csv" and args.output is None
    try:
        read_all(args, files, recognizer, annotated, fmt, results, skipped, streamed)
    except BaseException as exc:  # Ctrl-C, SIGTERM; in LiteRT's call a SystemError holding one
        keep_on_stop(exc, args.output, len(files), results, report)
        raise
    if not results and not earlier.files:
        raise nothing_read(skipped, none_read(files))
    if not streamed:
        emit(args, report())
    if earlier.source is not None and earlier.source != args.output:
        try:
            earlier.source.unlink(missing_ok=True)  # a stop's partial file, now in the output
        except OSError as exc:  # open in Excel, on Windows: the output is written all the same
            print(
                printable(
                    f"facial-emotion predict: note: {earlier.source}: could not be deleted "
                    f"({exc.strerror or exc}); {args.output} holds its results now: delete it "
                    "once it is closed"
                ),
                file=sys.stderr,
            )
    return 0


def recognizer_and_meta(args: argparse.Namespace) -> tuple[EmotionRecognizer, dict[str, object]]:
    """The model and detector asked for, and what the JSON output says of them."""
    from facial_emotion.faces import detector_name, make_detector
    from facial_emotion.predict import EmotionRecognizer

    # --crops searches nothing: the light detector, so mtcnn does not load TensorFlow for it
    detector = make_detector("haar" if args.crops else args.detector, **detector_options(args, {}))
    recognizer = EmotionRecognizer(args.model, detector, min_confidence=args.min_confidence)
    searched_by = "none: --crops" if args.crops else detector_name(recognizer.detector)
    meta: dict[str, object] = {
        "model": str(recognizer.model_path),
        "model_sha256": file_sha256(recognizer.model_path),
        "detector": searched_by,
    }
    if args.min_confidence is not None:  # a reader of the JSON knows what "uncertain" means
        meta["min_confidence"] = args.min_confidence
    return recognizer, meta


def print_skipped(skipped: list[str]) -> None:
    """Each problem found in the PATHs, a line each on stderr."""
    for problem in skipped:
        print(f"facial-emotion predict: skipped {printable(problem)}", file=sys.stderr)


def annotated_copies(
    out_dir: Path | None, searched: list[Path], files: list[Path]
) -> dict[Path, Path]:
    """Each file's marked copy in ``out_dir`` (none without --annotate), refused before any work
    where a copy would land among the photos or replace a file."""
    if out_dir is None:
        return {}
    refuse_annotating_among_inputs(out_dir, searched, files)
    taken: set[str] = set()
    annotated = {path: annotated_name(out_dir, path, taken) for path in files}
    refuse_replacing(out_dir, list(annotated.values()))
    return annotated


def not_listed(
    earlier: Earlier, files: list[Path], annotated: dict[Path, Path]
) -> tuple[list[Path], dict[Path, Path]]:
    """The files, and their marked copies, that ``--resume``'s earlier results do not list, with a
    note of how many are left to read."""
    # by the path from here: `photos` and `$PWD/photos` name one file, which was read again
    done = {os.path.abspath(name) for name in earlier.files}
    files = [path for path in files if os.path.abspath(path) not in done]
    annotated = {path: annotated[path] for path in files if path in annotated}
    print(
        f"facial-emotion predict: note: {counted(len(earlier.files), 'image')} "
        f"{'is' if len(earlier.files) == 1 else 'are'} in "
        f"{earlier.source} already; reading the {len(files)} it does not list",
        file=sys.stderr,
    )
    return files, annotated


def keep_on_stop(
    exc: BaseException,
    output: Path | None,
    count: int,
    results: list[ImageResult],
    report: Callable[[], str],
) -> None:
    """On a stop (Ctrl-C, SIGTERM), keep what was read under ``output``'s ``partial_name``, which
    a note on the interrupt names, for ``--resume``: beside a file, not stdout or a pipe (written
    only whole)."""
    interrupt = interrupt_in(exc)
    if interrupt is not None and results and output is not None and not is_stream(output):
        kept = partial_name(output)
        write_text(kept, report())
        interrupt.add_note(
            f"stopped after {len(results)} of {count} images; the results read up to "
            f"then are kept in {kept} (add --resume to go on from there)"
        )


def none_read(files: list[Path]) -> str:
    """Why a run that found files read none of them."""
    if len(files) == 1:  # not "none of the 1 files"
        return f"{files[0]}: could not be read as an image; see the line above"
    return f"none of the {len(files)} files could be read as an image; see the lines above"


def read_one(args: argparse.Namespace, recognizer: EmotionRecognizer, path: Path) -> list[Face]:
    """The faces of the image at ``path``, as ``read_all`` reads each (--resume's check)."""
    from facial_emotion.predict import load_image

    image = load_image(path)
    return recognizer.read_crops([image]) if args.crops else recognizer.detect(image)


def read_all(
    args: argparse.Namespace,
    files: list[Path],
    recognizer: EmotionRecognizer,
    annotated: dict[Path, Path],
    fmt: str,
    results: list[ImageResult],
    skipped: list[str],
    streamed: bool = False,
) -> None:
    """Read ``files`` into ``results`` and ``skipped``, which hold what was read when a stop
    interrupts it; ``streamed``: each image's CSV rows go to stdout as it is read."""
    from facial_emotion.predict import load_image

    bar = progress_bar(
        len(files),
        unit="image",
        leave=False,
        off=not args.progress or len(files) < PROGRESS_FROM,
    )
    faceless = 0
    with bar:
        # one photo at a time: 16 held for one model call took 883 MB on 12 MP photos (347 MB
        # one by one), saved no time (detection is most of it) and moved the bar in jumps of 16
        for path in files:
            try:
                image = load_image(path)
            except FacialEmotionError as exc:
                skipped.append(str(exc))
                bar.write(f"facial-emotion predict: skipped {printable(str(exc))}", file=sys.stderr)
                bar.update(1)
                continue
            try:
                faces = recognizer.read_crops([image]) if args.crops else recognizer.detect(image)
            except FacialEmotionError as exc:  # a flat or tiny crop: nothing to read
                skipped.append(f"{path}: {exc}")
                bar.write(
                    f"facial-emotion predict: skipped {printable(skipped[-1])}", file=sys.stderr
                )
                bar.update(1)
                continue
            copy = annotated.get(path)
            height, width = image.shape[:2]
            named = str(copy) if copy is not None else None
            results.append(ImageResult(str(path), width, height, faces, named))
            if not faces and fmt != "table":  # the table says so in its own row
                faceless += 1
                if faceless <= NAMED_FACELESS:
                    shown = printable(str(path))
                    bar.write(f"facial-emotion predict: {shown}: no face found", file=sys.stderr)
            if copy is not None:
                write_annotated(copy, image, faces)
            if streamed:
                rows = csv_rows(results[-1], recognizer.classes)
                with bar.external_write_mode(file=sys.stdout):  # the bar cleared, then redrawn
                    head = [csv_header(recognizer.classes)] if len(results) == 1 else []
                    write_stdout(csv_text([*head, *rows]))
                    sys.stdout.flush()
            bar.update(1)
    if (more := faceless - NAMED_FACELESS) > 0:
        print(
            f"facial-emotion predict: {counted(more, 'more image')} had no face found; the "
            f"output lists {'it' if more == 1 else 'them'} with no faces",
            file=sys.stderr,
        )


def emit(args: argparse.Namespace, text: str) -> None:
    """The results to ``-o``, else to stdout."""
    if args.output is not None:
        then = "the results are written once one opens it"
        write_text(args.output, text, waiting_note("predict", args.output, then))
    else:
        write_stdout(text)


def write_stdout(text: str) -> None:
    """Print ``text`` whole or fail. With PYTHONUNBUFFERED (CI, most Docker images) stdout has no
    buffer, and its text layer drops what a short write leaves: on a full disk, `> faces.json`
    kept the first 4 KB and the command ended with status 0. Its raw file's count is checked."""
    raw = getattr(sys.stdout, "buffer", None)
    if not isinstance(raw, io.RawIOBase):  # a buffered stdout writes the rest, or raises
        sys.stdout.write(text)
        return
    sys.stdout.flush()
    errors = sys.stdout.errors or "strict"  # None (typeshed's TextIO allows it): encode's default
    data = memoryview(text.replace("\n", os.linesep).encode(sys.stdout.encoding, errors))
    while data:  # the write after a short one meets the full disk's error
        written = raw.write(data)
        if written is None:  # a non-blocking stdout, full: wait for room, not spin on the CPU
            select.select([], [raw], [])
            continue
        data = data[written:]
