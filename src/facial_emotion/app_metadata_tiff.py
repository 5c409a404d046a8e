"""Strip a TIFF upload's metadata in place: see ``app_metadata``, which calls it.

A TIFF's pages are directories of tags, each naming where its values and pixel data are. Rather
than follow every directory (a page's EXIF directory may name bytes no reader finds again, and
such orphan bytes still held a camera serial in a multi-page file Pillow wrote), only the bytes
the first page needs are kept where they were; all the others are blanked.
"""

from __future__ import annotations

import struct

from facial_emotion.pictures import TIFF_TYPE_SIZES

# TIFF tags kept in the first page's directory: those that say how to draw it, the orientation and
# the colour profile. Make, Model, DateTime, Artist, Software, descriptions, XMP, IPTC, Photoshop's
# data, the EXIF and GPS directories, reduced copies (SubIFDs) and unknown tags go.
_KEPT_TIFF = frozenset((
    254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 274, 277, 278, 279, 280, 281, 282,
    283, 284, 290, 291, 292, 293, 296, 301, 317, 318, 319, 320, 321, 322, 323, 324, 325, 332, 334,
    338, 339, 340, 341, 347, 512, 513, 514, 515, 517, 518, 519, 520, 521, 529, 530, 531, 532,
    34675,
))  # fmt: skip
# where a directory's pixel data is: offsets tag, byte counts tag (strips, tiles, old-style JPEG)
_TIFF_DATA = ((273, 279), (324, 325), (513, 514))


Entry = tuple[int, int, int, int, int]  # tag, type, count, where its values are, where it is


class _Tiff:
    """A TIFF's (or BigTIFF's) directories, read from its bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        big = data[2:4] in (b"+\x00", b"\x00+")  # 8-byte offsets and counts
        self.order = "<" if data[:2] == b"II" else ">"
        self.offset = self.order + ("Q" if big else "I")
        self.count = self.order + ("Q" if big else "H")
        self.pair = self.order + ("QQ" if big else "II")  # an entry's count and value
        self.row = 20 if big else 12  # bytes of an entry
        self.inline = 8 if big else 4  # bytes of values held in the entry itself
        self.header = 16 if big else 8
        self.first = struct.unpack_from(self.offset, data, 8 if big else 4)[0]

    def directory(self, at: int) -> tuple[list[Entry], int] | None:
        """The entries of the directory at ``at``, and where the next one's offset is; None
        where it is not within the data."""
        if at + struct.calcsize(self.count) > len(self.data):
            return None
        start = at + struct.calcsize(self.count)
        after = start + struct.unpack_from(self.count, self.data, at)[0] * self.row
        if after + struct.calcsize(self.offset) > len(self.data):
            return None
        entries = []
        for row in range(start, after, self.row):
            tag, kind = struct.unpack_from(self.order + "HH", self.data, row)
            count, value = struct.unpack_from(self.pair, self.data, row + 4)
            inline = TIFF_TYPE_SIZES.get(kind, 0) * count <= self.inline
            entries.append((tag, kind, count, row + 4 + self.inline if inline else value, row))
        return entries, after

    def span(self, entry: Entry) -> tuple[int, int]:
        """The bytes an entry's values take, within the data."""
        _, kind, count, where, _ = entry
        end = min(where + TIFF_TYPE_SIZES.get(kind, 0) * count, len(self.data))
        return min(where, end), end

    def numbers(self, entry: Entry) -> list[int]:
        """An entry's values as whole numbers (offsets, byte counts); none where they are not."""
        _, kind, count, where, _ = entry
        code = {3: "H", 4: "I", 13: "I", 16: "Q", 18: "Q"}.get(kind)
        if code is None or where + TIFF_TYPE_SIZES[kind] * count > len(self.data):
            return []
        return list(struct.unpack_from(f"{self.order}{count}{code}", self.data, where))

    def pixel_spans(self, entries: list[Entry]) -> list[tuple[int, int]] | None:
        """The bytes a directory's strips or tiles take; None where a file names where they
        start but not their size (libtiff guesses it for some), which blanking would cut."""
        tags = {entry[0]: entry for entry in entries}
        spans = []
        for offsets, counts in _TIFF_DATA:
            if offsets in tags and counts not in tags:
                return None
            if offsets in tags:
                starts, sizes = self.numbers(tags[offsets]), self.numbers(tags[counts])
                spans += [
                    (a, min(a + b, len(self.data))) for a, b in zip(starts, sizes, strict=False)
                ]
        return spans


def strip_tiff(data: bytes) -> bytes | None:
    """``data`` holding only its header, its first page's directory with the tags that draw it,
    their values and that page's pixel data, each where it was; every other byte is blanked
    (other tags, the EXIF and GPS directories, other pages, and bytes no directory names), and
    the file ends after the last byte kept. None where it is not a TIFF this walk understands."""
    if data[:4] not in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+") or len(data) < 16:
        return None
    tiff = _Tiff(data)
    if tiff.first < tiff.header or (first := tiff.directory(tiff.first)) is None:
        return None
    entries, after = first
    kept = [entry for entry in entries if entry[0] in _KEPT_TIFF]
    if (pixels := tiff.pixel_spans(kept)) is None:
        return None
    out = bytearray(len(data))
    out[: tiff.header] = data[: tiff.header]
    spans = [*map(tiff.span, kept), *pixels]
    for start, end in spans:
        out[start:end] = data[start:end]
    # the first directory rewritten where it was: its kept entries, then no next page (the rest
    # of its old place blanked, values held in entries that went included)
    rows = b"".join(data[entry[4] : entry[4] + tiff.row] for entry in kept)
    directory = struct.pack(tiff.count, len(kept)) + rows + struct.pack(tiff.offset, 0)
    size = after + struct.calcsize(tiff.offset) - tiff.first
    out[tiff.first : tiff.first + size] = directory.ljust(size, b"\x00")
    end = max(tiff.first + len(directory), *(end for _, end in spans))
    return bytes(out[:end])
