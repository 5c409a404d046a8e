"""A detector's boxes that are not rows of four are told so in one line, not miscounted against
their scores."""

from __future__ import annotations

import numpy as np
import pytest

from facial_emotion.errors import FacialEmotionError
from facial_emotion.faces import detector_scored_boxes

SAYS = r"^detector scored: scored_boxes\(\) gave "


class Scored:
    """A detector of your own whose ``scored_boxes()`` gives ``found`` as it is."""

    name = "scored"
    crop_scale = 1.0

    def __init__(self, found: object) -> None:
        self.found = found

    def scored_boxes(self, image: np.ndarray) -> object:
        return self.found


@pytest.mark.parametrize(
    ("found", "says"),
    [
        # one box returned flat, not in a list: it was "4 boxes and 1 scores"
        (([10, 10, 30, 30], [0.9]), r"\[10, 10, 30, 30\], not \(x, y, w, h\) boxes of finite"),
        (([10, 10, 30, 30], [0.9, 0.8]), r"\[10, 10, 30, 30\], not \(x, y, w, h\) boxes of"),
        # a network's (1, N, 4) output passed on whole: it was "1 boxes and 2 scores"
        (
            (np.array([[[10, 10, 30, 30], [50, 10, 30, 30]]]), [0.9, 0.8]),
            r"\[\[\[10 10 30 30\] \[50 10 30 30\]\]\], not \(x, y, w, h\) boxes of finite",
        ),
        # several boxes in an array, which NumPy prints a line each: the error ran on two lines
        (
            (np.array([[0.1, 0.2, 0.5, 0.5], [0.5, 0.2, 0.4, 0.4]]), [0.9, 0.8]),
            r"sides within 0\.\.1 \(\[\[0\.1 0\.2 0\.5 0\.5\] \[0\.5 0\.2 0\.4 0\.4\]\]\), "
            "fractions",
        ),
    ],
)
def test_boxes_that_are_not_rows_of_pixels_are_told_their_shape_in_one_line(
    found: object, says: str
) -> None:
    with pytest.raises(FacialEmotionError, match=SAYS + says) as refused:
        detector_scored_boxes(Scored(found), np.zeros((100, 80), np.uint8))
    assert "\n" not in str(refused.value)
