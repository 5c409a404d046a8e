"""Read faces with an exported .tflite model and no facial_emotion package: the model card's
"On a device" recipe in code, for porting to an app (Android, a Raspberry Pi, a browser).

Needs only numpy, OpenCV 4 (``opencv-python-headless<5``, for its Haar cascade) and
``ai-edge-litert``. Run from anywhere:

    python examples/litert_standalone.py src/facial_emotion/weights/fer2013.int8.tflite photo.jpg

It prints one JSON line per image, with the boxes, emotions and probabilities that
``facial-emotion predict --json`` gives for the same file (tests/test_standalone_example.py
checks that they are the same). Each step says where a port most easily goes wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
from ai_edge_litert import schema_py_generated
from ai_edge_litert.interpreter import Interpreter

FACE = 48
SEARCH_SIDE = 1024  # photos are searched on a copy at most this many pixels a side (video: 320)
CLOSE_UP_MARGIN = 0.3  # border of edge pixels for a second search, as a fraction of the side
HAAR_CROP_SCALE = 1.02  # the crop's side over the Haar box's longer side: FER2013's framing


def overlap(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """The area two (x, y, w, h) boxes share, as a fraction of the smaller one's."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(w, 0) * max(h, 0) / min(a[2] * a[3], b[2] * b[3])


def shrunk(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """A copy at most ``SEARCH_SIDE`` pixels a side, shrunk with area averaging (bilinear moved
    a box in a 1536x1800 photo), and its scale."""
    scale = SEARCH_SIDE / max(gray.shape)
    if scale >= 1:
        return gray, 1.0
    size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def haar_boxes(cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[tuple[int, ...]]:
    """Boxes in ``gray``'s pixels, searched on its shrunk, histogram-equalised copy, one per
    face: of two boxes sharing more than half of the smaller, the one with more neighbours is
    kept (a tie: the one found first)."""
    small, scale = shrunk(gray)
    found, neighbours = cascade.detectMultiScale2(
        cv2.equalizeHist(small), scaleFactor=1.1, minNeighbors=4, minSize=(24, 24)
    )
    boxes = [tuple(round(int(v) / scale) for v in box) for box in found]
    strengths = [int(n) for n in np.ravel(neighbours)]
    kept: list[int] = []
    for i in sorted(range(len(boxes)), key=lambda i: -strengths[i]):  # a stable sort
        if all(overlap(boxes[i], boxes[k]) <= 0.5 for k in kept):
            kept.append(i)
    return [boxes[i] for i in sorted(kept)]


def find_faces(cascade: cv2.CascadeClassifier, gray: np.ndarray) -> list[tuple[int, ...]]:
    """Face boxes (x, y, w, h) in the photo's pixels, left to right. A photo with none found is
    searched again: its shrunk copy inside a border of its edge pixels, which finds faces cropped
    tight (2 of 12 close-ups here); such a box may reach past the photo's edge."""
    boxes = haar_boxes(cascade, gray)
    if not boxes:
        small, scale = shrunk(gray)
        pad = round(CLOSE_UP_MARGIN * max(small.shape))
        padded = cv2.copyMakeBorder(small, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        boxes = [
            tuple(round(v / scale) for v in (x - pad, y - pad, w, h))
            for x, y, w, h in haar_boxes(cascade, padded)  # shrunk again when past 1024 px
        ]
    return sorted(boxes, key=lambda b: (b[0], b[1]))


def clipped(box: tuple[int, ...], gray: np.ndarray) -> list[int]:
    """The part of a box inside the photo, as predict reports it (the crop uses the whole box)."""
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    return [x0, y0, min(gray.shape[1], x + w) - x0, min(gray.shape[0], y + h) - y0]


def crop(gray: np.ndarray, box: tuple[int, ...], crop_scale: float) -> np.ndarray:
    """The 48x48 face: a square on the box centre, ``crop_scale`` times the box's longer side,
    edge pixels copied outwards past the photo; shrunk with area averaging, enlarged bilinearly."""
    x, y, w, h = box
    side = max(1, round(crop_scale * max(w, h)))
    x0, y0 = round(x + w / 2 - side / 2), round(y + h / 2 - side / 2)
    pad = max(0, -x0, -y0, x0 + side - gray.shape[1], y0 + side - gray.shape[0])
    if pad:
        gray = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x0, y0 = x0 + pad, y0 + pad
    square = gray[y0 : y0 + side, x0 : x0 + side]
    interpolation = cv2.INTER_AREA if side > FACE else cv2.INTER_LINEAR
    return cv2.resize(square, (FACE, FACE), interpolation=interpolation)


def stretch(face: np.ndarray) -> np.ndarray | None:
    """The crop stretched to span 0..255, as every training face was; None for a flat crop.
    In float32 with the factor computed once, and rounded half to even (numpy's round, Java's
    Math.rint): Math.round's half up changed pixels of 180 of 700 dimmed FER2013 faces."""
    low, high = np.float32(face.min()), np.float32(face.max())
    if low == high:
        return None
    factor = np.float32(255) / (high - low)
    return np.round((face.astype(np.float32) - low) * factor).astype(np.uint8)


def faces_of(cascade: cv2.CascadeClassifier, gray: np.ndarray) -> tuple[list, list]:
    """Boxes and stretched 48x48 crops. A small square picture (16-96 px, not one flat colour)
    is a face crop already, such as FER2013's 48x48 faces: it is read whole, not searched."""
    h, w = gray.shape
    if h == w and 16 <= h <= 96 and gray.min() != gray.max():
        found, crops = [(0, 0, w, h)], [crop(gray, (0, 0, w, h), 1.0)]
    else:
        found = find_faces(cascade, gray)
        crops = [crop(gray, box, HAAR_CROP_SCALE) for box in found]
    pairs = [(box, s) for box, c in zip(found, crops, strict=True) if (s := stretch(c)) is not None]
    return [b for b, _ in pairs], [s for _, s in pairs]


def probabilities(interpreter: Interpreter, faces: list[np.ndarray]) -> np.ndarray:
    """(N, classes) probabilities. The input is quantized and the output read back with the
    tensors' own scale and zero point (the shipped int8 model: bytes as they are in, q / 256
    out; a float32 export takes the pixels as float32 0..255); an int8 model's rows, which sum
    to 0.99-1.01, are rescaled to sum to 1, as the package does."""
    if not faces:
        return np.zeros((0, 0), np.float32)
    inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    interpreter.resize_tensor_input(inp["index"], [len(faces), FACE, FACE, 1])  # batch is free
    interpreter.allocate_tensors()
    x = np.stack(faces).astype(np.float32)[..., None]
    scale, zero = inp["quantization"]
    if inp["dtype"] != np.float32:
        info = np.iinfo(inp["dtype"])
        x = np.clip(np.round(x / scale + zero), info.min, info.max)
    interpreter.set_tensor(inp["index"], x.astype(inp["dtype"]))
    interpreter.invoke()
    y = interpreter.get_tensor(out["index"]).astype(np.float32)
    scale, zero = out["quantization"]
    if out["dtype"] == np.float32:
        return y
    y = (y - zero) * scale
    return y / y.sum(axis=1, keepdims=True)


def read_photo(path: str) -> np.ndarray:
    """uint8 gray pixels, upright by the EXIF tag (OpenCV applies it; Android's BitmapFactory
    does not). Gray is 0.299 R + 0.587 G + 0.114 B, as OpenCV weighs it."""
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    if bgr is None:
        raise SystemExit(f"{path}: not a readable picture")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)


def classes_for(model: Path) -> list[str]:
    """The classes in the order of the model's outputs, from the card the export stores in the
    file as the metadata entry ``facial_emotion.card`` (JSON); C++ reads it with
    ``FlatBufferModel::ReadAllMetadata()``. Never assume FER2013's order: a CK+ model also has
    7 outputs, in another order."""
    tflite = schema_py_generated.Model.GetRootAs(model.read_bytes(), 0)
    for i in range(tflite.MetadataLength()):
        if tflite.Metadata(i).Name() == b"facial_emotion.card":
            card = tflite.Buffers(tflite.Metadata(i).Buffer()).DataAsNumpy().tobytes()
            return json.loads(card)["classes"]
    # an export older than that: the card beside it (model.int8.json or model.json)
    for card in (model.with_suffix(".json"), model.with_name(model.name.split(".")[0] + ".json")):
        if card.is_file():
            return json.loads(card.read_text(encoding="utf-8"))["classes"]
    raise SystemExit(f"{model}: names no classes, and no card is beside it; export it again")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="a .tflite export")
    parser.add_argument("images", nargs="+", help="photos or 48x48 face crops")
    parser.add_argument("--threads", type=int, default=2, help="interpreter threads (default 2)")
    args = parser.parse_args()
    interpreter = Interpreter(model_path=str(args.model), num_threads=args.threads)
    classes = classes_for(args.model)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_alt2.xml")
    for path in args.images:
        gray = read_photo(path)
        boxes, faces = faces_of(cascade, gray)
        rows = probabilities(interpreter, faces)
        records = [
            {
                "box": clipped(box, gray),
                "emotion": classes[int(np.argmax(row))],  # a tie: the first class
                "score": float(row.max()),
                "probabilities": dict(zip(classes, map(float, row), strict=True)),
            }
            for box, row in zip(boxes, rows, strict=True)
        ]
        json.dump({"file": path, "faces": records}, sys.stdout)
        print()


if __name__ == "__main__":
    main()
