"""What a file holds, told by its bytes rather than its name: OpenCV reads a photo, or a sound
file's cover picture, as a one-frame video and fails on a sound file without one as on a damaged
file, so ``video`` looks for itself to say which."""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path

# First bytes of still-image files OpenCV's FFmpeg opens as a video of one frame
IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)
# First bytes of files that hold sound alone: MP3 (its ID3 tag), FLAC, WAV, AIFF
SOUND_SIGNATURES = (b"ID3", b"fLaC")
SOUND_RIFF = (b"WAVE", b"AIFF", b"AIFC")  # in a RIFF (WAV) or FORM (AIFF) header
# An Ogg file's first pages name each stream's codec: these are sound, the others pictures
OGG_SOUND = (b"\x01vorbis", b"OpusHead", b"\x7fFLAC", b"Speex   ")
OGG_PICTURES = (b"\x80theora", b"OVP80", b"BBCD\x00")  # Theora, VP8, Dirac
MATROSKA = b"\x1a\x45\xdf\xa3"
MATROSKA_TRACKS, MATROSKA_CLUSTER = b"\x16\x54\xae\x6b", b"\x1f\x43\xb6\x75"
# A Matroska track's CodecID element (0x86, a one-byte size) starts V_ for pictures, A_ for sound
MATROSKA_CODEC = re.compile(rb"\x86[\x81-\xbf]([VA])_")
HEAD = 64 * 1024  # where Ogg's and Matroska's track lists are (they precede the data)
MAX_MOOV = 64 * 1024 * 1024  # an MP4's index; a long video's is a few MB


def _head(path: str | Path, size: int = HEAD) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read(size)
    except OSError:  # unreadable: OpenCV's own failure says what it can
        return b""


def image_kind(path: str | Path) -> str | None:
    """The kind of still image ``path`` holds ("JPEG", "PNG", ...), or None."""
    head = _head(path, 16)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((kind for start, kind in IMAGE_SIGNATURES if head.startswith(start)), None)


def sound_only(path: str | Path) -> bool:
    """Whether ``path`` is a file of sound with no pictures: an MP3, M4A, WAV, FLAC, AIFF, Ogg
    or Matroska/WebM (.mka) audio file, or an MP4 whose only track is sound."""
    head = _head(path)
    if head[4:8] == b"ftyp":  # MP4, M4A, MOV, 3GP: the handler of each track
        handlers = _mp4_handlers(path) or set()
        return b"soun" in handlers and b"vide" not in handlers
    if head.startswith(MATROSKA):
        start = head.find(MATROSKA_TRACKS)
        end = head.find(MATROSKA_CLUSTER, start)
        kinds = set(MATROSKA_CODEC.findall(head[start : end if end > 0 else None]))
        return start >= 0 and kinds == {b"A"}
    if head.startswith(b"OggS"):
        return any(c in head for c in OGG_SOUND) and not any(c in head for c in OGG_PICTURES)
    if head[:4] in (b"RIFF", b"FORM") and head[8:12] in SOUND_RIFF:
        return True
    # an MPEG audio frame's sync bits: an MP3 without a tag, or AAC (ADTS)
    return head.startswith(SOUND_SIGNATURES) or (head[:1] == b"\xff" and head[1:2] >= b"\xe0")


def no_frames(path: str | Path) -> bool:
    """Whether ``path`` is a whole video file with no frame in it, as a program that closed its
    writer before the first frame leaves: an MP4 or MOV whose index lists no track of pictures or
    sound, or a small Matroska/WebM file with tracks and no data. OpenCV fails on it as on a
    damaged file, and "damaged, cut off" sent the user looking for a better copy."""
    head = _head(path)
    if head[4:8] == b"ftyp":
        handlers = _mp4_handlers(path)
        return handlers is not None and not handlers & {b"vide", b"soun"}
    # the whole file read: in a larger one the first data may follow a large header
    return head.startswith(MATROSKA) and len(head) < HEAD and MATROSKA_CLUSTER not in head


def _mp4_handlers(path: str | Path) -> set[bytes] | None:
    """The handler types ("vide", "soun", ...) in an MP4's index (its ``moov`` box), which a
    camera writes at the end; None when there is none (a file cut off)."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        pos = 0
        while pos + 16 <= size:  # a box's header, and room for a 64-bit length
            file.seek(pos)
            length, kind, wide = struct.unpack(">I4sQ", file.read(16))
            header = 8
            if length == 1:  # a 64-bit length follows
                length, header = wide, 16
            elif length == 0:  # to the end of the file
                length = size - pos
            if length < header:
                break
            if kind == b"moov":
                file.seek(pos + header)  # 16 bytes were read: a 32-bit length's box starts at 8
                moov = file.read(min(length - header, MAX_MOOV))
                # a hdlr box: version and flags, 4 bytes unused (QuickTime's), the handler type
                return {moov[m.end() + 8 : m.end() + 12] for m in re.finditer(b"hdlr", moov)}
            pos += length
    return None
