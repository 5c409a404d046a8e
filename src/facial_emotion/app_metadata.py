"""Strip an uploaded photo's metadata where Gradio keeps it, once the app has read it.

Gradio keeps each upload for up to an hour and serves the page's preview of it from that file, so
the file must stay a picture that looks the same; but its EXIF (GPS location, camera serial, date),
XMP and IPTC are personal data the app never needs. JPEG and PNG are rewritten losslessly: the
pixel data is copied as it is, and only the orientation tag is kept, so the preview still shows the
photo the way up the visitor saw it. Other formats are left as they are (see the README).
"""

from __future__ import annotations

import os
import struct
import tempfile
import zlib
from pathlib import Path

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
    if data[:2] != b"\xff\xd8":
        return None
    out, pos, orientation, size = [b"\xff\xd8"], 2, 1, len(data)
    while pos + 2 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xD9:  # end of image: whatever follows (a motion photo's video) goes
            out.append(b"\xff\xd9")
            break
        if pos + 4 > size:
            return None
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        end = pos + 2 + length
        if length < 2 or end > size:
            return None
        segment = data[pos:end]
        body = data[pos + 4 : end]
        if marker == 0xE1 and body.startswith(b"Exif\x00\x00"):
            if orientation == 1:  # the first block, as Pillow reads it
                orientation = _orientation(body[6:])
        elif 0xE0 <= marker <= 0xEF or marker == 0xFE:
            if body.startswith(_KEPT_APP.get(marker, b"\x00none")):
                out.append(segment)
        else:
            out.append(segment)
        pos = end
        if marker == 0xDA:  # a scan: copy its entropy-coded bytes up to the next marker
            scan = pos
            while (pos := data.find(b"\xff", pos)) != -1 and pos + 1 < size:
                if data[pos + 1] not in _IN_SCAN:
                    break
                pos += 1
            else:
                return None
            out.append(data[scan:pos])
    else:
        return None
    if orientation != 1:
        exif = b"Exif\x00\x00" + minimal_exif(orientation)
        # after JFIF's APP0, which must come first
        out.insert(
            2 if out[1][:2] == b"\xff\xe0" else 1,
            b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif,
        )
    return b"".join(out)


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


def strip_metadata(path: Path) -> bool:
    """Rewrite ``path`` without its metadata; False where it is left as it is (not a JPEG or a
    PNG, or one whose structure this walk does not follow)."""
    data = path.read_bytes()
    stripped = strip_jpeg(data) if data[:2] == b"\xff\xd8" else strip_png(data)
    if stripped is None:
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
