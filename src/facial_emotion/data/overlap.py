"""Faces that repeat: within a split, and between training and the splits that score a model.

A val or test face identical to a training face is not an unseen face, so it flatters a score;
FER2013's folders hold 279 such val faces, 12 of them labelled otherwise in train, and at least
160 more that are the same photograph as a training face, shifted, re-cropped or re-scaled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import cv2
import numpy as np
import pandas as pd

from facial_emotion.data.prepared import LabelledImages, PreparedData


def _key(face: np.ndarray) -> bytes | None:
    """A face's pixels as a short key; None for faces of one flat colour (blank images), which
    say nothing of a face and are left out."""
    return hashlib.blake2b(face.tobytes()).digest() if face.min() != face.max() else None


def blank_count(split: LabelledImages) -> int:
    """Faces of one flat grey level, as :func:`_key` leaves out."""
    return int((split.x.min(axis=(1, 2)) == split.x.max(axis=(1, 2))).sum())


def identical_to_training(
    train: LabelledImages, *splits: LabelledImages
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two masks per split: its faces identical, pixel for pixel, to a training face, and those
    of them labelled otherwise there."""
    labels = _labels_by_face(_keys(train), train.y)
    return [_identical(labels, _keys(split), split.y) for split in splits]


def shared_faces(data: PreparedData) -> pd.DataFrame:
    """Per split: its faces, blank ones, repeats within it and faces it holds under two labels,
    and (for the splits other than train) faces identical to a training face, how many of those
    train labels otherwise, and near copies of a training face that are not identical (blank
    for the synthetic faces)."""
    keys = {name: _keys(split) for name, split in data.splits.items()}
    train = data.splits["train"]
    labels = _labels_by_face(keys["train"], train.y)
    scored = {name: split for name, split in data.splits.items() if name != "train"}
    # the synthetic faces are drawn from a few shapes, so different ones match as copies (237 of
    # 7,000 val and test faces, each another face by eye): for them the count would be noise
    near_masks = (
        dict(zip(scored, near_copies(train, *scored.values()), strict=True))
        if data.source.get("name") != "synthetic"
        else {}
    )
    rows = {}
    for name, split in data.splits.items():
        blank, repeated, under_two_labels = _within(keys[name], split.y)
        row: dict[str, int | None] = {
            "faces": len(split),
            "blank": blank,
            "repeated_within_split": repeated,
            "under_two_labels": under_two_labels,
        }
        if name == "train":
            identical = relabelled = near = None
        else:
            identical_mask, relabelled_mask = _identical(labels, keys[name], split.y)
            identical, relabelled = int(identical_mask.sum()), int(relabelled_mask.sum())
            near = int((near_masks[name] & ~identical_mask).sum()) if near_masks else None
        rows[name] = row | {
            "identical_to_a_training_face": identical,
            "of_those_labelled_otherwise": relabelled,
            "near_copies_of_a_training_face": near,
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("split").astype("Int64")


def labelled_two_ways(data: PreparedData) -> list[tuple[str, int, int]]:
    """Faces that training also holds under another label, as ``(split, index, training
    index)``: first those of the scored splits, which cost any model its score, then train's
    repeats under a label their face had not had yet. Where the data gives one face two
    answers, no model can read both right."""
    train = data.splits["train"]
    first_by_label: dict[bytes, dict[int, int]] = {}
    in_train = []
    for index, (key, y) in enumerate(zip(_keys(train), train.y, strict=True)):
        if key is None:
            continue
        labels = first_by_label.setdefault(key, {})
        if labels and int(y) not in labels:
            in_train.append(("train", index, next(iter(labels.values()))))
        labels.setdefault(int(y), index)
    scored = []
    for name, split in data.splits.items():
        if name == "train":
            continue
        for index, (key, y) in enumerate(zip(_keys(split), split.y, strict=True)):
            labels = first_by_label.get(key, {}) if key is not None else {}
            other = next((i for label, i in labels.items() if label != y), None)
            if other is not None:
                scored.append((name, index, other))
    return scored + in_train


def repeats_within(split: LabelledImages) -> tuple[int, int]:
    """The split's faces that repeat an earlier face of it, pixel for pixel, and the distinct
    faces it holds under two or more labels (FER2013's Training: 1,226 and 38). Blank images are
    left out, as in :func:`shared_faces`."""
    return _within(_keys(split), split.y)[1:]


def _within(keys: list[bytes | None], labels: np.ndarray) -> tuple[int, int, int]:
    """Blank faces, repeats of an earlier face, and distinct faces under two or more labels."""
    found = _labels_by_face(keys, labels)
    kept = sum(1 for key in keys if key is not None)
    return len(keys) - kept, kept - len(found), sum(1 for seen in found.values() if len(seen) > 1)


def _keys(split: LabelledImages) -> list[bytes | None]:
    return [_key(x) for x in split.x]


def _labels_by_face(keys: list[bytes | None], labels: np.ndarray) -> dict[bytes, set[int]]:
    found: dict[bytes, set[int]] = {}
    for key, y in zip(keys, labels, strict=True):
        if key is not None:
            found.setdefault(key, set()).add(int(y))
    return found


def _identical(
    train_labels: dict[bytes, set[int]], keys: list[bytes | None], labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    seen = [train_labels.get(key) if key is not None else None for key in keys]
    identical = np.array([s is not None for s in seen], bool)
    relabelled = np.array(
        [s is not None and s != {int(y)} for s, y in zip(seen, labels, strict=True)], bool
    )
    return identical, relabelled


NEAR_COPY = 0.95  # aligned correlation: every pair checked by eye at 0.950-0.952 was one photo
_THUMB = 16


def near_copies(train: LabelledImages, *splits: LabelledImages) -> list[np.ndarray]:
    """A mask per split of its faces that are a training face, identical or shifted a pixel or
    two, re-cropped or re-scaled (0.9-1.1): exact matching misses these copies of one photograph.
    Candidates come from 16x16 thumbnails (cosine over ``NEAR_COPY``, which larger shifts fall
    under, so this is a lower bound), then are confirmed by template matching at full size.
    Blank faces are left out. The training thumbnails are made once for all the splits.

    Each distinct face is searched once (repeats share its answer), and similarities are made a
    block at a time: a search of every face against every training face at once held a (1,024 x
    training faces) product, 0.9 GB for 230,000 of them."""
    train_faces = [train.x[i] for i in _distinct(train.x)[0]]
    thumbs_train = _thumbnails(train_faces)
    return [_near_copies(train_faces, thumbs_train, split) for split in splits]


# Faces of a split x training faces compared at a time: 16 MB of float32 similarities
_BLOCK = (1024, 4096)


def _near_copies(
    train_faces: list[np.ndarray], thumbs_train: np.ndarray, split: LabelledImages
) -> np.ndarray:
    first, of_face = _distinct(split.x)
    faces = [split.x[i] for i in first]
    thumbs = _thumbnails(faces)
    found = np.zeros(len(faces), bool)
    rows, columns = _BLOCK
    for start in range(0, len(faces), rows):
        for left in range(0, len(train_faces), columns):
            block = thumbs[start : start + rows] @ thumbs_train[left : left + columns].T
            for row, column in zip(*np.nonzero(block > NEAR_COPY), strict=True):
                face, other = start + row, train_faces[left + column]
                found[face] = found[face] or _aligned(faces[face], other) >= NEAR_COPY
    return found[of_face]


def _distinct(faces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The index of each distinct face's first copy, and for every face which distinct face it
    is: repeats have one answer, so they are searched once."""
    first: dict[bytes, int] = {}
    of_face = [
        first.setdefault(hashlib.blake2b(face.tobytes()).digest(), i)
        for i, face in enumerate(faces)
    ]
    order = np.array(list(first.values()), np.int64)
    return order, np.searchsorted(order, np.array(of_face, np.int64))


def _thumbnails(faces: Sequence[np.ndarray]) -> np.ndarray:
    """Unit-length, zero-mean 16x16 copies (zeros for blank faces, which match nothing)."""
    small = (
        np.stack(
            [cv2.resize(face, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA) for face in faces]
        )
        .reshape(len(faces), -1)
        .astype(np.float32)
    )
    small -= small.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(small, axis=1, keepdims=True)
    return np.divide(small, norms, out=np.zeros_like(small), where=norms > 1e-6)


def _aligned(face: np.ndarray, other: np.ndarray) -> float:
    """The best correlation of ``face``'s centre with ``other``, shifted and scaled."""
    centre = face[6:42, 6:42].astype(np.float32)
    best = -1.0
    for scale in (0.9, 0.95, 1.0, 1.05, 1.1):
        resized = other if scale == 1 else cv2.resize(other, None, fx=scale, fy=scale)
        padded = cv2.copyMakeBorder(resized.astype(np.float32), 6, 6, 6, 6, cv2.BORDER_REFLECT)
        best = max(best, float(cv2.matchTemplate(padded, centre, cv2.TM_CCOEFF_NORMED).max()))
    return best
