"""Find faces in a photo and turn each into model input: a 48x48 grayscale crop framed like FER2013.

Two detectors, each with weights shipped inside a PyPI package (nothing is downloaded at run time):

- ``haar`` (default): OpenCV's ``haarcascade_frontalface_alt2`` from ``cv2.data``; fast, frontal.
- ``mtcnn``: the MTCNN cascade of CNNs from the ``mtcnn`` package (TensorFlow); finds turned,
  tilted, dim and small faces that the cascade misses, at about 5-10x the cost.

FER2013 faces are tightly cropped, roughly forehead to chin. Run on FER2013 images themselves, the
Haar box is 0.98 of the FER side wide and high and centred on it; the MTCNN box is 1.04 of the side
high and 0.80 wide. So the crop is a square on the box centre with side ``crop_scale * max(w, h)``:
1.02 for Haar and 0.965 for MTCNN, which reproduces the training framing for both.
"""

from __future__ import annotations

import inspect
import numbers
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from facial_emotion.data.prepared import full_range
from facial_emotion.errors import FacialEmotionError
from facial_emotion.native_log import native_log_held_back
from facial_emotion.wording import counted

FACE_SIZE = 48
# A square gray image with a side in this range is a face crop already (FER2013, CK+48, LFW 25px).
CROP_SIDES = range(16, 97)
# Detectors need background around a face. When none is found, the image is searched again inside
# a border of its edge pixels this wide (a fraction of the longer side), which finds photos cropped
# tight to one face: of 300 FER2013 val faces enlarged to 200 px, Haar finds 219, not 173
# (benchmarks/close_ups.py).
CLOSE_UP_MARGIN = 0.3

# Resampling (bicubic, Lanczos) overshoots a picture's range by a few percent: pixels up to this
# fraction of the range past either end are clipped, not taken for another range.
OVERSHOOT = 0.1

Box = tuple[int, int, int, int]
# A box and how strongly the detector found it (None: the detector gives no score)
ScoredBox = tuple[Box, float | None]
# A face's emotion when its top probability is under the recognizer's ``min_confidence``: an app
# shows no emotion for it rather than a near-guess (its probabilities are still given)
UNCERTAIN = "uncertain"
# The least longer side of the copy searched for faces (--detect-size): a face crop's size
MIN_DETECT_SIDE = 48


@dataclass(frozen=True)
class Face:
    """One face: box (x, y, w, h) in image pixels, the top emotion (``UNCERTAIN`` when its score
    is under the recognizer's ``min_confidence``), its probability as ``score``, and every class
    probability; ``whole_image`` when the image was read whole as a face crop, without detection.

    ``detector_score`` is how strongly the detector found the face, not the emotion's score, on
    the detector's own scale: Haar's count of detection windows merged into the box (from
    ``min_neighbors + 1``; no upper bound), MTCNN's face probability (from its
    ``min_confidence``, 0.9, to 1); None for a face crop read whole and a detector that gives
    boxes alone."""

    box: Box
    emotion: str
    score: float
    probabilities: dict[str, float]
    whole_image: bool = False
    detector_score: float | None = None

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["box"] = list(self.box)
        return data


class Detector(Protocol):
    """What a detector of one's own needs, as the README says: no ``name`` (the built-in ones
    have one; others go by their class's), and boxes as a list or an (N, 4) array, so a type
    checker accepts the detectors the README describes, not only the built-in ones."""

    @property
    def crop_scale(self) -> float: ...  # read only, so a frozen dataclass or a property will do

    def boxes(self, image: np.ndarray) -> Sequence[Sequence[float]] | np.ndarray:
        """Face boxes (x, y, w, h) in ``image`` (uint8 gray HxW or RGB HxWx3), as any sequence
        of four numbers each. Called again on a copy with a border of edge pixels when it finds
        none (``find_boxes``), so a face cropped tight is found too.

        A detector may also have ``scored_boxes(image)``, giving the boxes and a score for each
        (two sequences, as OpenCV's ``detectMultiScale2`` does); it is then called instead, and
        the scores become ``Face.detector_score``."""
        ...


def detector_name(detector: Detector) -> str:
    """A detector's ``name``, or its class's for one of one's own without a name."""
    return str(getattr(detector, "name", type(detector).__name__))


def _shrink(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    """Downscale so the longer side is at most ``max_side``; detection cost grows with the area."""
    scale = max_side / max(image.shape[:2])
    if scale >= 1:
        return image, 1.0
    h, w = image.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))  # a 1x1500 strip keeps its pixel
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), scale


def _cascade_from(path: str) -> cv2.CascadeClassifier:
    """The cascade at ``path``, read by Python and handed to OpenCV as text: OpenCV opens a file
    name with the C library's narrow ``fopen``, which on Windows reads it in the ANSI code page,
    so a venv under ``C:\\Users\\José`` had no cascade; empty when the file cannot be read."""
    cascade = cv2.CascadeClassifier()
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
    except (OSError, UnicodeDecodeError):
        return cascade
    storage = cv2.FileStorage(text, cv2.FILE_STORAGE_READ | cv2.FILE_STORAGE_MEMORY)
    try:
        if storage.isOpened():
            cascade.read(storage.getFirstTopLevelNode())
    except cv2.error:  # not a cascade: left empty, which the caller reports
        pass
    finally:
        storage.release()
    return cascade


class HaarDetector:
    """OpenCV Haar cascade on a downscaled, histogram-equalised gray image.

    Photos are searched at 1024 px, not 640: in composed 4032x3024 group photos
    (``benchmarks/group_photos.py``) it found 132 of 240 faces of 100-260 px against 63, with
    one box more on the eight faceless backgrounds (a cheetah's face), at twice the CPU time.
    """

    name = "haar"
    crop_scale = 1.02

    def __init__(
        self,
        max_side: int = 1024,
        scale_factor: float = 1.1,
        min_neighbors: int = 4,
        min_size: int = 24,
    ) -> None:
        self._per_thread = threading.local()
        self._cascade()  # a missing cascade file is reported now, not at the first photo
        self.max_side = max_side
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size = min_size
        if scale_factor <= 1:  # OpenCV asserts it at the first search, in its own words
            raise FacialEmotionError(f"haar: scale_factor must be above 1, got {scale_factor}")

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (for process pools) without its threads' cascades, which each process loads."""
        return {k: v for k, v in self.__dict__.items() if k != "_per_thread"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._per_thread = threading.local()

    def _cascade(self) -> cv2.CascadeClassifier:
        """This thread's cascade: one shared by threads mixes up their scratch data, and a
        service's requests then get each other's face boxes or raw OpenCV errors."""
        cascade = getattr(self._per_thread, "cascade", None)
        if cascade is None:
            # cv2.data is a module of OpenCV's package its stubs leave out
            path = cv2.data.haarcascades + "haarcascade_frontalface_alt2.xml"  # type: ignore[attr-defined]
            cascade = _cascade_from(path)
            if cascade.empty():
                raise FacialEmotionError(
                    f"{path}: OpenCV's Haar cascade is missing; reinstall opencv-python-headless<5"
                )
            self._per_thread.cascade = cascade
        return cascade

    def boxes(self, image: np.ndarray) -> list[Box]:
        return self.scored_boxes(image)[0]

    def scored_boxes(self, image: np.ndarray) -> tuple[list[Box], list[float]]:
        """Boxes and their neighbour counts: how many detection windows the cascade merged into
        each box, at least ``min_neighbors + 1``. Its stage sums (``detectMultiScale3``'s level
        weights) told true faces from false boxes less well: 54.9-58.4 against 54.5 and 55.0 on
        composed frames, where the counts were 5-84 against 5 and 5."""
        small, scale = _shrink(to_gray(image), self.max_side)
        found, neighbours = self._cascade().detectMultiScale2(
            cv2.equalizeHist(small),
            scaleFactor=self.scale_factor,
            minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
        )
        boxes = [_scaled(box, scale) for box in found]
        return one_box_per_face(boxes, [float(n) for n in np.ravel(neighbours)])


def _scaled(box: Iterable[float], scale: float) -> Box:
    """``box`` divided by ``scale``, each value rounded to a whole pixel."""
    x, y, w, h = (int(round(v / scale)) for v in box)
    return x, y, w, h


def one_box_per_face(boxes: list[Box], strengths: list[float]) -> tuple[list[Box], list[float]]:
    """``boxes`` and their ``strengths`` without the boxes that cover more than half of a stronger
    box, or are more than half covered by one: the cascade's grouping can leave two boxes, offset,
    on one face (one face then counts as two in video). Two real faces rarely overlap that much."""
    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda i: -strengths[i]):
        if all(_overlap(boxes[i], boxes[k]) <= 0.5 for k in kept):
            kept.append(i)
    return [boxes[i] for i in sorted(kept)], [strengths[i] for i in sorted(kept)]


def shared_area(a: Box, b: Box) -> int:
    """The area two (x, y, w, h) boxes have in common."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0)


def _overlap(a: Box, b: Box) -> float:
    """The shared area as a fraction of the smaller box's."""
    return shared_area(a, b) / min(a[2] * a[3], b[2] * b[3])


class MTCNNDetector:
    """MTCNN (P-, R- and O-Net) from the ``mtcnn`` package; slower, finds harder faces."""

    name = "mtcnn"
    crop_scale = 0.965

    def __init__(self, max_side: int = 1024, min_confidence: float = 0.9) -> None:
        try:
            with native_log_held_back():  # it imports TensorFlow, whose start-up log is noise
                from mtcnn import MTCNN

                self.model = MTCNN(device="CPU:0")
        except ImportError as exc:
            raise FacialEmotionError(
                "the mtcnn detector needs the mtcnn package and TensorFlow, which are not "
                "installed: pip install 'facial-emotion[mtcnn]', or use --detector haar"
            ) from exc
        self.max_side = max_side
        self.min_confidence = min_confidence

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without its network, which each process builds again."""
        return {k: v for k, v in self.__dict__.items() if k != "model"}

    def __setstate__(self, state: dict[str, Any]) -> None:
        fresh = type(self)(state["max_side"], state["min_confidence"])
        self.__dict__.update({**state, "model": fresh.model})

    def boxes(self, image: np.ndarray) -> list[Box]:
        return self.scored_boxes(image)[0]

    def scored_boxes(self, image: np.ndarray) -> tuple[list[Box], list[float]]:
        """Boxes and MTCNN's probability that each is a face (``min_confidence`` to 1)."""
        rgb = image if image.ndim == 3 else cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
        small, scale = _shrink(rgb, self.max_side)
        # Its TensorFlow graph logs "Local rendezvous is aborting" for each picture without a face
        with native_log_held_back():
            found = [
                f for f in self.model.detect_faces(small) if f["confidence"] >= self.min_confidence
            ]
        boxes = [_scaled(face["box"], scale) for face in found]
        return boxes, [float(face["confidence"]) for face in found]


DETECTORS: dict[str, type[HaarDetector] | type[MTCNNDetector]] = {
    "haar": HaarDetector,
    "mtcnn": MTCNNDetector,
}


def make_detector(name: str, **options: Any) -> Detector:
    """A detector by name; ``options`` (such as ``max_side``) go to its class."""
    if name not in DETECTORS:
        raise FacialEmotionError(f"unknown detector '{name}'; choose one of {', '.join(DETECTORS)}")
    known = inspect.signature(DETECTORS[name]).parameters
    if unknown := [option for option in options if option not in known]:
        raise FacialEmotionError(
            f"{name}: takes the options {', '.join(known)}; got {', '.join(unknown)}"
        )
    side = options.get("max_side", MIN_DETECT_SIDE)
    if not isinstance(side, numbers.Integral) or side < MIN_DETECT_SIDE:  # 0 px finds no face
        raise FacialEmotionError(
            f"{name}: max_side must be a whole number of pixels, {MIN_DETECT_SIDE} or more; "
            f"got {side!r}"
        )
    try:
        return DETECTORS[name](**options)
    except TypeError as exc:  # a value of the wrong type, such as a scale_factor of "1.2"
        raise FacialEmotionError(f"{name}: {exc}; pass numbers for {', '.join(options)}") from exc


def detector_cell(score: float | None) -> str:
    """A ``detector_score`` as a CSV cell: a count as a whole number, a probability to 6 digits,
    empty when the detector gave none."""
    return "" if score is None else f"{score:.6g}"


def as_uint8_image(image: np.ndarray) -> np.ndarray:
    """Accept what PIL, Gradio and OpenCV give: uint8, uint16 or float (0..1, 0..255), gray, RGB,
    RGBA."""
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[..., :3]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3) or 0 in image.shape:
        raise FacialEmotionError(
            f"an image of shape {image.shape} is not a picture; pass HxW gray or HxWx3 RGB pixels"
        )
    if image.dtype.kind not in "uif":  # a mask's True/False, or complex values, read as dark
        raise FacialEmotionError(
            f"{image.dtype} values are not pixels; pass uint8 (0..255), uint16 or float "
            "(0..1 or 0..255) pixels"
        )
    if image.dtype == np.uint16:  # 16-bit PNG/TIFF pixels: the top byte, as OpenCV reads them
        if 0 < image.max() < 256:  # their top byte is 0: read so, every face was black
            raise FacialEmotionError(
                "uint16 pixels all below 256 are 8-bit values; pass them as uint8 "
                "(pixels.astype(np.uint8)), or 16-bit ones of 0..65535"
            )
        image = (image >> 8).astype(np.uint8)
    if image.dtype != np.uint8:
        image = image.astype(np.float32)
        if not np.isfinite(image).all():
            raise FacialEmotionError(
                "pixels include NaN or infinity; pass pixels of 0..1 or 0..255"
            )
        low, high = float(image.min()), float(image.max())
        top = 1.0 if high <= 1 + OVERSHOOT else 255.0  # a 0..255 picture this dark is black
        if 1 + OVERSHOOT < high < 2:
            raise FacialEmotionError(
                f"pixels reach {high:.3g}: too bright for 0..1 and too dark for 0..255; "
                "pass pixels of 0..1 or 0..255"
            )
        # Clipping more would misread silently such as -1..1 network inputs, or 16-bit values
        # in int32
        if low < -OVERSHOOT * top:
            raise FacialEmotionError(
                f"pixels go below 0 (down to {low:.3g}); pass pixels of 0..1 or 0..255"
            )
        if high > (1 + OVERSHOOT) * 255:
            raise FacialEmotionError(
                f"pixels go above 255 (up to {high:.6g}); pass pixels of 0..1 or 0..255, "
                "or 16-bit ones as uint16"
            )
        image = np.clip(np.round(image * (255 / top)), 0, 255).astype(np.uint8)
    return image


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 HxW gray; RGB weighted as ITU-R 601, like PIL's "L" mode (how FER2013 was made)."""
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def is_face_crop(image: np.ndarray) -> bool:
    """A small square gray image (such as FER2013's 48x48) is a face already: skip detection.
    One of a single flat colour is not: it would be given an emotion all the same."""
    h, w = image.shape[:2]
    if h != w or h not in CROP_SIDES or image.min() == image.max():
        return False
    if image.ndim == 2:
        return True
    return bool((image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all())


def crop_face(gray: np.ndarray, box: Box, crop_scale: float) -> np.ndarray:
    """The 48x48 crop: a square of side ``crop_scale * max(w, h)`` on the box centre.

    Edges are replicated where the square leaves the image (a face at the border).
    """
    x, y, w, h = box
    side = max(1, int(round(crop_scale * max(w, h))))
    x0 = int(round(x + w / 2 - side / 2))
    y0 = int(round(y + h / 2 - side / 2))
    ih, iw = gray.shape
    pad = max(0, -x0, -y0, x0 + side - iw, y0 + side - ih)
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    square = gray[y0 : y0 + side, x0 : x0 + side]
    interpolation = cv2.INTER_AREA if side > FACE_SIZE else cv2.INTER_LINEAR
    return cv2.resize(square, (FACE_SIZE, FACE_SIZE), interpolation=interpolation)


def crop_faces(image: np.ndarray, boxes: list[Box], crop_scale: float) -> np.ndarray:
    """uint8 (N, 48, 48) crops of known boxes (video reuses boxes between detections)."""
    gray = to_gray(as_uint8_image(image))
    crops = [crop_face(gray, box, crop_scale) for box in boxes]
    if not crops:
        return np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8)
    return full_range(np.stack(crops))  # as the model was trained


def find_boxes(image: np.ndarray, detector: Detector) -> list[Box]:
    """Face boxes, searched again inside a margin when none is found (see ``CLOSE_UP_MARGIN``)."""
    return [box for box, _ in find_scored_boxes(image, detector)]


def find_scored_boxes(image: np.ndarray, detector: Detector) -> list[ScoredBox]:
    """Face boxes with the detector's scores, searched again inside a margin when none is found.

    A box found in the margin may reach past the image's edge; ``crop_face`` fills that part with
    edge pixels, as the margin did.
    """
    scored = detector_scored_boxes(detector, image)
    if scored:
        return scored
    # The margin goes round a copy already shrunk to the detector's size: a full-size padded copy
    # of a large photo cost hundreds of MB, only to be shrunk again.
    small, scale = _shrink(image, getattr(detector, "max_side", max(image.shape[:2])))
    pad = int(round(CLOSE_UP_MARGIN * max(small.shape[:2])))
    padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return [
        (_scaled((x - pad, y - pad, w, h), scale), score)
        for (x, y, w, h), score in detector_scored_boxes(detector, padded)
    ]


def detector_boxes(detector: Detector, image: np.ndarray) -> list[Box]:
    """A detector's boxes as integer (x, y, w, h) tuples (see ``detector_scored_boxes``)."""
    return [box for box, _ in detector_scored_boxes(detector, image)]


def detector_scored_boxes(detector: Detector, image: np.ndarray) -> list[ScoredBox]:
    """A detector's boxes as integer (x, y, w, h) tuples, whatever sequence it gives them in
    (OpenCV's own detectors give an (N, 4) array, whose truth value numpy refuses), each with its
    score from ``scored_boxes`` (None from a detector with ``boxes`` alone); boxes of no area or
    wholly outside ``image`` are dropped, as they hold no face to read."""
    name = detector_name(detector)
    found, scores, method = _detector_output(detector, image, name)
    array = _box_array(found, name, method)
    if array.size == 0:
        return []
    scores = _one_score_per_box(scores, array, name)
    _check_pixel_boxes(array, found, name, method)
    return _boxes_on(image, array, scores)


def _detector_output(
    detector: Detector, image: np.ndarray, name: str
) -> tuple[object, list[float | None] | None, str]:
    """What the detector gave for ``image``: its boxes, their scores (None from ``boxes``
    alone) and the method that gave them, for messages."""
    scored_boxes = getattr(detector, "scored_boxes", None)
    if callable(scored_boxes):
        found, scores = _boxes_and_scores(scored_boxes(image), name)
        return found, scores, "scored_boxes()"
    return detector.boxes(image), None, "boxes()"


def _box_array(found: object, name: str, method: str) -> np.ndarray:
    """The detector's boxes as a float array, refused where they are not numbers, or one number
    alone: NumPy reads a forgotten ``return``'s None as one, whose count then raised TypeError."""
    try:
        array = np.asarray(found, dtype=np.float64)
        if array.ndim == 0:
            raise TypeError("a single number")
    except (TypeError, ValueError) as exc:
        raise FacialEmotionError(
            f"detector {name}: {method} gave {_shown(found)}, not (x, y, w, h) boxes; return a "
            "list of (x, y, w, h) tuples"
        ) from exc
    return array


def _shown(found: object) -> str:
    """What a detector gave, on one line and cut short, for its error: NumPy prints an array of
    several boxes over several lines."""
    return " ".join(str(found).split())[:80]


def _one_score_per_box(
    scores: list[float | None] | None, array: np.ndarray, name: str
) -> list[float | None]:
    """The boxes' scores, None for each where the detector gives none; refused where there are
    more or fewer scores than boxes. Boxes that are not rows are left to the check of their shape:
    counted along their first axis, one flat box (x, y, w, h) was "4 boxes and 1 scores"."""
    if scores is None:
        return [None] * len(array)
    if array.ndim == 2 and len(scores) != len(array):
        raise FacialEmotionError(
            f"detector {name}: scored_boxes() gave {counted(len(array), 'box', 'boxes')} and "
            f"{counted(len(scores), 'score')}; "
            "return one score per box"
        )
    return scores


def _check_pixel_boxes(array: np.ndarray, found: object, name: str, method: str) -> None:
    """Refuse boxes that are not rows of four finite numbers, or are fractions of the picture's
    size rather than pixels."""
    if array.ndim != 2 or array.shape[1] != 4 or not np.isfinite(array).all():
        raise FacialEmotionError(
            f"detector {name}: {method} gave {_shown(found)}, not (x, y, w, h) boxes of finite "
            "numbers; return a list of (x, y, w, h) tuples"
        )
    sides = array[:, 2:]
    # rounded to pixels, every such box has no area: all faces were dropped without a word.
    # Judged by the sides, so a fraction past an edge is caught too; a box of one pixel a side
    # holds no face, so no box of pixels is refused.
    if (sides > 0).any() and (sides <= 1).all():
        raise FacialEmotionError(
            f"detector {name}: {method} gave sides within 0..1 ({_shown(found)}), fractions "
            "of the picture's size; return pixels: x and w times its width, y and h its height"
        )


def _boxes_on(image: np.ndarray, array: np.ndarray, scores: list[float | None]) -> list[ScoredBox]:
    """The boxes rounded to pixels with their scores, but those of no area or wholly outside
    ``image``."""
    height, width = image.shape[:2]
    return [
        ((x, y, w, h), score)
        for (x, y, w, h), score in zip(
            (tuple(int(round(v)) for v in box) for box in array), scores, strict=True
        )
        if w > 0 and h > 0 and x < width and y < height and x + w > 0 and y + h > 0
    ]


def _boxes_and_scores(found: Any, name: str) -> tuple[object, list[float | None] | None]:
    """``scored_boxes``'s (boxes, scores) pair, the scores as floats (a count, a probability),
    None where the detector gave none."""
    try:
        boxes, scores = found
        if scores is None:  # no scores for any box
            return boxes, None
        values = [None if s is None else float(s) for s in np.ravel(np.asarray(scores, object))]
    except (TypeError, ValueError) as exc:
        raise FacialEmotionError(
            f"detector {name}: scored_boxes() gave {_shown(found)}, not boxes and their scores; "
            "return (boxes, scores): a list of (x, y, w, h) and a list of numbers"
        ) from exc
    if any(v is not None and not np.isfinite(v) for v in values):
        raise FacialEmotionError(
            f"detector {name}: scored_boxes() gave a score that is not a finite number "
            f"({str(scores)[:80]}); return numbers, or None for a box without one"
        )
    return boxes, values


def clip_box(box: Box, width: int, height: int) -> Box:
    """The part of ``box`` inside a ``width`` x ``height`` image, as users draw and store it."""
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    return x0, y0, min(width, x + w) - x0, min(height, y + h) - y0


def locate_faces(
    image: np.ndarray, detector: Detector
) -> tuple[list[Box], np.ndarray, list[float | None]]:
    """Boxes sorted left to right, their uint8 (N, 48, 48) crops and the detector's scores; a face
    crop is used whole, with no score."""
    image = as_uint8_image(image)
    h, w = image.shape[:2]
    if is_face_crop(image):
        return [(0, 0, w, h)], crop_faces(image, [(0, 0, w, h)], 1.0), [None]
    scored = sorted(find_scored_boxes(image, detector), key=lambda s: (s[0][0], s[0][1]))
    boxes = [box for box, _ in scored]
    crops = crop_faces(image, boxes, detector.crop_scale)
    return [clip_box(box, w, h) for box in boxes], crops, [score for _, score in scored]
