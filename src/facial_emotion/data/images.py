"""Turning files into 48x48 grayscale ``uint8`` arrays: image files, class folders, pixel CSVs.

Every loader reads through here, so a face is read, converted and resized the same way whatever
data set it came from, and a bad file is reported the same way: one line naming it and the fix.
"""

from __future__ import annotations

import io
import lzma
import os
import re
import tarfile
import warnings
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from PIL import Image, UnidentifiedImageError

from facial_emotion.data.prepared import IMAGE_SIZE
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import EMOTIONS, canonical
from facial_emotion.native_log import opencv_log_silenced
from facial_emotion.paths import image_files, is_image_name
from facial_emotion.pictures import (
    DAMAGED_FILE_ERRORS,
    PICTURE_FORMATS,
    file_pixels,
    has_transparency,
    require_few_scans,
    require_plain_tags,
    too_large,
)
from facial_emotion.progress import progress_bar
from facial_emotion.wording import counted

PIXELS = IMAGE_SIZE * IMAGE_SIZE
# What pandas unpacks a CSV from by itself (read_csv's compression="infer"; .zst needs zstandard,
# not installed); .tar.gz and the like are a tar of one CSV, compressed.
CSV_PACKINGS = (".gz", ".bz2", ".xz", ".zip")
# Packings read by nothing installed here (pandas reads .zst only with the zstandard package).
UNREAD_PACKINGS = (".zst", ".zstd", ".7z", ".rar")
# What reading a compressed file cut short or damaged raises (an OSError without errno: bz2's
# "Invalid data stream", gzip's BadGzipFile).
_BROKEN_PACKING = (EOFError, OSError, zlib.error, lzma.LZMAError, tarfile.TarError)
_CSV_CHUNK_ROWS = 4096
_READ_CHUNK = 128
# Files smaller than this skip the header check (which costs more than decoding a 48x48 JPEG):
# even a 1-bit PNG deflated at its best (1032:1) holds under 34 million pixels in 4 KB.
_HEADER_CHECKED_FROM = 4096


# A face crop's least side (LFW's faces are 25 px) and greatest length to width: a whole photo
# is read as one face too, so 4:3 and 16:9 frames pass
MIN_FACE_SIDE = 16
MAX_FACE_ASPECT = 3
# Face crops are square or nearly (FER2013, CK+48, RAF-DB's and AffectNet's crops); a 4:3 photo or
# KDEF's 562x762 portrait is not
SQUARE_ENOUGH = 1.2


def read_gray48(path: str | Path, on_unsquare: Callable[[Path], None] | None = None) -> np.ndarray:
    """One image file of any size, colour or format as a uint8 (48, 48) grayscale face; one far
    from square (a 640x480 photo, read whole and squeezed) goes to ``on_unsquare`` too."""
    image = read_gray(path)
    h, w = image.shape[:2]
    _refuse_non_faces((h, w), Path(path))
    if on_unsquare is not None and max(h, w) > SQUARE_ENOUGH * min(h, w):
        on_unsquare(Path(path))
    return to_gray48(image)


def read_gray(path: str | Path) -> np.ndarray:
    """One image file of any size, colour or format as uint8 grayscale, at its own size.

    OpenCV decodes (fast); what it cannot decode, or could only misread, Pillow reads as
    ``predict`` does, so prepare refuses the files predict refuses.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FacialEmotionError(
            f"{path}: cannot be read ({exc.strerror}); check the path"
        ) from exc
    if not data:
        raise FacialEmotionError(f"{path}: empty file (0 bytes); remove or replace the file")
    if len(data) >= _HEADER_CHECKED_FROM:
        _refuse_oversized(data, path)
    if data.startswith(b"\xff\xd8"):  # a JPEG, as predict refuses it
        require_few_scans(data, path)
    require_plain_tags(data, path)  # a TIFF's tags, as predict refuses them
    image = None
    if not _unfinished_jpeg(data) and not _cmyk_jpeg(data) and not _may_be_transparent(data):
        image = _opencv_gray(data)
    # black may be a 16-bit file of 8-bit values, whose top byte OpenCV kept (0, or 0 and 1 in
    # a colour TIFF it turns gray): Pillow reads those (rare, cheap)
    if image is None or image.max(initial=0) <= 1:
        return _read_with_pillow(path, data)
    return image


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_GRAY = (0, 4)  # IHDR colour types without colour: gray, gray and alpha


def _opencv_gray(data: bytes) -> np.ndarray | None:
    """A file's pixels decoded by OpenCV as gray as ``predict`` turns them gray (ITU-R 601,
    rounded): a colour PNG is decoded in colour first, since libpng's own conversion, which
    OpenCV's gray decoding asks of it, truncates: 86% of a colour PNG's pixels read one level
    darker than ``predict`` reads them, enough to move the face box 2 px and the stretched crop
    6 levels on average. (libjpeg's gray is the JPEG's own luma, as predict reads it.)"""
    buffer = np.frombuffer(data, np.uint8)
    try:
        if data.startswith(PNG_SIGNATURE) and len(data) > 25 and data[25] not in PNG_GRAY:
            colour = cv2.imdecode(buffer, cv2.IMREAD_COLOR)
            return None if colour is None else cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY)
        return cv2.imdecode(buffer, cv2.IMREAD_GRAYSCALE)
    except cv2.error:  # its size check: a file under _HEADER_CHECKED_FROM claiming billions
        return None  # of pixels, which Pillow names too large


def _may_be_transparent(data: bytes) -> bool:
    """Whether a file may hold transparent pixels, which OpenCV's decoding drops, reading the
    colour its writer left under them (black, white or noise; never seen) where ``predict`` lays
    them over white: Pillow reads those. A JPEG has none; a PNG says so in its header (colour
    type 4 or 6: alpha) or by a tRNS chunk before its pixels; a BMP has alpha at 32 bits a pixel
    only (Pillow's reader of its header took 200 us a file, where OpenCV decodes a 48x48 one in
    6); other formats (GIF, WebP, TIFF), rarer in data sets, are asked of Pillow's header reader
    (50-100 us a file)."""
    if data.startswith(b"\xff\xd8"):
        return False
    if data.startswith(PNG_SIGNATURE):
        return data[25:26] in (b"\x04", b"\x06") or b"tRNS" in data[: data.find(b"IDAT")]
    if data.startswith(b"BM"):  # bits a pixel, where every header but the oldest (12 bytes) has it
        return data[28:30] == b"\x20\x00"
    try:
        with Image.open(io.BytesIO(data), formats=PICTURE_FORMATS) as image:
            return has_transparency(image)
    except Image.DecompressionBombError:
        return True  # Pillow's reading names it too large
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return False  # no header Pillow reads: decoding names what is wrong


def _refuse_non_faces(shape: tuple[int, ...], path: Path) -> None:
    """A picture too small or too long to be a face crop: a 1x1 PNG and a 4000x10 strip were
    read as faces, each enlarged or squeezed to 48x48."""
    h, w = shape
    if min(h, w) < MIN_FACE_SIDE:
        raise FacialEmotionError(
            f"{path}: {w}x{h} pixels, too small to hold a face (a face crop has {MIN_FACE_SIDE} "
            "or more a side); remove it"
        )
    if max(h, w) > MAX_FACE_ASPECT * min(h, w):
        raise FacialEmotionError(
            f"{path}: {w}x{h} pixels, too long and thin to be a face crop; crop it to the face "
            "or remove it"
        )


def _refuse_oversized(data: bytes, path: Path) -> None:
    """Pillow's pixel limit, as ``predict`` applies it, read from the header: OpenCV decodes up to
    a billion pixels (a 24 KB PNG of 200 million took 480 MB) and past that fails an assertion."""
    try:
        Image.open(io.BytesIO(data), formats=PICTURE_FORMATS).close()
    except Image.DecompressionBombError as exc:
        raise too_large(path) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        pass  # no header Pillow reads: decoding below names what is wrong


# Start-of-frame markers (C0-CF but DHT C4, JPG C8 and DAC CC), whose header gives the components
_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _cmyk_jpeg(data: bytes) -> bool:
    """A JPEG whose frame header names four components (CMYK or YCCK), found by walking its
    header's segments. OpenCV turns its inks gray by a rounding of its own (>> 8 for / 255),
    which read a CMYK photo one level brighter on average than ``predict``'s Pillow does:
    Pillow reads those. A header the walk does not follow is left to OpenCV, as before."""
    at = 2 if data.startswith(b"\xff\xd8") else len(data)
    while at + 10 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:  # a fill byte before the marker
            at += 1
        elif marker in _FRAME_MARKERS:
            return data[at + 9] == 4  # after length, precision, height and width
        elif marker == 0xDA:  # a scan before any frame: not a picture OpenCV decodes either
            return False
        else:
            at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return False


def _unfinished_jpeg(data: bytes) -> bool:
    """A JPEG not ending in its end-of-image marker: cut short (OpenCV would fill the missing
    rows with flat gray, without a word) or followed by other bytes. Pillow tells them apart."""
    return data[:2] == b"\xff\xd8" and data[-2:] != b"\xff\xd9"


def to_gray48(image: np.ndarray) -> np.ndarray:
    """Resize a grayscale image to 48x48: INTER_AREA to shrink, INTER_LINEAR to enlarge.

    OpenCV recommends INTER_AREA for shrinking; for enlarging it degrades to near-neighbour
    blocks, so small images are enlarged bilinearly instead.
    """
    if image.shape == (IMAGE_SIZE, IMAGE_SIZE):
        return image
    shrinking = min(image.shape) >= IMAGE_SIZE
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=interpolation)


def _read_with_pillow(path: Path, data: bytes) -> np.ndarray:
    """Formats OpenCV cannot decode (GIF, 32-bit TIFF, ...) and unfinished JPEGs, read by Pillow
    from the file's ``data`` by the rule predict reads them by: a cut file or 32-bit pixels stop
    with their file named."""
    try:
        with Image.open(io.BytesIO(data), formats=PICTURE_FORMATS) as image:
            pixels = file_pixels(image, lambda: data, path)
    except UnidentifiedImageError as exc:
        raise FacialEmotionError(
            f"{path}: not a readable image (corrupt, unsupported or unreadable); "
            "remove or replace the file"
        ) from exc
    except Image.DecompressionBombError as exc:  # a small file claiming a huge picture
        raise too_large(path) from exc
    except DAMAGED_FILE_ERRORS as exc:
        raise FacialEmotionError(
            f"{path}: damaged or truncated image ({str(exc).splitlines()[0]}); "
            "remove or replace the file"
        ) from exc
    return pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)


def read_many(
    paths: Sequence[Path], desc: str, on_unsquare: Callable[[Path], None] | None = None
) -> np.ndarray:
    """Read many image files into a uint8 (N, 48, 48) array, with a progress bar on stderr;
    files far from square go to ``on_unsquare``."""
    return read_each(paths, desc, lambda path: read_gray48(path, on_unsquare))[0]


def read_each(
    paths: Sequence[Path],
    desc: str,
    read: Callable[[Path], np.ndarray | None],
    chunk: int = _READ_CHUNK,
) -> tuple[np.ndarray, np.ndarray]:
    """``read`` of each file as a uint8 (N, 48, 48) array, and which files it found a face in
    (``read`` gives None for the others, whose rows stay blank), with a progress bar on stderr.

    Threads each read a chunk of files: OpenCV decodes outside the GIL, and chunks keep the
    per-task overhead below the cost of decoding a 48x48 JPEG (measured: 4 threads x 128 files
    read FER2013's 28.7k JPEGs ~1.4x faster than one loop; one task per file was slower than
    the loop); a ``read`` that searches photos for faces takes smaller chunks. Bad files stop
    the read once every file is read, with the first one's error and how many more there are:
    stopping at the first left a folder of 300,000 images with 5 bad ones to 5 runs of minutes.
    """
    images = np.zeros((len(paths), IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    found = np.ones(len(paths), dtype=bool)
    bad: list[tuple[int, FacialEmotionError]] = []

    def read_chunk(start: int) -> int:
        stop = min(start + chunk, len(paths))
        for i in range(start, stop):
            try:
                face = read(paths[i])
            except FacialEmotionError as exc:
                bad.append((i, exc))
                continue
            if face is None:
                found[i] = False
            else:
                images[i] = face
        return stop - start

    workers = min(16, 2 * (os.cpu_count() or 1))
    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        progress_bar(len(paths), desc=desc, unit="img") as bar,
        opencv_log_silenced(),
        warnings.catch_warnings(),  # entered here, once: the threads share its filters
    ):
        # Pillow warns from 89 million pixels (a large photo reads fine, as predict reads it) and
        # refuses from twice that, in one line: its warning printed "could be decompression bomb
        # DOS attack" and its source line in prepare's output for a 12000x9000 photo
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            for done in pool.map(read_chunk, range(0, len(paths), chunk)):
                bar.update(done)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    if bad:
        raise bad_files(sorted(bad, key=lambda b: b[0]), paths, desc)
    return images, found


# Bad files named besides the first: named by one, a folder with 5 bad files still took 3 runs
# of minutes each to find them all
NAMED_BAD_FILES = 10


def bad_files(
    bad: list[tuple[int, FacialEmotionError]], paths: Sequence[Path], desc: str
) -> FacialEmotionError:
    """The first bad file's error, and the others the read found (``bad`` in file order): up
    to ``NAMED_BAD_FILES`` of them by name, and how many more."""
    first = str(bad[0][1])
    if len(bad) == 1:
        return FacialEmotionError(first)
    others = [str(paths[i]) for i, _ in bad[1 : 1 + NAMED_BAD_FILES]]
    unnamed = len(bad) - 1 - len(others)
    more = f" and {unnamed} more" if unnamed else ""
    return FacialEmotionError(
        f"{first}; {desc} holds {counted(len(bad) - 1, 'more bad image')}: "
        f"{', '.join(others)}{more}; fix them all before running again"
    )


# Split folder names, lower-cased, as Kaggle, Roboflow and FER2013's Usage column spell them
SPLIT_FOLDERS: dict[str, tuple[str, ...]] = {
    "train": ("train", "training"),
    "val": ("val", "validation", "valid", "dev", "publictest"),
    "test": ("test", "testing", "privatetest"),
}
SPLIT_NAMES = frozenset(n for names in SPLIT_FOLDERS.values() for n in names)


# What a data set that labels its images in a file rather than by folder keeps the labels in
LABEL_LISTS = (".txt", ".csv", ".tsv", ".json")
# ... and a table of them beside the images it labels (FER+'s label.csv) is one too; a .txt there
# is more likely a note about the class
LABEL_TABLES = (".csv", ".tsv")
SORT_INTO_FOLDERS = (
    "sort the images into <emotion>/ folders (data.md, folder: labels in a list or in file names)"
)


def class_folders(
    root: Path, on_other: Callable[[Path], None] | None = None
) -> dict[str, list[Path]]:
    """The ``<root>/<label>/**`` image files by folder name; every class folder must hold images.
    Files that are not images go to ``on_other``."""
    return {folder.name: _class_images(folder, on_other) for folder in _class_dirs(root)}


def _class_dirs(root: Path) -> list[Path]:
    """``root``'s class folders (see ``_refuse_loose_images``)."""
    # by name, case kept, as paths.image_files sorts: Windows paths compare without case
    folders = sorted(
        (p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")),
        key=lambda p: p.name,
    )
    loose = sorted(p.name for p in root.iterdir() if p.is_file() and is_image_name(p.name))
    _refuse_loose_images(root, folders, loose)
    return folders


def _refuse_loose_images(root: Path, folders: list[Path], loose: list[str]) -> None:
    """Refuse a data set folder without class folders, or with images no folder labels."""
    if not folders and loose:  # JAFFE's KA.AN1.39.tiff, KDEF's AF01ANS.JPG: a label in the name
        raise FacialEmotionError(
            f"{root}: {counted(len(loose), 'image')} (such as {loose[0]}) and no class folders; "
            f"labels are read from folder names, not file names: {SORT_INTO_FOLDERS}"
        )
    if not folders:
        raise FacialEmotionError(
            f"{root}: no class folders; put images in one sub-folder per emotion "
            "(<root>/<emotion>/*.png) or point data.path (or --data) at such a folder"
        )
    if loose:
        raise FacialEmotionError(
            f"{root}: holds {counted(len(loose), 'image file')} beside its class folders (such as "
            f"{loose[0]}), which no folder labels; move them into a class folder or elsewhere"
        )


def _class_images(folder: Path, on_other: Callable[[Path], None] | None) -> list[Path]:
    """A class folder's image files, refused where it is a split's folder or holds none or a
    label list; its other files go to ``on_other`` once it passes."""
    if folder.name.lower() in SPLIT_NAMES:  # Training/ and Testing/ read as two "emotions"
        raise FacialEmotionError(
            f"{folder}: is named as a split, not a class; put <emotion>/ folders in train/ "
            "with val/ and test/ (or validation/, valid/, testing/) beside it"
        )
    others: list[Path] = []
    images = image_files(folder, on_other=others.append)
    _refuse_label_lists(folder, images, others)
    if not images:
        raise FacialEmotionError(
            f"{folder}: class folder has no images; add images to it or remove the folder"
        )
    if on_other is not None:
        for other in others:
            on_other(other)
    return images


def _refuse_label_lists(folder: Path, images: list[Path], others: list[Path]) -> None:
    """Refuse a class folder holding a label list: its labels would not be read."""
    lists = [p.name for p in others if p.suffix.lower() in LABEL_LISTS]
    if not images and lists:  # RAF-DB's EmoLabel/list_patition_label.txt
        raise FacialEmotionError(
            f"{folder}: holds {lists[0]}, a label list, and no images; lists are not read, "
            f"labels come from folder names: {SORT_INTO_FOLDERS}"
        )
    if tables := [p.name for p in others if p.suffix.lower() in LABEL_TABLES]:
        # FER+'s FER2013Train/label.csv: a class per split, and a model telling them apart
        raise FacialEmotionError(
            f"{folder}: holds {tables[0]}, a label list, beside its images; lists are not "
            f"read, labels come from folder names, so all {len(images)} images "
            f"would be class {canonical(folder.name)!r}: {SORT_INTO_FOLDERS}, or move "
            f"{tables[0]} out if it labels nothing"
        )


def unsquare_files(unsquare: list[Path], read: int, root: Path) -> dict[str, object]:
    """What the manifest records of images read whole that are far from square, for prepare's
    warning: a folder of photos trained on shrunken, squeezed scenes without a word."""
    if not unsquare:
        return {}
    return {
        "unsquare_files": len(unsquare),
        "unsquare_of": read,
        "unsquare_example": str(min(unsquare).relative_to(root)),
    }


def skipped_files(others: list[Path], root: Path) -> dict[str, object]:
    """What the manifest records of the files a folder data set skipped, for prepare's warning."""
    if not others:
        return {}
    return {"skipped_files": len(others), "skipped_example": str(min(others).relative_to(root))}


def skipped_note(source: dict[str, object], path: str | Path) -> str | None:
    """One line on the files :func:`skipped_files` recorded, or None: prepare warns of them, and
    evaluate, which skipped an iPhone's .heic photos and scored the rest without a word."""
    skipped = source.get("skipped_files")
    if not isinstance(skipped, int) or not skipped:
        return None
    return (
        f"{path}: skipped {counted(skipped, 'file')} that "
        f"{'is not an image' if skipped == 1 else 'are not images'} Pillow "
        f"reads (such as {source['skipped_example']}); convert any that are faces to JPEG or PNG"
    )


def unpacked_name(path: Path) -> str:
    """The lower-case name of ``path`` without a compression suffix: ``fer2013.csv.gz`` →
    ``fer2013.csv``, ``fer2013.tar.gz`` → ``fer2013.tar``."""
    name = path.name.lower()
    return os.path.splitext(name)[0] if name.endswith(CSV_PACKINGS) else name


def reads_as_csv(path: Path) -> bool:
    """Whether :func:`read_pixel_csv` reads the file ``path``: a CSV, compressed or not
    (``.csv.gz``, ...), a tar of one (``fer2013.tar.gz``) or a zip holding one."""
    if unpacked_name(path).endswith((".csv", ".tar")):
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.lower().endswith(".csv") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def unpack_hint(path: Path) -> str | None:
    """What to do with a data file that is an archive: unpack it and point at the CSV it
    holds, or at the folder it makes (Kaggle's FER2013 zip holds image folders). None for a file
    that is no archive."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names, how = archive.namelist(), "unzip it"
    elif tarfile.is_tarfile(path):
        try:
            with tarfile.open(path) as archive:
                names = archive.getnames()
        except _BROKEN_PACKING:
            names = []
        how = "unpack it (tar -xf)"
    elif path.name.lower().endswith(UNREAD_PACKINGS):
        names, how = [os.path.splitext(path.name)[0]], "unpack it"  # fer2013.csv.zst: a CSV
    else:
        return None
    target = (
        "the CSV inside"
        if any(n.lower().endswith(".csv") for n in names)
        else "the folder it makes"
    )
    return f"{how} and point data.path (or --data) at {target}"


def read_pixel_csv(path: Path, required: Sequence[str]) -> pd.DataFrame:
    """A FER2013-style CSV as text columns (names stripped, so ``emotion, Usage`` also works),
    indexed by each row's line number in the file, which blank lines do not shift."""
    try:
        table = pd.read_csv(  # index_col=False: a comma ending every row is no index column
            path,
            dtype=object,
            keep_default_na=False,
            skipinitialspace=True,
            skip_blank_lines=False,
            index_col=False,
        )
    except pd.errors.EmptyDataError:  # pandas' word for an empty first line, or file
        table = pd.DataFrame()
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, ImportError, KeyError) as exc:
        # ValueError: pandas' parse errors and archives of several files (Kaggle's fer2013.tar.gz
        # also holds a README); ImportError: a .zst without the zstandard package; KeyError: a
        # tar whose CSV is a link to a file outside it.
        fix = unpack_hint(path) or "use the data set's original CSV file"
        raise FacialEmotionError(f"{path}: not a readable CSV ({_reason(exc)}); {fix}") from exc
    except _BROKEN_PACKING as exc:
        if isinstance(exc, OSError) and exc.errno is not None:  # the file itself, not its packing
            raise FacialEmotionError(
                f"{path}: cannot be read ({exc.strerror}); check the path"
            ) from exc
        raise FacialEmotionError(
            f"{path}: cut short or damaged ({_reason(exc)}); download it again"
        ) from exc
    if table.columns.empty:  # also what one blank first line gives
        raise FacialEmotionError(
            f"{path}: no header on the first line; it must be the header emotion,pixels,Usage, "
            "as in the original fer2013.csv"
        )
    table.index = pd.RangeIndex(2, len(table) + 2)  # line 1 is the header
    table = table[~(table == "").all(axis=1)]  # blank lines
    if table.empty:
        raise FacialEmotionError(
            f"{path}: a header and no rows; use the data set's original CSV file"
        )
    # In any case (Emotion,Pixels,Usage): spreadsheet tools capitalise headers
    spelt = {name.lower(): name for name in (*required, "Usage")}
    table.columns = [spelt.get(str(c).strip().lower(), str(c).strip()) for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing and "Image name" in table.columns:  # FER+'s fer2013new.csv
        raise FacialEmotionError(
            f"{path}: a FER+ label file (annotators' votes per emotion, no pixels), which is not "
            "read; point data.path at the original fer2013.csv it relabels"
        )
    if missing:
        raise FacialEmotionError(
            f"{path}: CSV lacks column(s) {', '.join(missing)} (has {_shown(table.columns)}); "
            "its first line must be the header emotion,pixels,Usage, as in the original fer2013.csv"
        )
    return table


def _reason(exc: Exception) -> str:
    """An exception's first line, cut short: pandas names every file of an archive."""
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return reason if len(reason) <= 100 else f"{reason[:100]}..."


def _shown(columns: Sequence[str], most: int = 3, width: int = 16) -> str:
    """Column names cut short: without a header line, a whole row of 2,304 pixels is a "name"."""
    names = [f"{c[:width]}..." if len(c) > width else c for c in columns[:most]]
    more = f", ... ({len(columns)} in all)" if len(columns) > most else ""
    return ", ".join(names) + more


def csv_labels(values: pd.Series, n_labels: int, path: Path) -> np.ndarray:
    """The ``emotion`` column (indexed by line) as int64 indices in ``0..n_labels-1``; a bad value
    names its line."""
    labels = pd.to_numeric(values, errors="coerce").to_numpy()
    bad = np.flatnonzero(~np.isin(labels, np.arange(n_labels)))
    if bad.size:
        row = int(bad[0])
        ckplus = n_labels == len(EMOTIONS) and labels[row] == len(EMOTIONS)  # CK+'s contempt
        fix = (
            "a CK+ CSV, with 8 labels, needs data.source=ckplus (evaluate: --source ckplus)"
            if ckplus
            else "fix or remove that row"
        )
        shown = _shown([str(values.iloc[row])], width=20)  # not a row of 2,304 pixels
        raise FacialEmotionError(
            f"{path}: line {values.index[row]} has emotion {shown!r}, expected an "
            f"integer 0..{n_labels - 1}; {fix}"
        )
    return labels.astype(np.int64)


def csv_pixels(column: pd.Series, path: Path) -> np.ndarray:
    """Space-separated pixel strings (indexed by line) as uint8 (N, 48, 48), parsed in numpy chunk
    by chunk.

    Each chunk is parsed in one numpy call; only a chunk that fails the checks is re-read row by
    row, which tolerates odd whitespace and names the first bad line.
    """
    rows, lines = column.tolist(), column.index.to_numpy()
    images = np.empty((len(rows), PIXELS), dtype=np.uint8)
    with progress_bar(len(rows), desc=f"{path.name} pixels", unit="row") as bar:
        for start in range(0, len(rows), _CSV_CHUNK_ROWS):
            chunk = rows[start : start + _CSV_CHUNK_ROWS]
            parsed = _parse_regular(chunk)
            if parsed is None:
                parsed = _parse_rows(chunk, lines[start : start + len(chunk)], path)
            images[start : start + len(chunk)] = parsed
            bar.update(len(chunk))
    return images.reshape(-1, IMAGE_SIZE, IMAGE_SIZE)


def _parse_regular(chunk: Sequence[str]) -> np.ndarray | None:
    """Rows of 2304 numbers 0..255 joined by single spaces, parsed at once; else None.

    With 2303 spaces in every row, 2304 numbers per row in all means each row has 2304.
    """
    if any(row.count(" ") != PIXELS - 1 for row in chunk):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy warns, and stops early, at text it cannot parse
        try:
            values = np.fromstring("\n".join(chunk), dtype=np.int32, sep=" ")
        except (ValueError, DeprecationWarning):
            return None
    if values.size != len(chunk) * PIXELS or values.min() < 0 or values.max() > 255:
        return None
    return values.reshape(len(chunk), PIXELS)


def _parse_rows(chunk: Sequence[str], lines: np.ndarray, path: Path) -> np.ndarray:
    """Row-by-row parse, tolerant of odd whitespace, that names the first bad line."""
    images = np.empty((len(chunk), PIXELS), dtype=np.uint8)
    for i, (row, line) in enumerate(zip(chunk, lines, strict=True)):
        tokens = row.split(maxsplit=PIXELS)  # a 40 MB row split whole took 856 MB
        if len(tokens) != PIXELS:
            found = sum(1 for _ in re.finditer(r"\S+", row))
            raise FacialEmotionError(
                f"{path}: line {line} has {found} pixel values, expected {PIXELS} (48x48); "
                "fix or remove that row"
            )
        try:
            values = np.array(tokens, dtype=np.int64)
            valid = values.min() >= 0 and values.max() <= 255
        except ValueError:
            valid = False
        if not valid:
            raise FacialEmotionError(
                f"{path}: line {line} has pixel values that are not integers 0..255; "
                "fix or remove that row"
            )
        images[i] = values
    return images
