"""A picture file's pixels as Pillow reads them, one rule for ``predict`` and for the training data
``prepare`` reads, so neither takes a file the other refuses.

A module of its own (no model, no face detection) so that ``prepare`` depends on this rule only.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from facial_emotion.errors import FacialEmotionError

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage
    from PIL.ImageFile import ImageFile


# The Pillow readers of the picture files the project takes (paths.IMAGE_EXTENSIONS; the JPEG
# reader also opens cameras' multi-picture JPEGs). Pillow has some forty more, EPS among them,
# which hands the file to Ghostscript: an upload named .jpg would reach it.
PICTURE_FORMATS = ("BMP", "DIB", "GIF", "JPEG", "JPEG2000", "PPM", "PNG", "TIFF", "WEBP")


# A progressive JPEG has about 10 scans. Each repeat of one costs a few bytes and makes the decoder
# walk every block of the picture again: 2,000 extra scans (44 KB) of a 4 MP picture took 5 s, and
# at the app's 100 MP cap one small upload would hold it for hours (a "scan bomb").
MAX_JPEG_SCANS = 100
MAX_JPEG_SEGMENTS = 10_000  # a progressive photo has two or three per scan
# Bytes between a JPEG's segments before its first scan (fill bytes, FF 00, restart markers), which
# writers never put there and Pillow's header reader walks one at a time in Python before any
# check: 50 MB of them took 13 s of a core to open
MAX_JPEG_PADDING = 65_536


# A marker libjpeg acts on, found from anywhere (between segments or in a scan's coded data): 0xFF,
# after any fill bytes 0xFF, then C0-CF or D8-FE. libjpeg passes over every other 0xFF pair: FF 00
# is a stuffed 0xFF in coded data and stray bytes elsewhere, TEM (01) and the restart markers
# (D0-D7) have no segment, and a reserved marker (02-BF) met at a restart point is skipped to the
# next marker (jpeg_resync_to_restart; anywhere else the decoder stops at it). Reading a length
# after any of those let a file hide thousands of scans behind one bogus jump.
_NEXT_MARKER = re.compile(rb"\xff[\xc0-\xcf\xd8-\xfe]")


def jpeg_markers(data: bytes) -> tuple[list[int], int]:
    """The segment markers of a JPEG's first picture, found by walking its segments as the decoder
    does, up to one past ``MAX_JPEG_SEGMENTS``, and the bytes between them before its first scan.
    A search of the whole file for the start-of-scan marker counted an EXIF thumbnail's scans
    too, and a phone's "motion photo", whose video follows the picture, as hundreds."""
    markers: list[int] = []
    at, padding, scanned = 2, 0, False
    while len(markers) <= MAX_JPEG_SEGMENTS and (found := _NEXT_MARKER.search(data, at)):
        if not scanned:
            padding += found.start() - at
        at = found.start()
        marker = data[at + 1]
        if marker in (0xD8, 0xD9):  # end of image, or a second start of image, which it refuses
            break
        markers.append(marker)
        scanned = scanned or marker == 0xDA
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")  # the segment, its length included
    return markers, padding  # a scan's coded data follows its header (0xDA): the search skips it


def require_few_scans(data: bytes, name: str | Path) -> None:
    """Refuse a JPEG of more scans than cameras and editors write, or of so many segments or bytes
    between them that reading them would take seconds (50 MB of empty comments took 6.7 s)."""
    markers, padding = jpeg_markers(data)
    if len(markers) > MAX_JPEG_SEGMENTS or padding > MAX_JPEG_PADDING:
        raise FacialEmotionError(
            f"{name}: a JPEG of over {MAX_JPEG_SEGMENTS} segments or {MAX_JPEG_PADDING} bytes "
            "between them (photos have a few hundred segments and no such bytes); save it again "
            "as an ordinary JPEG"
        )
    scans = markers.count(0xDA)
    if scans > MAX_JPEG_SCANS:
        raise FacialEmotionError(
            f"{name}: a JPEG of {scans} scans (photos have a few dozen at most), which would take "
            "minutes to decode; save it again as an ordinary JPEG"
        )


# Sizes of TIFF's value types (BYTE, ASCII, SHORT, LONG, RATIONAL, ...; 16-18 are BigTIFF's)
TIFF_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
TIFF_TYPE_SIZES |= {16: 8, 17: 8, 18: 8}
SUB_DIRECTORIES = (0x8769, 0x8825, 0xA005)  # EXIF's own, GPS and Interop, read with EXIF
MAX_DIRECTORIES = 64


def tag_bytes(data: bytes) -> int:
    """Bytes of tag data the directories of a TIFF, or of an EXIF block (a TIFF header of its
    own), name, counted as Pillow reads them: each tag's data whole, however many tags name the
    same bytes. Pillow reads every tag of a TIFF as it opens it and of EXIF as it reads the
    orientation: 100 tags naming the same 10 MB took 1 GB and 6 s to open, and a 10 MB PNG's
    EXIF block of 300 such tags 7.5 GB and more than 100 s (a "tag bomb")."""
    big = data[2:4] in (b"+\x00", b"\x00+")  # BigTIFF: 8-byte offsets and counts
    if data[:4] not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return 0
    if len(data) < (16 if big else 8):  # a header cut short: Pillow calls the file damaged
        return 0
    order = "<" if data[:2] == b"II" else ">"
    offset, count, entry = (order + "Q", order + "Q", 20) if big else (order + "I", order + "H", 12)
    inline = 8 if big else 4
    pending = [struct.unpack_from(offset, data, 8 if big else 4)[0]]
    seen: set[int] = set()
    total = 0
    while pending and len(seen) < MAX_DIRECTORIES:
        at = pending.pop()
        if not at or at in seen or at + 8 > len(data):  # 0: the chain's end, not a directory
            continue
        seen.add(at)
        entries = struct.unpack_from(count, data, at)[0]
        start = at + (8 if big else 2)
        for e in range(start, min(start + entries * entry, len(data) - entry + 1), entry):
            tag, kind = struct.unpack_from(order + "HH", data, e)
            n, value = struct.unpack_from(order + ("QQ" if big else "II"), data, e + 4)
            size = TIFF_TYPE_SIZES.get(kind, 0) * n
            if size > inline:  # held elsewhere, and read from there up to the end of the data
                total += min(size, max(len(data) - value, 0))
            if tag in SUB_DIRECTORIES:
                pending.append(value)
        after = start + entries * entry  # the next directory's offset (a thumbnail's)
        if after + struct.calcsize(offset) <= len(data):
            pending.append(struct.unpack_from(offset, data, after)[0])
    return total


def require_plain_tags(data: bytes, name: str | Path) -> None:
    """Refuse a TIFF or EXIF block whose tags name more bytes than twice its own size: a file's
    tags each hold bytes of their own, so only tags naming the same bytes again reach that."""
    if (named := tag_bytes(data)) > 2 * len(data):
        raise FacialEmotionError(
            f"{name}: its TIFF or EXIF tags name {named} bytes, far more than the "
            f"{len(data)} they are stored in, which would take that much memory to read; save "
            "the picture again without its metadata"
        )


def unreadable(path: str | Path) -> FacialEmotionError:
    """A file the user may not read: not "damaged", as copying it again would not help."""
    return FacialEmotionError(
        f"{path}: cannot be read (permission denied); give your user read access to it"
    )


def too_large(name: str | Path) -> FacialEmotionError:
    """Past Pillow's limit (twice ``Image.MAX_IMAGE_PIXELS``), where a small file can be a
    decompression bomb."""
    from PIL import Image

    limit = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
    return FacialEmotionError(
        f"{name}: image is too large to read safely (over {limit:.0f} million pixels); "
        "scale it down first"
    )


def sixteen_bits_as_8(pixels: np.ndarray) -> np.ndarray:
    """16-bit pixels as 8-bit: their top bytes, as OpenCV and Pillow read them, unless every value
    is below 256. Such a file holds an 8-bit picture saved in 16 bits, whose top bytes are all 0:
    it was read black, so a face in it was never found. ``pixels`` must be the caller's own
    uint16 array: it is shifted in place (a 100-megapixel colour copy is 600 MB)."""
    if pixels.max(initial=0) >= 256:
        np.right_shift(pixels, 8, out=pixels)
    return pixels.astype(np.uint8)


# What Pillow raises on a damaged file: mostly OSError, ValueError or SyntaxError, but a tag of
# the wrong type (a TIFF's strip offsets given as a fraction) ends in a TypeError from its
# decoder, which was a traceback
DAMAGED_FILE_ERRORS = (OSError, ValueError, SyntaxError, TypeError)


def file_pixels(img: ImageFile, contents: Callable[[], bytes], name: str | Path) -> np.ndarray:
    """:func:`pil_pixels` of an opened file whose bytes ``contents`` gives, but a 16-bit colour
    PNG, TIFF or PPM is decoded by OpenCV: Pillow reads each value's top byte only, so 8-bit
    colours saved in 16 bits (``cv2.imwrite`` of a uint16 array) were read black and no face was
    found."""
    if _colour_of_16_bits(img):
        data = contents()
        # a colour key (tRNS) too, which OpenCV turns into alpha: its colour was read (black)
        keyed = img.mode == "RGBA" or "transparency" in img.info
        deep = _transparent_16_bit_as_8(img, data, name) if keyed else None
        if deep is None:
            deep = _colour_16_bit_as_8(data)
        if deep is not None:
            return deep
    return pil_pixels(img, name)


def _colour_of_16_bits(img: ImageFile) -> bool:
    """A 16-bit colour PNG, TIFF or PPM, as its tiles, not yet decoded, name its raw mode (a PPM:
    its largest value, 65535)."""
    if img.format not in ("PNG", "TIFF", "PPM") or img.mode not in ("RGB", "RGBA") or not img.tile:
        return False
    args = img.tile[0][3]  # by index: a plain tuple before Pillow 11, which has no .args
    if img.format == "PPM":
        # a maxval of 65535 only: Pillow scales others (10-bit: 1023) to 0..255, OpenCV does not
        return isinstance(args, tuple) and len(args) > 1 and args[1] == 65535
    rawmode = args if isinstance(args, str) else args[0] if isinstance(args, tuple) else None
    return isinstance(rawmode, str) and ";16" in rawmode


def _colour_16_bit_as_8(data: bytes) -> np.ndarray | None:
    """RGB uint8 pixels of a 16-bit colour picture, turned upright by its EXIF orientation (PNG's
    eXIf, TIFF's tag), which OpenCV applies itself: its values where all are below 256 (an 8-bit
    picture saved in 16 bits), else their top bytes as Pillow reads them. Alpha is left out, as
    Pillow leaves it. None where OpenCV cannot decode it. (Asking Pillow for the orientation
    decoded a whole PNG, and turning OpenCV's upright pixels again turned them upside down.)"""
    import cv2

    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
    if bgr is None or bgr.dtype != np.uint16:
        return None
    return cv2.cvtColor(sixteen_bits_as_8(bgr), cv2.COLOR_BGR2RGB)


def _transparent_16_bit_as_8(img: PILImage, data: bytes, name: str | Path) -> np.ndarray | None:
    """:func:`_colour_16_bit_as_8` of a 16-bit colour picture with alpha, its transparent and
    part-transparent pixels laid over white as :func:`on_background` lays 8-bit ones: OpenCV's
    colour decoding drops alpha, and the colour hidden under it was read (black, or noise). Alpha
    needs OpenCV's unchanged decoding, which leaves the EXIF orientation to Pillow's tag. None
    where OpenCV decodes no 16-bit alpha."""
    import cv2
    from PIL import ExifTags, Image, ImageOps

    bgra = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if bgra is None or bgra.dtype != np.uint16 or bgra.ndim != 3 or bgra.shape[2] != 4:
        return None
    # colour and alpha each read as 8-bit values saved in 16 bits where all are below 256, as
    # sixteen_bits_as_8 reads colour (an alpha of 65535 over 8-bit colour was read so before)
    colour, alpha = bgra[..., :3], bgra[..., 3:]
    full = 65535 if colour.max(initial=0) >= 256 else 255
    opaque = alpha.astype(np.float32) / (65535 if alpha.max(initial=0) >= 256 else 255)
    white = full * BACKGROUND / 255
    flat = np.rint(colour * opaque + white * (1 - opaque)).astype(np.uint16)
    bgr = (flat >> 8 if full == 65535 else flat).astype(np.uint8)  # top bytes, as without alpha
    for block in exif_blocks(img):  # before Pillow reads their tags: see tag_bytes
        require_plain_tags(block, name)
    picture = Image.fromarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
    if orientation == 1:  # exif_transpose would copy the picture for nothing
        return np.asarray(picture)
    # the file's tag carried onto the new picture, turned as pil_pixels turns an 8-bit one
    picture.getexif()[ExifTags.Base.Orientation] = orientation
    return np.asarray(ImageOps.exif_transpose(picture))


def pil_pixels(img: PILImage, name: str | Path = "the image") -> np.ndarray:
    """A PIL image's pixels as uint8 RGB (or gray), turned upright by its EXIF tag."""
    from PIL import ExifTags, ImageOps

    for block in exif_blocks(img):  # before Pillow reads their tags: see tag_bytes
        require_plain_tags(block, name)
    # each step copies a whole picture when it has nothing to do: three extra copies of a 12 MP
    # photo were 40% of reading it
    if img.getexif().get(ExifTags.Base.Orientation, 1) != 1:
        img = ImageOps.exif_transpose(img)
    img = on_background(img)
    # PIL's convert("L") clips to white; a 16-bit PGM opens as 32-bit "I" holding 16-bit values
    if img.mode.startswith("I;16") or (img.mode == "I" and img.format == "PPM"):
        return sixteen_bits_as_8(np.asarray(img).astype(np.uint16))
    if img.mode in ("I", "F"):
        raise FacialEmotionError(
            f"{name}: 32-bit {'float' if img.mode == 'F' else 'integer'} pixels have no "
            "fixed range to read faces in; save the image with 8- or 16-bit pixels"
        )
    if img.mode == "La":  # premultiplied alpha, which PIL converts only to LA
        img = img.convert("LA")
    mode = "L" if img.mode in ("1", "L", "LA") else "RGB"
    return np.asarray(img if img.mode == mode else img.convert(mode))


# What a transparent pixel is read as: the white a viewer or a web page shows behind it. The colour
# a file keeps under full transparency is whatever its writer left there (black from most tools,
# white or the erased scene from others), never seen, yet it was read as the face's surroundings:
# one face cut out on a transparent background read neutral 0.83 over white, happy 0.70 over black.
BACKGROUND = 255


def on_background(img: PILImage) -> PILImage:
    """``img`` with its transparent and part-transparent pixels laid over white (``BACKGROUND``),
    gray kept gray, and ``img`` itself where it has no transparency. 32-bit and 16-bit gray modes
    are left as they are: Pillow converts them to RGBA by clipping to white."""
    from PIL import Image

    if img.mode.startswith(("I", "F")) or not has_transparency(img):
        return img
    gray = img.mode in ("1", "L", "LA", "La")
    # LA: PIL converts premultiplied "La" only to LA; RGBA: a palette's or a colour key's
    # transparency becomes alpha
    with_alpha = img.convert("LA" if gray else "RGBA")
    mode = "L" if gray else "RGB"
    flat = Image.new(mode, img.size, (BACKGROUND,) * len(mode))  # one number fills red alone
    flat.paste(with_alpha, mask=with_alpha.getchannel("A"))
    return flat


def has_transparency(img: PILImage) -> bool:
    """An alpha channel, or a palette's or colour key's transparency (Pillow 10.1's
    ``has_transparency_data``, which the Pillow 9.4 this package allows lacks)."""
    return img.mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in img.info


def exif_blocks(img: PILImage) -> list[bytes]:
    """The EXIF blocks Pillow would read the orientation from: a JPEG's, WebP's or PNG's (whose
    block may follow the pixels, read with them), and the hex one ImageMagick writes in PNG text."""
    if img.format == "PNG":
        img.load()  # as Pillow's getexif does when the block is not yet read
    blocks = []
    if isinstance(exif := img.info.get("exif"), bytes):
        blocks.append(exif)
    if isinstance(raw := img.info.get("Raw profile type exif"), str):
        try:
            blocks.append(bytes.fromhex("".join(raw.split("\n")[3:])))
        except ValueError:
            pass  # not hex: Pillow's own reading names it damaged
    # the header a JPEG's APP1 block starts with, which ImageMagick's text holds too
    return [block.removeprefix(b"Exif\x00\x00") for block in blocks]
