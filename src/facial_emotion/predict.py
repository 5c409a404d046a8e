"""The one predictor (``EmotionRecognizer``) for the CLI, the app and the notebooks: photo in,
a ``Face`` record per face out.

Faces of many images go through the model in one batch, since a call costs far more than a face.
"""

from __future__ import annotations

import inspect
import io
import numbers
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, Union, overload

import numpy as np

from facial_emotion.backends import load_backend
from facial_emotion.data.prepared import full_range
from facial_emotion.errors import FacialEmotionError
from facial_emotion.faces import (
    CROP_SIDES,
    FACE_SIZE,
    UNCERTAIN,
    Box,
    Detector,
    Face,
    as_uint8_image,
    crop_faces,
    is_face_crop,
    locate_faces,
    make_detector,
)
from facial_emotion.labels import EMOTIONS
from facial_emotion.pictures import (
    DAMAGED_FILE_ERRORS,
    PICTURE_FORMATS,
    file_pixels,
    pil_pixels,
    require_few_scans,
    require_plain_tags,
    too_large,
    unreadable,
)

READABLE = "JPEG, PNG, BMP, GIF, TIFF or WebP"  # the formats named when a picture is refused
# A string longer than this is no path (Linux's PATH_MAX): base64 of a picture, taken for a name,
# gave a 160,000-character "damaged image" message
MAX_PATH = 4096

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

# a file path, its bytes, an open binary file, a PIL image, or pixels: HxW gray or HxWx3 RGB
ImageInput = Union[str, Path, bytes, bytearray, memoryview, BinaryIO, np.ndarray, "PILImage"]  # noqa: UP007 (PIL is imported lazily)


WEIGHTS = Path(__file__).parent / "weights"


def default_model_path() -> Path:
    """The model shipped with the package (trained on FER2013): the Keras reference."""
    path = WEIGHTS / "fer2013.keras"
    if not path.is_file():
        raise FacialEmotionError(
            f"{path}: no default model is installed with this package; "
            "pass --model models/model.keras (made by `dvc repro`)"
        )
    return path


def default_serving_path() -> Path:
    """What predict, video and the app run by default: the shipped model's int8 TensorFlow Lite
    export where installed (several times faster; its agreement with Keras is on its card)."""
    fast = WEIGHTS / "fer2013.int8.tflite"
    return fast if fast.is_file() else default_model_path()


def load_image(path: str | Path, max_pixels: int | None = None) -> np.ndarray:
    """An image file as uint8 RGB (or gray for a gray file), turned upright by its EXIF tag;
    ``max_pixels`` refuses larger pictures from their header, before they are decoded."""
    path = Path(path)
    try:
        return _decode(path, path, max_pixels)
    except FileNotFoundError as exc:
        raise FacialEmotionError(f"{path}: file not found; check the path") from exc
    except IsADirectoryError as exc:
        raise FacialEmotionError(f"{path}: is a folder, not an image") from exc
    except PermissionError as exc:
        raise unreadable(path) from exc


def _starts_as(source: Path | io.BytesIO) -> str | None:
    """What a file, or an upload's bytes, starts as: "JPEG" (an MPO too), "TIFF" (BigTIFF too)
    or None."""
    if isinstance(source, io.BytesIO):
        head = bytes(source.getbuffer()[:4])
    else:
        with source.open("rb") as file:
            head = file.read(4)
    if head[:2] == b"\xff\xd8":
        return "JPEG"
    return "TIFF" if head in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+") else None


def _decode(
    source: Path | io.BytesIO, name: str | Path, max_pixels: int | None = None
) -> np.ndarray:
    """A file, or its bytes as web uploads come, read by PIL; each failure named in one line."""
    from PIL import Image, UnidentifiedImageError

    def contents() -> bytes:
        return source.read_bytes() if isinstance(source, Path) else source.getvalue()

    try:
        # before Pillow opens it: its header reader walks a JPEG's segments and the bytes between
        # them in Python, which 50 MB of them held for 13 s
        if (kind := _starts_as(source)) in ("JPEG", "TIFF"):
            data = contents()
            if kind == "JPEG":
                require_few_scans(data, name)
            else:  # Pillow reads a TIFF's tags as it opens it
                require_plain_tags(data, name)
            source = io.BytesIO(data)  # Pillow decodes the bytes held: the file is read once
        with warnings.catch_warnings():
            # PIL warns from 89 million pixels (a large phone photo reads fine) and refuses
            # from twice that, which the error below explains
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(source, formats=PICTURE_FORMATS) as img:
                require_at_most(img.width, img.height, max_pixels, name)
                return file_pixels(img, contents, name)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except UnidentifiedImageError as exc:
        if (source.stat().st_size if isinstance(source, Path) else source.getbuffer().nbytes) == 0:
            raise FacialEmotionError(
                f"{name}: empty file (0 bytes); remove or replace the file"
            ) from exc
        raise FacialEmotionError(f"{name}: not a readable picture; pass a {READABLE} file") from exc
    except Image.DecompressionBombError as exc:  # Pillow's limit, met before a lower one asked
        if max_pixels is not None and max_pixels <= 2 * (Image.MAX_IMAGE_PIXELS or 0):
            raise FacialEmotionError(
                f"{name}: more than the {max_pixels / 1e6:.3g} million pixels read here; "
                "scale it down first"
            ) from exc
        raise too_large(name) from exc
    except DAMAGED_FILE_ERRORS as exc:
        raise FacialEmotionError(
            f"{name}: damaged or truncated image ({exc}); save or copy it again"
        ) from exc


def as_pixels(image: ImageInput, max_pixels: int | None = None) -> np.ndarray:
    """Any accepted input as pixels: a file, its bytes (as web uploads come) or an open binary
    file is read, a PIL image turned upright by its EXIF tag. ``max_pixels`` refuses larger
    pictures, files and bytes from their header, before they are decoded."""
    from PIL import Image

    if isinstance(image, str) and (
        len(image) > MAX_PATH or image.startswith("data:") or "://" in image
    ):
        raise FacialEmotionError(
            f"{image[:60]!r}{'...' if len(image) > 60 else ''} ({len(image)} characters) is not a "
            "file path: URLs are not "
            "fetched and base64 is not decoded here; pass the bytes (base64.b64decode(...), or "
            "the downloaded file)"
        )
    if isinstance(image, str | Path):
        return load_image(image, max_pixels)
    if hasattr(image, "read"):  # an open file, such as a web framework's upload
        return _read_open_file(image, max_pixels)
    if isinstance(image, bytes | bytearray | memoryview):
        data = bytes(image)
        return _decode(io.BytesIO(data), f"the image bytes ({len(data)} bytes)", max_pixels)
    if isinstance(image, Image.Image):
        return _read_pil_image(image, max_pixels)
    pixels = np.asarray(image)
    if pixels.dtype == object or pixels.ndim == 0:
        raise FacialEmotionError(
            f"{type(image).__name__} is not an image; pass a file path, the file's bytes, an open "
            "file, a PIL image or pixels (HxW gray or HxWx3 RGB)"
        )
    if pixels.ndim >= 2:
        require_at_most(pixels.shape[1], pixels.shape[0], max_pixels, "the pixels")
    if pixels.ndim == 3 and pixels.shape[2] == 4:
        return _over_white(pixels)
    return pixels


def _over_white(rgba: np.ndarray) -> np.ndarray:
    """RGBA pixels (of any accepted type) laid over white, as a transparent file is read: their
    alpha was dropped, so a face cut out of its background read over whatever colour the
    transparent pixels held (happy 0.31 where the same PNG read 0.27)."""
    from PIL import Image

    colour, alpha = as_uint8_image(rgba[..., :3]), as_uint8_image(rgba[..., 3])
    return pil_pixels(Image.fromarray(np.dstack([colour, alpha]), "RGBA"))


def _read_open_file(file: Any, max_pixels: int | None) -> np.ndarray:
    """An open file's pixels, read from its start: a web framework may have read the upload
    already (to save or sniff it). One opened as text, closed, or whose read() is asynchronous
    is refused in one line that says what to pass instead."""
    name = getattr(file, "filename", None) or getattr(file, "name", None) or "the file"
    if isinstance(file, io.TextIOBase):
        raise FacialEmotionError(f"{name}: opened as text; open it in binary mode ('rb')")
    if getattr(file, "closed", False):  # read after its `with` block: a bare ValueError
        raise FacialEmotionError(
            f"{name}: the file is closed; pass it while open, or pass its bytes"
        )
    if getattr(file, "seekable", lambda: False)():
        file.seek(0)
    data = file.read()
    if inspect.isawaitable(data):
        if inspect.iscoroutine(data):  # else "never awaited" warns; a Future has no close()
            data.close()
        raise FacialEmotionError(
            f"{name}: its read() is asynchronous; pass `await upload.read()`, the bytes"
        )
    return _decode(io.BytesIO(data), name, max_pixels)


def _read_pil_image(image: PILImage, max_pixels: int | None) -> np.ndarray:
    """A PIL image's pixels: it decodes lazily, so a damaged or closed one fails only here."""
    require_at_most(image.width, image.height, max_pixels, "the PIL image")
    try:
        return pil_pixels(image)
    except (OSError, ValueError, SyntaxError, AssertionError) as exc:
        raise FacialEmotionError(
            f"the PIL image: damaged, truncated or already closed ({exc or type(exc).__name__})"
            "; open it again, or pass its bytes"
        ) from exc


def require_at_most(width: int, height: int, max_pixels: int | None, name: str | Path) -> None:
    """Refuse a picture past ``max_pixels``: a service's cap on what one request may cost."""
    if max_pixels is not None and width * height > max_pixels:
        raise FacialEmotionError(
            f"{name}: {width}x{height} is more than the {max_pixels / 1e6:.3g} million pixels "
            "read here; scale it down first"
        )


def _require_detector(detector: object) -> None:
    """A detector name, or an object that finds boxes and says how wide a crop it frames,
    refused where it is passed rather than when the first picture reaches it."""
    scale = getattr(detector, "crop_scale", None)
    if not isinstance(detector, str) and not (
        callable(getattr(detector, "boxes", None)) and isinstance(scale, int | float) and scale > 0
    ):
        raise FacialEmotionError(
            f"detector {detector!r} is not a detector; pass 'haar', 'mtcnn' or an object "
            "with a boxes(image) method and a crop_scale above 0 (1.0 crops the box's square)"
        )


def _require_precision(precision: str, model_path: Path) -> None:
    """A compute type the model can take: a TensorFlow Lite model runs as it was exported, so
    asking it for another would be ignored without a word."""
    if precision not in ("auto", "float32", "mixed_bfloat16"):
        raise FacialEmotionError(
            f"precision {precision!r}: choose auto (bfloat16 where the CPU computes it), "
            "float32 (the figures evaluate reports) or mixed_bfloat16"
        )
    if precision != "auto" and model_path.suffix.lower() == ".tflite":
        raise FacialEmotionError(
            f"precision {precision!r} is a Keras model's setting, and {model_path} is a "
            "TensorFlow Lite model, which runs as it was exported; pass its .keras model "
            "(default_model_path() for the shipped one) or leave precision at auto"
        )


def _require_max_pixels(max_pixels: int | None) -> None:
    """A cap that is a whole, positive count: True is an int, and 0 would refuse every picture."""
    if max_pixels is not None and (
        isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1
    ):
        raise FacialEmotionError(
            f"max_pixels {max_pixels!r}: pass a whole number of pixels, such as 25_000_000, "
            "or None for no cap"
        )


def _require_min_confidence(min_confidence: float | None) -> None:
    """A probability, from any numeric type: np.float32, a model's own output, is no float."""
    if min_confidence is not None and (
        isinstance(min_confidence, bool | np.bool_)
        or not isinstance(min_confidence, numbers.Real)
        or not 0 <= min_confidence <= 1
    ):
        raise FacialEmotionError(
            f"min_confidence {min_confidence!r}: pass a probability from 0 to 1, such as 0.5, "
            "or None to name every face's top emotion"
        )


class EmotionRecognizer:
    """Detect faces and read their emotions: ``EmotionRecognizer().detect("photo.jpg")``.

    ``model`` is a ``.keras`` or ``.tflite`` file in the project format (default: the shipped
    model, see :func:`default_serving_path`); ``detector`` is ``"haar"`` (fast), ``"mtcnn"``
    (finds harder faces) or a detector object (see :mod:`facial_emotion.faces`); ``precision``
    is a Keras model's compute type (``auto``: bfloat16 where the CPU computes it natively);
    ``max_pixels`` refuses larger pictures, files and bytes before they are decoded (a service's
    cap: without it a 178-million-pixel upload, under Pillow's own limit, is decoded whole);
    ``min_confidence`` names a face ``"uncertain"`` when its top probability is under it, so an
    app can abstain (its probabilities and score stay; the shipped model's card gives how many
    faces each threshold keeps and how often those are right).
    """

    def __init__(
        self,
        model: str | Path | None = None,
        detector: str | Detector = "haar",
        precision: str = "auto",
        max_pixels: int | None = None,
        min_confidence: float | None = None,
    ) -> None:
        _require_detector(detector)
        if model is not None and not isinstance(model, str | Path):
            raise FacialEmotionError(
                f"model {model!r} is not a path; pass the path of a .keras or .tflite model"
            )
        self.detector = make_detector(detector) if isinstance(detector, str) else detector
        self.model_path = Path(model) if model is not None else default_serving_path()
        _require_precision(precision, self.model_path)
        _require_max_pixels(max_pixels)
        _require_min_confidence(min_confidence)
        self.precision = precision
        self.max_pixels = max_pixels
        self.min_confidence = None if min_confidence is None else float(min_confidence)
        self.backend = load_backend(self.model_path, precision=precision)
        self.classes: tuple[str, ...] = tuple(self.backend.card["classes"])

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled by its model's path and its detector, for process pools that start processes
        by spawning (macOS, Windows); each process loads the model again."""
        return type(self), (
            self.model_path,
            self.detector,
            self.precision,
            self.max_pixels,
            self.min_confidence,
        )

    def lacking_note(self) -> str | None:
        """What the model cannot read: real faces, when it was trained on the embedded synthetic
        ones (drawn shapes: one read a photo "angry 0.92"), or an emotion it lacks (a CK+ model
        has no neutral), a face showing which gets the nearest class it has. Either way nothing
        said so. Names the model's file only: the app shows it to every visitor."""
        notes = []
        source = self.backend.card.get("source")
        if isinstance(source, dict) and source.get("name") == "synthetic":
            notes.append(
                f"{self.model_path.name} was trained on the embedded synthetic faces, drawn "
                "shapes, so its readings of real faces mean nothing; use the shipped FER2013 "
                "model (the default) or train on real data (data.md)"
            )
        missing = [emotion for emotion in EMOTIONS if emotion not in self.classes]
        if missing:
            notes.append(
                f"{self.model_path.name} reads {', '.join(self.classes)}; it has no "
                f"{' or '.join(missing)}, so a face showing that is read as one of the others"
            )
        return "; ".join(notes) or None

    def classify(self, crops: np.ndarray) -> np.ndarray:
        """Probabilities (N, classes) for uint8 (N, 48, 48) face crops, each stretched to span
        0..255 first, as training and the other methods stretch them (a dim crop read otherwise)."""
        crops = np.asarray(crops)
        if crops.dtype != np.uint8 or crops.shape[1:] != (FACE_SIZE, FACE_SIZE):
            raise FacialEmotionError(
                f"classify takes uint8 (N, {FACE_SIZE}, {FACE_SIZE}) crops, as crop_faces cuts "
                f"them; got {crops.dtype} {crops.shape}: pass other crops to read_crops"
            )
        x = full_range(crops).astype(np.float32)[..., None]  # as every face was trained
        return np.asarray(self.backend.predict(x), np.float32)

    def faces_from(
        self,
        boxes: Sequence[Box],
        probs: np.ndarray,
        whole_image: bool = False,
        detector_scores: Sequence[float | None] | None = None,
    ) -> list[Face]:
        """``Face`` records from boxes, their rows of probabilities and the detector's scores
        (None: none given); a row whose top is under ``min_confidence`` is named ``"uncertain"``
        (video passes its smoothed rows here)."""
        faces = []
        if detector_scores is None:
            detector_scores = [None] * len(boxes)
        for (x, y, w, h), row, found in zip(boxes, probs, detector_scores, strict=True):
            top = int(np.argmax(row))
            sure = self.min_confidence is None or row[top] >= self.min_confidence
            faces.append(
                Face(
                    box=(int(x), int(y), int(w), int(h)),
                    emotion=self.classes[top] if sure else UNCERTAIN,
                    score=float(row[top]),
                    probabilities={c: float(p) for c, p in zip(self.classes, row, strict=True)},
                    whole_image=whole_image,
                    detector_score=found,
                )
            )
        return faces

    def detect(self, image: ImageInput) -> list[Face]:
        """Faces in one image: a file path or its bytes, a PIL image, or pixels (HxW gray or HxWx3
        RGB)."""
        return self.detect_batch([image])[0]

    def read_crops(self, crops: Iterable[ImageInput]) -> list[Face]:
        """One face per image, for images that are face crops already, as an app's own face
        detector cuts them (any size, colour or gray): nothing is searched, so a tight crop the
        detectors would miss is read all the same."""
        crops = _images_of(crops, "read_crops")
        if len(crops) == 0:
            return []
        pixels = [as_uint8_image(as_pixels(crop, self.max_pixels)) for crop in crops]
        for i, p in enumerate(pixels):
            if p.min() == p.max():  # nothing to read, yet the model would name an emotion
                raise FacialEmotionError(
                    f"crop {i} ({p.shape[1]}x{p.shape[0]}) is one flat colour, not a face; "
                    "pass the faces your detector cut"
                )
            if min(p.shape[:2]) < CROP_SIDES.start:  # a 2x2 "face" was read as sad
                raise FacialEmotionError(
                    f"crop {i} ({p.shape[1]}x{p.shape[0]}) is too small to hold a face; pass "
                    f"crops of {CROP_SIDES.start} pixels a side or more"
                )
        boxes = [(0, 0, p.shape[1], p.shape[0]) for p in pixels]
        squares = np.concatenate(
            [crop_faces(p, [p_box], 1.0) for p, p_box in zip(pixels, boxes, strict=True)]
        )
        return self.faces_from(boxes, self.classify(squares), whole_image=True)

    @overload
    def detect_batch(
        self, images: Iterable[ImageInput], errors: Literal["raise"] = "raise"
    ) -> list[list[Face]]: ...

    @overload
    def detect_batch(
        self, images: Iterable[ImageInput], errors: Literal["return"]
    ) -> list[list[Face] | FacialEmotionError]: ...

    def detect_batch(
        self, images: Iterable[ImageInput], errors: str = "raise"
    ) -> list[list[Face]] | list[list[Face] | FacialEmotionError]:
        """Faces per image; every face of every image goes through the model in one call.

        Each image is searched as soon as it is read and only its face crops are kept, so a
        batch holds one photo's pixels at a time. A batch saves model calls, not detection,
        which is most of the time on photos. With ``errors="raise"`` an image that cannot be
        read stops the batch with an error naming its position; with ``errors="return"`` its
        ``FacialEmotionError`` takes its place in the list and the other images are read, as
        ``predict`` reports a file and reads on (one bad file of thousands lost them all)."""
        if errors not in ("raise", "return"):
            raise FacialEmotionError(
                f"errors={errors!r}: pass 'raise' (an image that cannot be read stops the batch) "
                "or 'return' (its error in its place in the list)"
            )
        images = _images_of(images, "detect_batch")
        located: list[tuple[Any, ...] | FacialEmotionError] = []
        for i, image in enumerate(images):
            try:
                pixels = as_uint8_image(as_pixels(image, self.max_pixels))
                located.append((*locate_faces(pixels, self.detector), is_face_crop(pixels)))
            except FacialEmotionError as exc:
                if errors == "return":
                    located.append(exc)
                    continue
                if len(images) == 1:
                    raise
                raise FacialEmotionError(f"image {i} of {len(images)}: {exc}") from exc
        crops = [item[1] for item in located if not isinstance(item, FacialEmotionError)]
        probs = self.classify(np.concatenate(crops)) if crops else np.zeros((0, len(self.classes)))
        result: list[list[Face] | FacialEmotionError] = []
        start = 0
        for item in located:
            if isinstance(item, FacialEmotionError):
                result.append(item)
                continue
            boxes, c, scores, whole = item
            rows = probs[start : start + len(c)]
            result.append(self.faces_from(boxes, rows, whole_image=whole, detector_scores=scores))
            start += len(c)
        return result


def _images_of(
    images: Iterable[ImageInput] | np.ndarray, method: str
) -> Sequence[ImageInput] | np.ndarray:
    """A list of images, or an (N, H, W[, 3]) array of them; one image passed where several go
    would be read as a list of its characters, bytes or pixel rows."""
    from PIL import Image

    if isinstance(images, np.ndarray):
        if images.ndim in (3, 4) and not (images.ndim == 3 and images.shape[2] in (3, 4)):
            return images
        if images.ndim == 1 and images.dtype.kind in "OUS":  # paths, as pandas hands them over
            return images.tolist()
    elif not isinstance(images, str | Path | bytes | bytearray | memoryview | Image.Image) and not (
        hasattr(images, "read")
    ):
        try:
            return list(images)
        except TypeError:
            raise FacialEmotionError(
                f"{method} takes a list of images; got {type(images).__name__}"
            ) from None
    raise FacialEmotionError(
        f"{method} takes a list of images; got one {type(images).__name__}: pass [image] "
        "(or call detect for one image)"
    )
