"""Mark the faces found on a picture: each box in its emotion's colour, with "emotion score%".

The colours keep WCAG's contrast: each box has a dark edge, and each label is black or white,
whichever reads better on its band. ``predict --annotate``, ``video`` and the app draw with it.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from facial_emotion.faces import UNCERTAIN, Face, as_uint8_image

_EMOTION_COLOURS_BGR: dict[str, tuple[int, int, int]] = {
    "angry": (40, 40, 220),
    "disgust": (40, 140, 40),
    "fear": (160, 60, 160),
    "happy": (0, 200, 255),
    "sad": (200, 120, 40),
    "surprise": (0, 140, 255),
    "neutral": (200, 200, 200),
    "contempt": (120, 80, 0),
}


def _luminance(bgr: tuple[int, int, int]) -> float:
    """WCAG's relative luminance of an sRGB colour."""
    linear = [c / 255 / 12.92 if c <= 10 else ((c / 255 + 0.055) / 1.055) ** 2.4 for c in bgr]
    b, g, r = linear
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def caption_colour(fill: tuple[int, int, int]) -> tuple[int, int, int]:
    """Black or white, whichever contrasts more with ``fill``: black on the fear and angry
    bands fell below WCAG's 4.5:1 (3.65 and 4.38), on contempt's to 2.42."""
    light = _luminance(fill) + 0.05
    return (0, 0, 0) if light / 0.05 >= 1.05 / light else (255, 255, 255)


def draw_faces(bgr: np.ndarray, faces: list[Face]) -> np.ndarray:
    """Draw each face's box and "emotion score%" label on a BGR image, in place; returns it."""
    thickness = max(1, round(max(bgr.shape[:2]) / 400))
    width = bgr.shape[1]
    for face in faces:
        x, y, w, h = face.box
        colour = _EMOTION_COLOURS_BGR.get(face.emotion, (255, 255, 255))
        # A dark edge just outside the line: happy's, neutral's and surprise's boxes stood at
        # 1.55-2.33:1 against white, under the 3:1 WCAG asks of graphics; a whole-picture box's
        # edge falls outside the picture, so a face crop is not drawn over.
        edge = max(1, thickness // 2)
        outside = ((x - edge, y - edge), (x + w + edge, y + h + edge))
        cv2.rectangle(bgr, *outside, (0, 0, 0), thickness)
        cv2.rectangle(bgr, (x, y), (x + w, y + h), colour, thickness)
        # "uncertain 66%" read as 66% unsure: the score is the unnamed top emotion's
        label = face.emotion if face.emotion == UNCERTAIN else f"{face.emotion} {face.score:.0%}"
        # The font grows with the face, up to a size the picture can be read at when shown
        # whole: a 12000 px photo's label stayed 1.5 units high under 30 px strokes, a blob.
        font_scale = max(0.4, min(max(1.5, max(bgr.shape[:2]) / 1000), w / 160))
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, 1)
        room = width - 6  # the band spans tw + 5 pixels; one more keeps it off the edge
        if tw > room:  # a narrow picture: the whole label in a smaller font
            font_scale *= room / tw
        stroke = max(1, round(font_scale * 1.3))  # bold enough to read, open enough not to blot
        (tw, th), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, font_scale, stroke)
        lx = max(0, min(x, room - tw))  # a face at the right edge: its label moves left
        above, below = y - 4, y + h + th + 4
        if above - th - base >= 0:
            ty = above
        elif below + base <= bgr.shape[0]:
            ty = below
        else:  # the face fills the picture (a face crop): label inside the box's top
            ty = y + th + base + thickness
        cv2.rectangle(bgr, (lx, ty - th - base), (lx + tw + 4, ty + base), colour, cv2.FILLED)
        cv2.putText(
            bgr,
            label,
            (lx + 2, ty),
            cv2.FONT_HERSHEY_SIMPLEX,
            font_scale,
            caption_colour(colour),
            stroke,
            cv2.LINE_AA,
        )
    return bgr


LEGIBLE_SIDE = 240  # pixels: a smaller picture (a 48x48 crop) is enlarged for readable labels


def annotated_copy(image: np.ndarray, faces: list[Face]) -> np.ndarray:
    """A BGR copy of ``image`` with its faces marked. A picture under ``LEGIBLE_SIDE`` is first
    enlarged by a whole factor, pixels kept sharp: on a 48x48 crop a label could not be read."""
    rgb = as_uint8_image(image)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_GRAY2BGR if rgb.ndim == 2 else cv2.COLOR_RGB2BGR)
    factor = -(-LEGIBLE_SIDE // max(bgr.shape[:2]))
    if factor > 1:
        bgr = cv2.resize(bgr, None, fx=factor, fy=factor, interpolation=cv2.INTER_NEAREST)
        faces = [replace(f, box=tuple(v * factor for v in f.box)) for f in faces]
    return draw_faces(bgr, faces)
