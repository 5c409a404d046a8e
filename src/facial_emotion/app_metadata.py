"""Strip an uploaded picture's metadata where Gradio keeps it, once the app has read it.

Gradio keeps each upload for up to an hour and serves the page's preview of it from that file, so
the file must stay a picture that looks the same; but its EXIF (GPS location, camera serial, date),
XMP, IPTC and comments are personal data the app never needs. Each format the app reads that can
carry them is rewritten losslessly, its pixel data copied as it is (a lossy WebP is not encoded
again): JPEG, PNG and WebP keep only the orientation tag, so the preview still shows the photo the
way up the visitor saw it; TIFF keeps the tags that draw its first page; GIF and JPEG 2000 keep the
blocks that draw it. BMP and PPM have no such fields (a PPM header's comments, which programs
such as GIMP write their name in, stay; see the README).
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path

import numpy as np

from facial_emotion.app_metadata_tiff import strip_tiff

ORIENTATION = 0x0112
# after 0xFF in a scan's bytes: a stuffed 0xFF, a fill byte or a restart marker, not a segment
_IN_SCAN = frozenset((0x00, 0xFF, *range(0xD0, 0xD8)))
# JPEG segments kept: JFIF (APP0), ICC colour profile (APP2 "ICC_PROFILE") and Adobe (APP14),
# which tells decoders how to read a CMYK or YCCK picture's colours. Every other APPn (EXIF, XMP,
# IPTC, a maker's notes, the multi-picture index pointing at extra images) and comments go.
_KEPT_APP = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
# PNG chunks kept; the others (eXIf, tEXt, iTXt, zTXt, tIME, and any a program adds) go
_KEPT_PNG = {
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT",
    b"bKGD", b"pHYs", b"cICP", b"mDCV", b"cLLI", b"acTL", b"fcTL", b"fdAT",
}  # fmt: skip
# WebP chunks kept: the picture's, its alpha, colour profile and animation; EXIF and XMP go (the
# orientation written back), and so does any chunk a program adds
_KEPT_WEBP = frozenset((b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"))
_WEBP_EXIF, _WEBP_XMP = 0x08, 0x04  # their flags in the VP8X chunk
# GIF application extensions kept: the loop count and a colour profile; XMP and the others go, and
# so do comments and plain-text extensions (text no browser draws)
_KEPT_GIF_APPS = frozenset((b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"))
# JPEG 2000 boxes that go: XML (XMP, GML locations), UUID (EXIF, XMP, GeoTIFF), UUID info (URLs)
# and association boxes (labels with XML); the header and codestream boxes stay
_DROPPED_JP2 = frozenset((b"xml ", b"uuid", b"uinf", b"asoc"))


def minimal_exif(orientation: int) -> bytes:
    """An EXIF block (TIFF bytes, no "Exif" header) holding the orientation tag alone."""
    return (
        b"II*\x00\x08\x00\x00\x00\x01\x00"
        + struct.pack("<HHIHH", ORIENTATION, 3, 1, orientation, 0)
        + b"\x00" * 4
    )


def _orientation(block: bytes) -> int:
    """The orientation tag of an EXIF block (TIFF bytes), 1 (upright) where it has none."""
    from PIL import Image

    exif = Image.Exif()
    try:
        exif.load(block)
        value = exif.get(ORIENTATION, 1)
    except Exception:  # a damaged block: the app read the photo without it too
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def strip_jpeg(data: bytes) -> bytes | None:
    """``data`` without metadata, or None where it is not a JPEG this walk understands."""
    if data[:2] != b"\xff\xd8" or (walked := _jpeg_kept(data)) is None:
        return None
    segments, orientation = walked
    if orientation != 1:
        segments = _with_orientation(segments, orientation)
    return b"".join(segments)


def _jpeg_kept(data: bytes) -> tuple[list[bytes], int] | None:
    """The start of image, the segments and scans that stay and the end of image, with the
    orientation of the first EXIF block (1 where none); None where the walk loses its way."""
    kept, pos, orientation = [b"\xff\xd8"], 2, 1
    while (found := _jpeg_marker(data, pos)) is not None:
        marker, pos = found
        if marker == 0xD9:  # end of image: whatever follows (a motion photo's video) goes
            kept.append(b"\xff\xd9")
            return kept, orientation
        if (end := _segment_end(data, pos)) is None:
            return None
        body = data[pos + 4 : end]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            if orientation == 1:  # the first block, as Pillow reads it
                orientation = _orientation(body[6:])
        elif _kept_segment(marker, body):
            kept.append(data[pos:end])
        pos = end
        if marker == 0xDA:  # a scan: copy its entropy-coded bytes up to the next marker
            if (scan_end := _scan_end(data, pos)) is None:
                return None
            kept.append(data[pos:scan_end])
            pos = scan_end
    return None


def _jpeg_marker(data: bytes, pos: int) -> tuple[int, int] | None:
    """The marker at ``pos``, past any fill bytes, and where it starts; None where ``pos`` holds
    no marker or the data ends first."""
    while pos + 2 <= len(data):
        if data[pos] != 0xFF:
            return None
        if data[pos + 1] != 0xFF:
            return data[pos + 1], pos
        pos += 1  # a fill byte
    return None


def _segment_end(data: bytes, pos: int) -> int | None:
    """Where the segment whose marker is at ``pos`` ends; None where its length does not fit."""
    if pos + 4 > len(data):
        return None
    length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
    end = pos + 2 + length
    return end if length >= 2 and end <= len(data) else None


def _kept_segment(marker: int, body: bytes) -> bool:
    """Whether a segment stays: any but APPn and comments, and of those the ``_KEPT_APP``."""
    if 0xE0 <= marker <= 0xEF or marker == 0xFE:
        return body.startswith(_KEPT_APP.get(marker, b"\x00none"))
    return True


def _scan_end(data: bytes, pos: int) -> int | None:
    """Where the scan's entropy-coded bytes from ``pos`` end: at the first 0xFF that starts a
    marker (see ``_IN_SCAN``); None where the data ends first."""
    while (pos := data.find(b"\xff", pos)) != -1 and pos + 1 < len(data):
        if data[pos + 1] not in _IN_SCAN:
            return pos
        pos += 1
    return None


def _with_orientation(segments: list[bytes], orientation: int) -> list[bytes]:
    """``segments`` with an EXIF block holding ``orientation`` alone, after JFIF's APP0, which
    must come first, or else after the start of image."""
    exif = b"Exif\x00\x00" + minimal_exif(orientation)
    at = 2 if segments[1][:2] == b"\xff\xe0" else 1
    return [*segments[:at], b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif, *segments[at:]]


def strip_png(data: bytes) -> bytes | None:
    """``data`` without metadata chunks, or None where it is not a PNG this walk understands."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    out, pos, orientation = [data[:8]], 8, 1
    while pos + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            return None
        if kind == b"eXIf":
            orientation = _orientation(data[pos + 8 : pos + 8 + length])
        elif kind in _KEPT_PNG:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    else:
        return None
    if orientation != 1:
        exif = minimal_exif(orientation)
        chunk = b"eXIf" + exif
        out.insert(2, struct.pack(">I", len(exif)) + chunk + struct.pack(">I", zlib.crc32(chunk)))
    return b"".join(out)


def strip_webp(data: bytes) -> bytes | None:
    """``data`` without its EXIF, XMP and unknown chunks (the orientation kept), or None where
    it is not a WebP this walk understands. The image chunks are copied as they are."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    end = min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    chunks, pos, orientation = [], 12, 1
    while pos + 8 <= end:
        kind, size = struct.unpack("<4sI", data[pos : pos + 8])
        stop = pos + 8 + size + (size & 1)  # a chunk of odd size is padded to even
        if stop > end:
            return None
        if kind == b"EXIF":
            if orientation == 1:
                orientation = _orientation(data[pos + 8 : pos + 8 + size].removeprefix(b"Exif\0\0"))
        elif kind in _KEPT_WEBP:
            chunks.append(data[pos:stop])
        pos = stop
    if not chunks:
        return None
    if chunks[0][:4] == b"VP8X" and len(chunks[0]) == 18:
        flags = chunks[0][8] & ~(_WEBP_EXIF | _WEBP_XMP)
        if orientation != 1:  # after the image data, where the format puts EXIF
            flags |= _WEBP_EXIF
            exif = minimal_exif(orientation)
            chunks.append(b"EXIF" + struct.pack("<I", len(exif)) + exif)
        chunks[0] = chunks[0][:8] + bytes((flags,)) + chunks[0][9:]
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _gif_blocks_end(data: bytes, pos: int) -> int | None:
    """Where the sub-blocks starting at ``pos`` end, past their empty last one; None where the
    data ends first."""
    while pos < len(data):
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos
    return None


def strip_gif(data: bytes) -> bytes | None:
    """``data`` without comments, XMP and other extensions that do not draw it, or None where it
    is not a GIF this walk understands. The frames are copied as they are."""
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        return None
    pos = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)  # global colour table
    out = [data[:pos]]
    while pos < len(data):
        start = pos
        if data[pos] == 0x3B:  # the trailer: whatever follows goes
            out.append(b"\x3b")
            return b"".join(out)
        if data[pos] == 0x2C and pos + 10 <= len(data):  # a frame: its local colour table, the
            packed = data[pos + 9]  # LZW code size, then its data
            pos += 11 + (3 << ((packed & 7) + 1) if packed & 0x80 else 0)
            kept = True
        elif data[pos] == 0x21 and pos + 2 <= len(data):  # an extension
            label, pos = data[pos + 1], pos + 2
            kept = label == 0xF9 or (label == 0xFF and data[pos + 1 : pos + 12] in _KEPT_GIF_APPS)
        else:
            return None
        end = _gif_blocks_end(data, pos)
        if end is None:
            return None
        if kept:
            out.append(data[start:end])
        pos = end
    return None


def strip_jp2(data: bytes) -> bytes | None:
    """``data`` without its XML, UUID and association boxes, or None where it is not a JPEG 2000
    file (JP2) this walk understands. The codestream is copied as it is."""
    if data[:12] != b"\x00\x00\x00\x0cjP  \r\n\x87\n":
        return None
    out, pos = [], 0
    while pos < len(data):
        if pos + 8 > len(data):
            return None
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if length == 1 and pos + 16 <= len(data):  # a 64-bit length follows
            length, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        elif length == 0:  # the last box, to the end of the file
            length = len(data) - pos
        if length < header or pos + length > len(data):
            return None
        if kind not in _DROPPED_JP2:
            out.append(data[pos : pos + length])
        pos += length
    return b"".join(out)


def strip_metadata(path: Path, pixels: np.ndarray) -> bool:
    """Rewrite ``path``, which the app read as ``pixels``, without its metadata; False where it
    is left as it is (BMP, PPM, a raw JPEG 2000 codestream, a file whose structure these walks
    do not follow, or a TIFF whose stripped copy would not read as ``pixels``)."""
    data = path.read_bytes()
    for strip in (strip_jpeg, strip_png, strip_webp, strip_gif, strip_tiff, strip_jp2):
        if (stripped := strip(data)) is not None:
            break
    else:
        return False
    if strip is strip_tiff and not _reads_as(stripped, pixels):
        return False
    # replaced whole, so the preview Gradio serves meanwhile is the old file or the new one
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".strip-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(stripped)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return True


def _reads_as(kept: bytes, pixels: np.ndarray) -> bool:
    """Whether ``kept`` reads as ``pixels``, as the app reads a file. A TIFF is
    kept by the byte counts its directory gives, which a damaged one gets wrong and libtiff
    forgives (a count of 0 is recomputed): its stripped copy read as "truncated", so the file
    the page's preview is served from no longer showed the picture the app had read."""
    from facial_emotion.errors import FacialEmotionError
    from facial_emotion.predict import as_pixels

    try:
        return np.array_equal(as_pixels(kept), pixels)
    except FacialEmotionError:
        return False
