"""Face detection and the FER2013-style crop, on a real photo that ships with matplotlib."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import cv2
import matplotlib.cbook
import numpy as np
import pytest

from facial_emotion.errors import FacialEmotionError
from facial_emotion.faces import (
    DETECTORS,
    Face,
    HaarDetector,
    as_uint8_image,
    crop_face,
    detector_scored_boxes,
    find_boxes,
    is_face_crop,
    locate_faces,
    make_detector,
    one_box_per_face,
)

FACE_BOX_HOPPER = (158, 107, 217, 217)  # where Grace Hopper's face is in the sample photo


@pytest.fixture(scope="module")
def hopper() -> np.ndarray:
    """Grace Hopper's portrait (RGB, 600x512), shipped with matplotlib."""
    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.fixture(scope="module")
def haar() -> HaarDetector:
    return HaarDetector()


def three_faces(hopper: np.ndarray) -> np.ndarray:
    """A 640x480 canvas with the portrait's head pasted three times at different sizes."""
    head = hopper[60:400, 110:420]
    canvas = np.full((480, 640, 3), 70, np.uint8)
    for x, y, scale in ((400, 40, 0.6), (20, 150, 0.55), (230, 250, 0.45)):
        small = cv2.resize(head, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


class NoDetector:
    """Fails the test if detection runs: face crops must skip it."""

    name = "none"
    crop_scale = 1.0

    def boxes(self, image: np.ndarray) -> list:
        raise AssertionError("detection ran on an image that is a face crop already")


def test_haar_finds_the_face_in_a_portrait(hopper, haar):
    boxes = haar.boxes(hopper)
    assert len(boxes) == 1
    x, y, w, h = boxes[0]
    ex, ey, ew, eh = FACE_BOX_HOPPER
    assert abs(x - ex) < 25 and abs(y - ey) < 25 and abs(w - ew) < 40 and w == h


def test_several_faces_are_found_and_sorted_left_to_right(hopper, haar):
    boxes, crops, _ = locate_faces(three_faces(hopper), haar)
    assert len(boxes) == 3
    assert [b[0] for b in boxes] == sorted(b[0] for b in boxes)
    assert crops.shape == (3, 48, 48) and crops.dtype == np.uint8


def test_downscaled_detection_reports_boxes_in_full_image_pixels(hopper):
    full = HaarDetector(max_side=1024).boxes(hopper)[0]
    small = HaarDetector(max_side=320).boxes(hopper)[0]
    assert np.allclose(full, small, atol=25)


@pytest.mark.parametrize("inset", [0, 30])
def test_a_photo_cropped_tight_to_the_face_is_found(hopper, haar, inset):
    x, y, w, h = FACE_BOX_HOPPER
    tight = np.ascontiguousarray(hopper[y + inset : y + h - inset, x + inset : x + w - inset])
    assert haar.boxes(tight) == []  # the cascade alone needs background around the face
    boxes, crops, _ = locate_faces(tight, haar)
    assert len(boxes) == 1 and crops.shape == (1, 48, 48)
    bx, by, bw, bh = boxes[0]
    side = tight.shape[0]
    assert bx >= 0 and by >= 0 and bx + bw <= side and by + bh <= side
    assert bw > side / 2 and bh > side / 2


def test_the_close_up_search_of_a_large_photo_pads_a_shrunk_copy():
    """Padding the full-size photo cost 544 MB and 1.6 s on a faceless 8000x6000 picture."""

    class Recording:
        name, crop_scale, max_side = "recording", 1.0, 640

        def __init__(self) -> None:
            self.shapes: list[tuple[int, ...]] = []

        def boxes(self, image: np.ndarray) -> list:
            self.shapes.append(image.shape)
            return [(400, 300, 100, 100)] if len(self.shapes) == 2 else []

    detector = Recording()
    boxes = find_boxes(np.zeros((3000, 4000), np.uint8), detector)
    assert detector.shapes == [(3000, 4000), (864, 1024)]  # 480x640 within a 192-pixel margin
    # in the photo's pixels: less the margin, divided by the shrink factor 640 / 4000
    assert boxes == [((400 - 192) / 0.16, (300 - 192) / 0.16, 100 / 0.16, 100 / 0.16)]


def test_no_face_in_a_blank_image(haar):
    boxes, crops, _ = locate_faces(np.full((300, 400, 3), 128, np.uint8), haar)
    assert boxes == [] and crops.shape == (0, 48, 48)


@pytest.mark.parametrize(
    ("shape", "expected"),
    [((48, 48), True), ((25, 25), True), ((96, 96), True), ((200, 200), False), ((10, 10), False)],
)
def test_small_square_gray_images_are_face_crops(shape, expected, rng):
    assert is_face_crop(rng.integers(0, 256, shape, dtype=np.uint8)) is expected


def test_a_gray_crop_saved_as_rgb_is_still_a_face_crop(rng):
    gray = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    assert is_face_crop(np.stack([gray] * 3, -1))
    colour = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
    assert not is_face_crop(colour)
    assert not is_face_crop(np.zeros((48, 60), np.uint8))


def test_a_face_crop_is_used_whole_without_detection(rng):
    crop = rng.integers(0, 256, (48, 48), dtype=np.uint8)
    boxes, crops, _ = locate_faces(crop, NoDetector())
    assert boxes == [(0, 0, 48, 48)]
    np.testing.assert_array_equal(crops[0], crop)
    boxes, crops, _ = locate_faces(rng.integers(0, 256, (30, 30), dtype=np.uint8), NoDetector())
    assert boxes == [(0, 0, 30, 30)] and crops.shape == (1, 48, 48)


def test_a_flat_picture_is_no_face_crop(haar):
    for flat in (np.zeros((64, 64), np.uint8), np.full((96, 96, 3), 255, np.uint8)):
        assert not is_face_crop(flat)
        assert locate_faces(flat, haar)[0] == []


class BoxesOnly:
    """A detector of your own as the README describes it: boxes, no scores."""

    name = "boxes-only"
    crop_scale = 1.0

    def boxes(self, image: np.ndarray) -> list:
        return [(158, 107, 217, 217)]


class ScoredCascade:
    """A detector of your own that gives OpenCV's detectMultiScale2 output as it comes."""

    name = "scored"
    crop_scale = 1.0

    def __init__(self, found=None) -> None:
        self.found = found

    def boxes(self, image: np.ndarray) -> list:
        raise AssertionError("scored_boxes is called where a detector has it")

    def scored_boxes(self, image: np.ndarray):
        if self.found is not None:
            return self.found
        return np.array([[158, 107, 217, 217]], np.int32), np.array([[17]], np.int32)


def test_each_face_comes_with_how_strongly_the_detector_found_it(hopper, haar):
    """Haar's neighbour counts and MTCNN's confidence were used only to drop overlapping boxes:
    an app could not tell a weak hit from a strong one."""
    boxes, _, scores = locate_faces(hopper, haar)
    assert len(boxes) == 1 and scores[0] >= haar.min_neighbors + 1
    assert haar.scored_boxes(hopper) == (haar.boxes(hopper), scores)
    assert locate_faces(hopper, BoxesOnly())[2] == [None]  # a detector of boxes alone still works
    assert locate_faces(hopper, ScoredCascade())[2] == [17.0]
    tight = hopper[107:324, 158:375]  # found only inside the margin: the score comes along
    assert locate_faces(tight, haar)[2][0] >= haar.min_neighbors + 1
    assert locate_faces(np.zeros((48, 48), np.uint8) + np.eye(48, dtype=np.uint8), haar)[2] == [
        None
    ]  # a face crop read whole: nothing was detected


@pytest.mark.parametrize(
    ("found", "says"),
    [
        (([(1, 2, 30, 30)], [0.9, 0.8]), "gave 1 box and 2 scores"),
        (([(1, 2, 30, 30)], [float("nan")]), "not a finite number"),
        (([(1, 2, 30, 30)], ["high"]), "not boxes and their scores"),
        ([(1, 2, 30, 30)], "not boxes and their scores"),
    ],
)
def test_scores_a_detector_cannot_give_are_refused_in_one_line(hopper, found, says):
    with pytest.raises(FacialEmotionError, match=says):
        locate_faces(hopper, ScoredCascade(found))


@pytest.mark.parametrize(
    ("found", "says"),
    [
        (([("a", 2, 30, 30)], [0.9]), r"\[\('a', 2, 30, 30\)\], not \(x, y, w, h\) boxes; return"),
        (([(1, 2, 30)], [0.9, 0.8]), r"1 box and 2 scores; return one score per box"),
        (([(1, 2, 30)], [0.9]), r"\[\(1, 2, 30\)\], not \(x, y, w, h\) boxes of finite numbers"),
        (
            ([(1, 2, 30, float("inf"))], [0.9]),
            r"\[\(1, 2, 30, inf\)\], not \(x, y, w, h\) boxes of",
        ),
        (
            ([(0.1, 0.2, 0.5, 0.5)], [0.9]),
            r"sides within 0\.\.1 \(\[\(0\.1, 0\.2, 0\.5, 0\.5\)\]\)",
        ),
    ],
)
def test_a_detectors_boxes_are_told_their_first_problem(found, says):
    """Each of a detector's mistakes is named in the order they are checked: boxes that are not
    numbers, then a score count that does not match, then rows that are not four finite numbers,
    then fractions of the picture rather than pixels."""
    with pytest.raises(
        FacialEmotionError, match=rf"^detector scored: scored_boxes\(\) gave {says}"
    ):
        detector_scored_boxes(ScoredCascade(found), np.zeros((100, 80), np.uint8))


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
    """A detector's boxes that are not rows of four are told so in one line, not miscounted
    against their scores."""
    with pytest.raises(
        FacialEmotionError, match=r"^detector scored: scored_boxes\(\) gave " + says
    ) as refused:
        detector_scored_boxes(ScoredCascade(found), np.zeros((100, 80), np.uint8))
    assert "\n" not in str(refused.value)


class Gives:
    """A detector of your own whose ``boxes()`` gives ``found`` as it is."""

    name = "given"
    crop_scale = 1.0

    def __init__(self, found: object) -> None:
        self.found = found

    def boxes(self, image: np.ndarray) -> object:
        return self.found


@pytest.mark.parametrize("found", [None, 5, np.float64(7)])
def test_a_detector_giving_no_list_at_all_is_told_so_in_one_line(found):
    """A ``boxes()`` that forgot its ``return`` gave None, which NumPy reads as one number: the
    score step's ``len()`` of it raised a bare TypeError, a traceback, and ``detect_batch``'s
    ``errors="return"`` lost the whole batch to it. So did a ``scored_boxes()`` giving
    ``(None, None)``."""
    image = np.zeros((100, 80), np.uint8)
    says = rf"\(\) gave {found}, not \(x, y, w, h\) boxes; return a list of \(x, y, w, h\) tuples$"
    with pytest.raises(FacialEmotionError, match=rf"^detector given: boxes{says}"):
        detector_scored_boxes(Gives(found), image)
    with pytest.raises(FacialEmotionError, match=rf"^detector scored: scored_boxes{says}"):
        detector_scored_boxes(ScoredCascade((found, None)), image)


def test_a_detector_giving_no_boxes_finds_no_face_whatever_its_scores():
    """No box, no face: the scores of an empty answer are not checked against it."""
    image = np.zeros((100, 80), np.uint8)
    assert detector_scored_boxes(ScoredCascade(([], [0.9, 0.8])), image) == []
    assert detector_scored_boxes(ScoredCascade((np.zeros((0, 4)), None)), image) == []
    kept = [(70, 90, 20, 20), (-10, -10, 11, 11), (5, 5, 10.4, 9.6)]
    dropped = [(80, 5, 10, 10), (5, 100, 10, 10), (-10, 5, 10, 10), (5, 5, 0, 10)]
    found = detector_scored_boxes(ScoredCascade((kept + dropped, list(range(7)))), image)
    assert found == [((70, 90, 20, 20), 0.0), ((-10, -10, 11, 11), 1.0), ((5, 5, 10, 10), 2.0)]


def test_crop_is_a_square_on_the_box_centre_resized_to_48():
    gray = np.zeros((200, 200), np.uint8)
    gray[50:146, 60:156] = 255  # a 96x96 white square
    crop = crop_face(gray, (60, 50, 96, 96), crop_scale=1.0)
    assert crop.shape == (48, 48) and crop.min() == 255
    wider = crop_face(gray, (60, 50, 96, 96), crop_scale=2.0)
    assert wider[24, 24] == 255 and wider[2, 2] == 0 and wider[45, 45] == 0


@pytest.mark.parametrize("box", [(60, 40, 60, 120), (40, 60, 120, 60)], ids=["tall", "wide"])
def test_a_box_that_is_not_square_is_centred_both_ways(box):
    """MTCNN's boxes are taller than wide: the square crop is centred on the box's own centre
    along each axis, so a tall box's face is not cut at the brow or chin."""
    x, y, w, h = box
    gray = np.zeros((240, 240), np.uint8)
    gray[y : y + h, x : x + w] = 255  # the box itself, white
    crop = crop_face(gray, box, crop_scale=1.0)
    along = crop[:, 24] if h > w else crop[24, :]  # the box's long axis spans the whole square
    assert along.min() == 255
    across = crop[24, :] if h > w else crop[:, 24]  # its short axis is centred: dark at both ends
    assert across[0] == across[-1] == 0 and across[24] == 255


def test_a_face_in_dim_light_reaches_the_model_as_a_full_range_crop(hopper, haar):
    """FER2013's faces span 0..255; a dim webcam's do not, and the model read them as angry."""
    dim = (hopper * 0.15).astype(np.uint8)
    boxes, crops, _ = locate_faces(dim, haar)
    assert len(boxes) == 1 and crops.min() == 0 and crops.max() == 255
    _, bright, _ = locate_faces(hopper, haar)
    assert np.abs(crops.astype(int) - bright.astype(int)).mean() < 6


def test_crop_at_the_image_border_replicates_the_edge():
    gray = np.tile(np.arange(100, dtype=np.uint8), (100, 1))
    crop = crop_face(gray, (-20, -20, 60, 60), crop_scale=1.2)
    assert crop.shape == (48, 48)
    assert crop[:, 0].max() == 0  # the left edge column was replicated outwards


def test_haar_crop_matches_fer2013_framing(hopper, haar):
    """The crop spans brow to chin: a little larger than the detector box, centred on it."""
    (box,) = haar.boxes(hopper)
    assert haar.crop_scale == pytest.approx(1.02)
    crop = crop_face(cv2.cvtColor(hopper, cv2.COLOR_RGB2GRAY), box, haar.crop_scale)
    assert crop.shape == (48, 48) and 40 < crop.mean() < 220


def test_as_uint8_image_accepts_what_pil_gradio_and_opencv_give():
    assert as_uint8_image(np.ones((4, 5), np.float32)).max() == 255
    assert as_uint8_image(np.full((4, 5), 200.0)).max() == 200
    assert as_uint8_image(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    assert as_uint8_image(np.zeros((4, 5, 1), np.uint8)).shape == (4, 5)
    with pytest.raises(FacialEmotionError, match="not a picture"):
        as_uint8_image(np.zeros((4, 5, 2), np.uint8))
    with pytest.raises(FacialEmotionError, match="not a picture"):
        as_uint8_image(np.zeros(7, np.uint8))
    with pytest.raises(FacialEmotionError, match="below 0 .*-1.*0..1 or 0..255"):
        as_uint8_image(np.linspace(-1, 1, 20, dtype=np.float32).reshape(4, 5))  # -1..1 inputs
    with pytest.raises(FacialEmotionError, match="NaN or infinity"):
        as_uint8_image(np.where(np.eye(4, 5) > 0, np.nan, 0.5))
    # 16-bit values held in int32 (PIL's "I" mode) were clipped to white and read as no face
    with pytest.raises(FacialEmotionError, match="above 255 .*65535.*16-bit ones as uint16"):
        as_uint8_image(np.linspace(0, 65535, 20).astype(np.int32).reshape(4, 5))
    # 8-bit values in a uint16 array lost their only byte to the 16-bit shift: every face black
    with pytest.raises(FacialEmotionError, match="below 256 are 8-bit values; pass them as uint8"):
        as_uint8_image(np.arange(20, dtype=np.uint16).reshape(4, 5) * 13)
    assert not as_uint8_image(np.zeros((4, 5), np.uint16)).any()  # black in 16 bits is black
    # a mask's True/False was read as a dark picture, complex values lost their imaginary part
    for values in (np.eye(4, 5, dtype=bool), np.eye(4, 5) * (200 + 1j)):
        with pytest.raises(FacialEmotionError, match=f"{values.dtype} values are not pixels"):
            as_uint8_image(values)


def test_resampling_overshoot_is_clipped_not_taken_for_another_range():
    """Bicubic resizing of a 0..1 picture leaves pixels a little past 1 and below 0: one pixel at
    1.01 once made the whole picture read as 0..255, nearly black, with confident wrong faces."""
    unit = np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5)
    overshoot = unit.copy()
    overshoot[0, 0], overshoot[-1, -1] = -0.05, 1.04
    expected = as_uint8_image(unit)
    expected[0, 0] = 0
    assert (as_uint8_image(overshoot) == expected).all()
    bright = np.linspace(-12, 270, 20).reshape(4, 5)  # a 0..255 picture resampled
    assert (as_uint8_image(bright) == np.clip(np.round(bright), 0, 255)).all()
    with pytest.raises(FacialEmotionError, match="reach 1.5: too bright for 0..1 and too dark"):
        as_uint8_image(unit * 1.5)


def test_one_haar_detector_serves_threads_at_once(hopper):
    """A service's threads share one recognizer: with one cascade for all, requests got each
    other's face boxes and raw OpenCV errors."""
    haar = HaarDetector()
    left = cv2.copyMakeBorder(hopper, 0, 0, 0, 600, cv2.BORDER_REPLICATE)
    right = cv2.copyMakeBorder(hopper, 0, 0, 600, 0, cv2.BORDER_REPLICATE)
    expected = {id(left): haar.boxes(left), id(right): haar.boxes(right)}
    assert expected[id(left)] and expected[id(left)] != expected[id(right)]
    with ThreadPoolExecutor(4) as pool:
        images = [left, right] * 20
        found = list(pool.map(haar.boxes, images))
    assert [expected[id(image)] for image in images] == found


def test_a_long_thin_strip_is_searched_without_an_opencv_error(haar):
    """Shrinking a 1x1500 picture rounded its height to 0 pixels, which OpenCV refused."""
    strip = np.tile(np.arange(1500, dtype=np.uint8), (1, 1))
    assert locate_faces(strip, haar)[0] == []


def test_two_boxes_on_one_face_become_the_stronger_one_and_separate_faces_stay():
    """The offset pair Haar left on one face of a video frame: (378, 250, 144, 144) with 8
    neighbours and (432, 254, 120, 120), which shares 3/4 of its area with it, with 3."""
    left, face, offset = (44, 34, 224, 224), (378, 250, 144, 144), (432, 254, 120, 120)
    assert one_box_per_face([left, offset, face], [24, 3, 8]) == ([left, face], [24, 8])
    assert one_box_per_face([left, offset, face], [24, 9, 8])[0] == [left, offset]
    inner = (400, 270, 60, 60)  # wholly inside a face: an eye or a mouth taken for a face
    assert one_box_per_face([face, inner], [2, 5])[0] == [inner]
    beside = (500, 250, 144, 144)  # sharing 15% of its area: a second face
    assert one_box_per_face([face, beside], [1, 1])[0] == [face, beside]
    assert one_box_per_face([face, beside, (560, 250, 144, 144)], [1, 1, 1])[0] == [face, beside]
    assert one_box_per_face([face, face], [3, 3])[0] == [face]  # the same box twice is one face
    assert one_box_per_face([], [])[0] == []


def test_unknown_detector_is_a_clear_error():
    with pytest.raises(FacialEmotionError, match="unknown detector 'yolo'.*haar, mtcnn"):
        make_detector("yolo")


def test_cli_lists_every_detector():
    from facial_emotion.cli.options import DETECTOR_NAMES

    assert set(DETECTOR_NAMES) == set(DETECTORS)


def test_face_record_is_json_ready():
    face = Face((1, 2, 3, 4), "happy", 0.9, {"happy": 0.9, "sad": 0.1})
    assert json.loads(json.dumps(face.to_dict())) == {
        "box": [1, 2, 3, 4],
        "emotion": "happy",
        "score": 0.9,
        "probabilities": {"happy": 0.9, "sad": 0.1},
        "whole_image": False,
        "detector_score": None,
    }


def test_mtcnn_prints_no_tensorflow_log_when_made_or_when_a_picture_has_no_face():
    """Making the detector printed four lines of TensorFlow's start-up log, and TensorFlow logged
    "Local rendezvous is aborting" for each picture without a face; the suite's
    TF_CPP_MIN_LOG_LEVEL hides both, so one process of its own runs as a user's would."""
    pytest.importorskip("mtcnn")
    code = (
        "import numpy as np\n"
        "from facial_emotion.faces import make_detector\n"
        "detector = make_detector('mtcnn')\n"
        "noise = np.random.default_rng(0).integers(0, 256, (300, 400, 3)).astype(np.uint8)\n"
        "assert detector.boxes(noise) == []\n"  # the later nets reject all
    )
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=180
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr


def test_mtcnn_finds_the_face_and_frames_it_like_haar(hopper, haar):
    pytest.importorskip("mtcnn")
    mtcnn = make_detector("mtcnn")
    (box,) = mtcnn.boxes(hopper)
    (ref,) = haar.boxes(hopper)
    side = mtcnn.crop_scale * max(box[2:])
    assert side == pytest.approx(haar.crop_scale * max(ref[2:]), rel=0.2)
    centre = np.array(box[:2]) + np.array(box[2:]) / 2
    assert np.allclose(centre, np.array(ref[:2]) + np.array(ref[2:]) / 2, atol=30)
    (score,) = locate_faces(hopper, mtcnn)[2]  # its probability that the box is a face
    assert mtcnn.min_confidence <= score <= 1
