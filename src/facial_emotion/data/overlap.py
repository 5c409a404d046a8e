"""Faces that repeat: within a split, and between training and the splits that score a model.

A val or test face identical to a training face is not an unseen face, so it flatters a score;
FER2013's folders hold 279 such val faces, 12 of them labelled otherwise in train.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from facial_emotion.data.prepared import LabelledImages, PreparedData


def _key(face: np.ndarray) -> bytes | None:
    """A face's pixels as a short key; None for faces of one flat colour (blank images), which
    say nothing of a face and are left out."""
    return hashlib.blake2b(face.tobytes()).digest() if face.min() != face.max() else None


def identical_to_training(
    train: LabelledImages, *splits: LabelledImages
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Two masks per split: its faces identical, pixel for pixel, to a training face, and those
    of them labelled otherwise there."""
    labels = _labels_by_face(_keys(train), train.y)
    return [_identical(labels, _keys(split), split.y) for split in splits]


def shared_faces(data: PreparedData) -> pd.DataFrame:
    """Per split: its faces, repeats within it, and (for the splits other than train) faces
    identical to a training face and how many of those train labels otherwise."""
    keys = {name: _keys(split) for name, split in data.splits.items()}
    labels = _labels_by_face(keys["train"], data.splits["train"].y)
    rows = {}
    for name, split in data.splits.items():
        kept = [key for key in keys[name] if key is not None]
        row = {"faces": len(split), "repeated_within_split": len(kept) - len(set(kept))}
        if name == "train":
            row |= {"identical_to_a_training_face": None, "of_those_labelled_otherwise": None}
        else:
            identical, relabelled = _identical(labels, keys[name], split.y)
            row |= {
                "identical_to_a_training_face": int(identical.sum()),
                "of_those_labelled_otherwise": int(relabelled.sum()),
            }
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("split").astype("Int64")


def repeats_within(split: LabelledImages) -> tuple[int, int]:
    """The split's faces that repeat an earlier face of it, pixel for pixel, and the distinct
    faces it holds under two or more labels (FER2013's Training: 1,226 and 38). Blank images are
    left out, as in :func:`shared_faces`."""
    labels = _labels_by_face(_keys(split), split.y)
    kept = sum(1 for key in _keys(split) if key is not None)
    return kept - len(labels), sum(1 for found in labels.values() if len(found) > 1)


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
