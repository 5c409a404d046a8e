"""Tiny data sets the data-loader tests write for themselves (no outside data, no network).

Images are flat gray whose level encodes a number (a class, a subject), so a test can read back
from the loaded pixels which file each sample came from and check labels and splits.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
import zipfile
from pathlib import Path

import cv2
import numpy as np


def level(code: int) -> int:
    """The gray level that stands for ``code`` (0..7), far enough apart to survive JPEG."""
    return 20 + 30 * code


def code_of(pixels: np.ndarray) -> int:
    """The code a flat (part of an) image stands for."""
    return round((float(pixels.mean()) - 20) / 30)


def write_image(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image), path
    return path


def flat(code: int, shape: tuple[int, ...] = (48, 48)) -> np.ndarray:
    return np.full(shape, level(code), dtype=np.uint8)


def class_tree(
    root: Path, per_class: dict[str, int], ext: str = ".png", prefix: str = "img"
) -> Path:
    """``root/<label>/<prefix>_<k><ext>``, each image flat at its class's position in the dict."""
    for code, (label, n) in enumerate(per_class.items()):
        for k in range(n):
            write_image(root / label / f"{prefix}_{k:03d}{ext}", flat(code))
    return root


def pixel_string(image: np.ndarray) -> str:
    return " ".join(str(v) for v in image.ravel())


def pattern(seed: int) -> np.ndarray:
    """A non-flat 48x48 image, to check that pixel strings are read row-major."""
    return np.random.default_rng(seed).integers(0, 256, (48, 48), dtype=np.uint8)


def pixel_csv(path: Path, rows: list[tuple[int, str, str | None]]) -> Path:
    """An ``emotion,pixels[,Usage]`` CSV; the Usage column is left out when every usage is None."""
    with_usage = any(usage is not None for _, _, usage in rows)
    lines = ["emotion,pixels,Usage" if with_usage else "emotion,pixels"]
    for emotion, pixels, usage in rows:
        lines.append(f'{emotion},"{pixels}"' + (f",{usage}" if with_usage else ""))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def labelled_rows(
    per_usage: dict[str | None, int], n_labels: int
) -> list[tuple[int, str, str | None]]:
    """``per_usage[usage]`` rows of each label per usage; every image flat at its label's level."""
    return [
        (label, pixel_string(flat(label)), usage)
        for usage, n in per_usage.items()
        for label in range(n_labels)
        for _ in range(n)
    ]


def packed(csv: Path, packing: str) -> Path:
    """``csv`` compressed or archived as ``packing`` (``.csv.gz``, ``.tar.gz``, ``.zip``...)."""
    data = csv.read_bytes()
    out = csv.with_name(csv.stem + packing)
    if packing.startswith(".tar"):
        with tarfile.open(out, f"w:{packing[5:]}") as archive:
            info = tarfile.TarInfo(f"fer2013/{csv.name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    elif packing == ".zip":
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr(csv.name, data)
    else:
        out.write_bytes(
            {".csv.gz": gzip.compress, ".csv.bz2": bz2.compress, ".csv.xz": lzma.compress}[packing](
                data
            )
        )
    csv.unlink()
    return out


def scan_bomb(path: Path, extra_scans: int) -> Path:
    """A progressive JPEG whose last scan is repeated: each repeat costs a few bytes and makes the
    decoder walk the whole picture again."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pattern(0)).save(buffer, "JPEG", progressive=True)
    data = buffer.getvalue()
    last_scan = data[data.rindex(b"\xff\xda") : -2]  # up to the end-of-image marker
    path.write_bytes(data[:-2] + last_scan * extra_scans + data[-2:])
    return path
