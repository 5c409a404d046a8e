"""Training faces cut from photos, as ``predict`` cuts the faces it serves to the model.

A folder of photos read whole trains on shrunken scenes: each becomes one 48x48 "face". With
``data.detect_faces`` each photo's largest face is found and cropped by the same detector and
framing that ``predict``, ``video`` and the app use, so the model learns faces as it will be
shown them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from facial_emotion.data.images import read_gray
from facial_emotion.data.prepared import LabelledImages
from facial_emotion.errors import FacialEmotionError
from facial_emotion.faces import crop_face, find_boxes, is_face_crop, make_detector
from facial_emotion.wording import any_of, counted

DETECTOR = "haar"  # predict's default, at its photo size
PHOTO_CHUNK = 4  # files a thread takes at a time when each is searched for a face (~0.5 s each)
# how photos are searched, for the line that says no face was found: each caller adds what its
# user can do (prepare's sets data.detect_faces; evaluate's follows the model's card)
SEARCHED = (
    "searches a 1024 px copy of each photo for faces of 24 px or more there (about 95 px in a "
    "4032 px photo)"
)


def face_reader() -> Callable[[Path], np.ndarray | None]:
    """A reader of one file's largest face as a uint8 (48, 48) crop, or None when it has none.

    A small square gray picture is a face crop already and is used whole, as ``predict`` uses it.
    """
    detector = make_detector(DETECTOR)

    def read(path: Path) -> np.ndarray | None:
        image = read_gray(path)
        h, w = image.shape
        if is_face_crop(image) and not in_colour(path):  # predict searches a colour one
            return crop_face(image, (0, 0, w, h), 1.0)
        boxes = find_boxes(image, detector)
        if not boxes:
            return None
        largest = max(boxes, key=lambda box: box[2] * box[3])
        return crop_face(image, largest, detector.crop_scale)

    return read


def in_colour(path: Path) -> bool:
    """Whether a picture's channels differ, as predict tells a gray face crop from a colour one
    (OpenCV decodes it again, small as such pictures are; one it cannot decode counts as gray)."""
    colour = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_COLOR)
    return colour is not None and not (
        (colour[..., 0] == colour[..., 1]).all() and (colour[..., 1] == colour[..., 2]).all()
    )


class FaceFiles:
    """Reads each file's largest face, keeping the files with none for the manifest."""

    def __init__(self) -> None:
        self.read = face_reader()
        self.faceless: list[Path] = []
        # per split, so a score can say how many of its own photos it could not read: those are
        # left out of its denominator, and an accuracy over the rest reads higher than predict's
        self.faceless_by_split: dict[str, int] = {}
        # and per class code of each split: a score leaves out those of classes its model does
        # not know, as it leaves out their faces found
        self.faceless_by_class_by_split: dict[str, dict[int, int]] = {}
        # per split, the class codes none of whose photos had a face found: a score counted each
        # as a support of 0 in its JSON, and said nothing
        self.lost_classes_by_split: dict[str, list[int]] = {}

    def require_faces_of_each_class(
        self,
        classes: tuple[str, ...],
        listed: tuple[list[Path], np.ndarray],
        read: LabelledImages,
        root: Path,
        fix: str,
    ) -> None:
        """Stop when no face was found in any training photo of a class (or of all): the class
        would vanish, or prepare would blame its spelling. ``fix``: what its user can do."""
        files, y = listed
        if len(files) and not len(read):
            raise FacialEmotionError(
                f"{root}: no face found in {any_of(len(files))}its "
                f"{counted(len(files), 'training image')}; {fix}"
            )
        for code, name in enumerate(classes):
            wanted = int((y == code).sum())
            if wanted and not (read.y == code).any():
                raise FacialEmotionError(
                    f"{root}: no face found in {any_of(wanted)}the "
                    f"{counted(wanted, 'training image')} of {name}; {fix}"
                )

    def record(self, root: Path, classes: tuple[str, ...]) -> dict[str, object]:
        """What the manifest says of how faces were read, for prepare's warning and for scoring
        the model later on faces cut the same way."""
        record: dict[str, object] = {"faces": f"largest face found by {DETECTOR}"}
        if self.faceless:
            record["faceless_files"] = len(self.faceless)
            record["faceless_example"] = str(min(self.faceless).relative_to(root))
            record["faceless_by_split"] = dict(self.faceless_by_split)
            record["faceless_by_class_by_split"] = {
                split: {classes[code]: n for code, n in counts.items()}
                for split, counts in self.faceless_by_class_by_split.items()
                if counts
            }
        if lost := {
            split: [classes[code] for code in codes]
            for split, codes in self.lost_classes_by_split.items()
            if codes
        }:
            record["faceless_classes_by_split"] = lost
        return record
