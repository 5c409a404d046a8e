"""Repeated faces: a val face that is also a training face is not an unseen face."""

import tracemalloc

import cv2
import numpy as np
import pandas as pd

from facial_emotion.data import overlap, prepared


def _face(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (48, 48), dtype=np.uint8)


def _split(faces: list[np.ndarray], labels: list[int]) -> prepared.LabelledImages:
    return prepared.LabelledImages(np.stack(faces), np.array(labels))


def test_the_table_counts_repeats_and_faces_shared_with_training() -> None:
    blank = np.full((48, 48), 128, np.uint8)
    photo = _photo(7)
    data = prepared.PreparedData(
        ("happy", "sad"),
        {
            "train": _split(
                [_face(0), _face(0), _face(1), blank, blank, photo[8:56, 8:56]], [0, 0, 1, 0, 0, 0]
            ),
            "val": _split(
                [_face(0), _face(1), _face(2), blank, photo[9:57, 7:55]], [0, 0, 1, 1, 0]
            ),
            "test": _split([_face(3), _face(3)], [0, 1]),
        },
    )
    table = overlap.shared_faces(data)
    expected = pd.DataFrame(
        {
            "faces": [6, 5, 2],
            "blank": [2, 1, 0],
            "repeated_within_split": [1, 0, 1],  # blank images are no face to repeat
            "under_two_labels": [0, 0, 1],
            "identical_to_a_training_face": [pd.NA, 2, 0],
            "of_those_labelled_otherwise": [pd.NA, 1, 0],  # face 1 is sad in train
            "near_copies_of_a_training_face": [pd.NA, 1, 0],  # the photo, shifted a pixel
        },
        index=pd.Index(["train", "val", "test"], name="split"),
    ).astype("Int64")
    pd.testing.assert_frame_equal(table, expected)


def test_near_copies_are_left_blank_for_the_drawn_synthetic_faces() -> None:
    """Drawn from a few shapes, different synthetic faces matched as copies: the published
    report counted 3 val faces and 1 test face, each another face by eye (review AM)."""
    photo = _photo(7)
    splits = {
        "train": _split([photo[8:56, 8:56]], [0]),
        "val": _split([photo[9:57, 7:55]], [0]),
    }
    table = overlap.shared_faces(prepared.PreparedData(("happy",), splits, {"name": "synthetic"}))
    assert table["near_copies_of_a_training_face"].isna().all()
    table = overlap.shared_faces(prepared.PreparedData(("happy",), splits, {"name": "folder"}))
    assert table.loc["val", "near_copies_of_a_training_face"] == 1


def test_faces_labelled_two_ways_are_paired_with_the_training_face() -> None:
    blank = np.full((48, 48), 0, np.uint8)
    data = prepared.PreparedData(
        ("happy", "sad", "angry"),
        {
            "train": _split(
                [_face(0), _face(0), _face(0), _face(0), blank, blank], [0, 1, 1, 2, 0, 1]
            ),
            "val": _split([_face(0), _face(5), blank, _face(0)], [1, 0, 0, 0]),
        },
    )
    # val first: its face 0 is happy in train, and its face 3 (happy) is sad there; then train:
    # the first repeat under each new label; blank images pair with nothing
    assert overlap.labelled_two_ways(data) == [
        ("val", 0, 0),
        ("val", 3, 1),
        ("train", 1, 0),
        ("train", 3, 0),
    ]


def test_repeats_within_a_split_count_faces_under_two_labels() -> None:
    """FER2013's Training holds 1,226 repeated faces, 38 of them under two or more labels."""
    blank = np.full((48, 48), 0, np.uint8)
    train = _split(
        [_face(0), _face(0), _face(0), _face(1), _face(1), _face(2), blank, blank],
        [0, 0, 1, 0, 1, 1, 0, 1],
    )
    assert overlap.repeats_within(train) == (3, 2)  # blank images are no face to repeat
    assert overlap.repeats_within(_split([_face(0), _face(1)], [0, 1])) == (0, 0)


def _photo(seed: int) -> np.ndarray:
    """A smooth 64x64 picture, from which shifted or rescaled 48x48 crops are cut."""
    noise = np.random.default_rng(seed).integers(0, 256, (64, 64)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 6)
    return cv2.normalize(smooth, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def test_a_shifted_or_rescaled_copy_of_a_training_photo_is_found() -> None:
    """FER2013's val holds at least 160 such copies beyond its 279 identical faces."""
    photo, other = _photo(0), _photo(1)
    train = _split([photo[8:56, 8:56], other[8:56, 8:56]], [0, 1])
    shifted = photo[9:57, 6:54]  # 1 pixel down, 2 left
    rescaled = cv2.resize(photo[6:58, 6:58], (48, 48), interpolation=cv2.INTER_AREA)
    unseen = _photo(2)[8:56, 8:56]
    blank = np.zeros((48, 48), np.uint8)
    val = _split([shifted, rescaled, unseen, photo[8:56, 8:56], blank], [0, 0, 1, 0, 1])
    (found,) = overlap.near_copies(train, val)
    assert found.tolist() == [True, True, False, True, False]


def test_repeated_faces_are_searched_once(monkeypatch) -> None:
    """A folder linked in several times repeats its faces: each repeat gives the same answer, so
    only distinct faces are compared and aligned, and the answer is given to every copy."""
    photo, other = _photo(0), _photo(1)
    train = _split([photo[8:56, 8:56]] * 30 + [other[8:56, 8:56]] * 30, [0] * 60)
    shifted = photo[9:57, 6:54]
    unseen = _photo(2)[8:56, 8:56]
    blank = np.zeros((48, 48), np.uint8)
    val = _split([shifted] * 10 + [unseen] * 3 + [blank] * 2 + [shifted], [0] * 16)
    original, aligned = overlap._aligned, []
    monkeypatch.setattr(
        overlap, "_aligned", lambda face, other: aligned.append(1) or original(face, other)
    )
    (found,) = overlap.near_copies(train, val)
    assert found.tolist() == [True] * 10 + [False] * 5 + [True]
    assert len(aligned) == 1  # the shifted photo against the photo, once


def test_the_search_holds_a_block_of_similarities_not_a_row_per_training_face() -> None:
    """auditBG: 230,000 training faces made each chunk of 1,024 faces a 0.9 GB product."""
    rng = np.random.default_rng(0)
    train = _split(list(rng.integers(0, 256, (20_000, 48, 48), dtype=np.uint8)), [0] * 20_000)
    val = _split(list(rng.integers(0, 256, (1_024, 48, 48), dtype=np.uint8)), [0] * 1_024)
    tracemalloc.start()
    try:
        overlap.near_copies(train, val)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # 58 MB: the training thumbnails (20 MB) and their float copies while they are made; a
    # product of 1,024 faces x every training face alone was 82 MB (and the search peaked at 124)
    assert peak < 80e6, f"{peak / 1e6:.0f} MB"
