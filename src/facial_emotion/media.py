"""What a file holds, told by its bytes rather than its name: OpenCV reads a photo as a one-frame
video, so ``video`` looks for itself to say so."""

from __future__ import annotations

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


def _head(path: str | Path, size: int) -> bytes:
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
