"""Marking faces on a picture: boxes that show on any photo, labels that fit and can be read."""

from __future__ import annotations

import numpy as np
import pytest

from facial_emotion.annotate import annotated_copy, draw_faces
from facial_emotion.faces import Face


def test_draw_faces_marks_the_box_even_at_the_top_edge():
    image = np.zeros((120, 160, 3), np.uint8)
    draw_faces(image, [Face((10, 0, 60, 60), "surprise", 0.5, {"surprise": 0.5})])
    assert image[0:60, 10].any() and image[62:80, 10:60].any()  # box, and label below it


@pytest.mark.parametrize("emotion", ["happy", "neutral", "surprise"])
def test_a_light_box_has_a_dark_edge_so_it_shows_on_a_white_photo(emotion: str) -> None:
    """These boxes stood at 1.55-2.33:1 against white, under WCAG's 3:1 for graphics."""
    image = np.full((200, 200, 3), 255, np.uint8)
    draw_faces(image, [Face((40, 60, 100, 100), emotion, 0.9, {emotion: 0.9})])
    row = 110  # halfway down the box's left side, clear of the label
    assert image[row, 40].max() > 100 and (image[row, 40] < 255).any()  # the light line itself
    assert image[row, 39].max() < 60  # the edge, just outside the line
    assert (image[row, 42:138] == 255).all()  # the face inside is not drawn over


def test_draw_faces_labels_a_face_crop_inside_its_box():
    """A face crop's box is the whole picture: there is no room above or below for the label."""
    image = np.zeros((96, 96, 3), np.uint8)
    draw_faces(image, [Face((0, 0, 96, 96), "happy", 0.9, {"happy": 0.9})])
    assert image[3:30, 3:90].any()  # the label, inside the box's top


@pytest.mark.parametrize("emotion, text", [("fear", 255), ("angry", 255), ("happy", 0)])
def test_caption_text_contrasts_with_its_band(emotion: str, text: int) -> None:
    """Black text on the fear and angry bands fell below WCAG's 4.5:1 contrast."""
    image = np.zeros((200, 200, 3), np.uint8)
    draw_faces(image, [Face((20, 60, 120, 120), emotion, 0.9, {emotion: 0.9})])
    band = image[30:56, 22:130].reshape(-1, 3).astype(int)
    assert (abs(band - text) < 40).all(axis=1).any()  # the caption's strokes (anti-aliased)


def _label_fits(bgr: np.ndarray) -> bool:
    """Below the box's top line, nothing reaches the right edge (a whole-picture box's right side
    lies just outside it): the label's band stops short of it, so none of it was cut off."""
    return bool(bgr.any()) and not bgr[1:, -1].any()


def test_a_label_too_wide_for_the_picture_is_drawn_whole_in_a_smaller_font():
    image = np.zeros((100, 100, 3), np.uint8)
    draw_faces(image, [Face((0, 0, 100, 100), "surprise", 1.0, {"surprise": 1.0})])
    assert _label_fits(image)


def test_a_face_at_the_right_edge_has_its_label_moved_left_not_cut_off():
    image = np.zeros((200, 400, 3), np.uint8)
    draw_faces(image, [Face((340, 100, 50, 50), "surprise", 1.0, {"surprise": 1.0})])
    assert _label_fits(image) and image[60:99, 200:340].any()


def test_a_label_on_a_very_large_photo_is_large_and_open_not_a_blot():
    """At 12000x8000 the label stayed 1.5 units high under 30 px strokes: a black blob."""
    image = np.full((8000, 12000, 3), 150, np.uint8)
    draw_faces(image, [Face((3000, 3000, 1500, 1500), "happy", 0.91, {"happy": 0.91})])
    band = image[:3000, 3000:6000]
    inked = band[(band != 150).any(axis=2)]  # the label's band and its letters, above the box
    rows = np.flatnonzero((band != 150).any(axis=(1, 2)))
    assert rows.max() - rows.min() > 150  # readable when the photo is shown whole
    assert (inked.max(axis=1) < 60).mean() < 0.4  # letters, not a blot of black


def test_a_48x48_crop_is_enlarged_so_its_label_can_be_read():
    crop = np.full((48, 48), 90, np.uint8)
    face = Face((0, 0, 48, 48), "surprise", 1.0, {"surprise": 1.0}, whole_image=True)
    marked = annotated_copy(crop, [face])
    assert marked.shape == (240, 240, 3)
    assert (marked[-1, 1:] == 90).all()  # the picture itself, enlarged, under the label
    assert (marked[1:, -1] == 90).all()  # the label stops short of the right edge: it fits


def test_an_uncertain_face_is_labelled_without_the_score_of_the_emotion_it_does_not_name():
    """ "uncertain 66%" read as 66% unsure; the label is the word alone, so a narrower band."""
    widths = []
    for emotion in ("uncertain", "neutral"):
        image = np.full((200, 300, 3), 255, np.uint8)
        draw_faces(image, [Face((100, 80, 100, 100), emotion, 0.66, {"neutral": 0.66})])
        band = np.where((image[:80] != 255).any(axis=2).any(axis=0))[0]
        widths.append(band.max() - band.min())
    assert widths[0] < widths[1]  # "uncertain" against "neutral 66%"
