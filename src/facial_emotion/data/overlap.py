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
    labels: dict[bytes, set[int]] = {}
    for x, y in zip(train.x, train.y, strict=True):
        if (key := _key(x)) is not None:
            labels.setdefault(key, set()).add(int(y))
    masks = []
    for split in splits:
        seen = [labels.get(key) if (key := _key(x)) is not None else None for x in split.x]
        identical = np.array([s is not None for s in seen], bool)
        relabelled = np.array(
            [s is not None and s != {int(y)} for s, y in zip(seen, split.y, strict=True)], bool
        )
        masks.append((identical, relabelled))
    return masks


def repeats_within(split: LabelledImages) -> int:
    """Faces identical to an earlier face of the same split: the split holds that many fewer
    distinct faces than its count."""
    keys = [key for x in split.x if (key := _key(x)) is not None]
    return len(keys) - len(set(keys))


def shared_faces(data: PreparedData) -> pd.DataFrame:
    """Per split: its faces, repeats within it, and (for the splits other than train) faces
    identical to a training face and how many of those train labels otherwise."""
    others = {name: split for name, split in data.splits.items() if name != "train"}
    found = identical_to_training(data.splits["train"], *others.values())
    masks = dict(zip(others, found, strict=True))
    rows = {}
    for name, split in data.splits.items():
        identical, relabelled = masks.get(name, (None, None))
        rows[name] = {
            "faces": len(split),
            "repeated_within_split": repeats_within(split),
            "identical_to_a_training_face": None if identical is None else int(identical.sum()),
            "of_those_labelled_otherwise": None if relabelled is None else int(relabelled.sum()),
        }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("split").astype("Int64")
