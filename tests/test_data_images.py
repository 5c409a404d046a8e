"""How ``prepare`` reads one picture file (data/images.py), pixel for pixel as ``predict`` does."""

from __future__ import annotations

from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image

from facial_emotion.data.images import read_gray, read_gray48, to_gray48
from facial_emotion.faces import to_gray
from facial_emotion.predict import load_image


@pytest.mark.parametrize("orientation", [1, 6])
@pytest.mark.parametrize("progressive", [False, True])
def test_a_cmyk_jpeg_reads_the_gray_predict_reads(
    tmp_path: Path, orientation: int, progressive: bool
) -> None:
    """OpenCV's own ink-to-gray rounding read a CMYK photo one level brighter on average (99% of
    its pixels) than predict, so a model was trained on pixels a served photo never has."""
    with Image.open(matplotlib.cbook.get_sample_data("grace_hopper.jpg")) as photo:
        cmyk = photo.convert("CMYK")
    exif = Image.Exif()
    exif[0x0112] = orientation  # an EXIF block before the frame header, turned or not
    path = tmp_path / "cmyk.jpg"
    cmyk.save(path, quality=95, progressive=progressive, exif=exif)

    served = to_gray(load_image(path))
    with Image.open(path) as img:  # the inks as decoded, and their exact colour
        c, m, y, k = np.moveaxis(np.asarray(img, np.float64), -1, 0)
    exact = np.rint(np.stack([(255 - c), (255 - m), (255 - y)], -1) * (255 - k)[..., None] / 255)
    gray = to_gray(exact.astype(np.uint8))
    assert np.array_equal(served, np.rot90(gray, -1) if orientation == 6 else gray)
    assert np.array_equal(read_gray(path), served)
    assert np.array_equal(read_gray48(path), to_gray48(served))
