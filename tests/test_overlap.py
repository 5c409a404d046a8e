"""Repeated faces: a val face that is also a training face is not an unseen face."""

import numpy as np
import pandas as pd

from facial_emotion.data import overlap, prepared


def _face(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (48, 48), dtype=np.uint8)


def _split(faces: list[np.ndarray], labels: list[int]) -> prepared.LabelledImages:
    return prepared.LabelledImages(np.stack(faces), np.array(labels))


def test_the_table_counts_repeats_and_faces_shared_with_training() -> None:
    blank = np.full((48, 48), 128, np.uint8)
    data = prepared.PreparedData(
        ("happy", "sad"),
        {
            "train": _split([_face(0), _face(0), _face(1), blank, blank], [0, 0, 1, 0, 0]),
            "val": _split([_face(0), _face(1), _face(2), blank], [0, 0, 1, 1]),
            "test": _split([_face(3), _face(3)], [0, 1]),
        },
    )
    table = overlap.shared_faces(data)
    expected = pd.DataFrame(
        {
            "faces": [5, 4, 2],
            "repeated_within_split": [1, 0, 1],  # blank images are no face to repeat
            "identical_to_a_training_face": [pd.NA, 2, 0],
            "of_those_labelled_otherwise": [pd.NA, 1, 0],  # face 1 is sad in train
        },
        index=pd.Index(["train", "val", "test"], name="split"),
    ).astype("Int64")
    pd.testing.assert_frame_equal(table, expected)


def test_repeats_within_a_split_count_faces_under_two_labels() -> None:
    """FER2013's Training holds 1,226 repeated faces, 38 of them under two or more labels."""
    blank = np.full((48, 48), 0, np.uint8)
    train = _split(
        [_face(0), _face(0), _face(0), _face(1), _face(1), _face(2), blank, blank],
        [0, 0, 1, 0, 1, 1, 0, 1],
    )
    assert overlap.repeats_within(train) == (3, 2)  # blank images are no face to repeat
    assert overlap.repeats_within(_split([_face(0), _face(1)], [0, 1])) == (0, 0)
