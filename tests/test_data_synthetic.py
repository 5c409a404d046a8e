"""The synthetic default: seeded, balanced, learnable but not trivial, split by sub-seed."""

from __future__ import annotations

import numpy as np
import pytest

from facial_emotion.data import synthetic
from facial_emotion.labels import EMOTIONS


def test_generate_is_balanced_uint8_faces_and_seeded() -> None:
    x, y = synthetic.generate(71, seed=3)
    x_again, y_again = synthetic.generate(71, seed=3)
    x_other, _ = synthetic.generate(71, seed=4)

    assert x.shape == (71, 48, 48) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y, minlength=7).tolist() == [11, 10, 10, 10, 10, 10, 10]
    np.testing.assert_array_equal(x, x_again)
    np.testing.assert_array_equal(y, y_again)
    assert not np.array_equal(x, x_other)
    assert x.std() > 20  # faces, not blank frames


@pytest.fixture(scope="module")
def faces() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x_train, y_train = synthetic.generate(1400, seed=0)
    x_test, y_test = synthetic.generate(700, seed=1)
    return x_train, y_train, x_test, y_test


def standardised(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1).astype(np.float64)
    flat -= flat.mean(axis=1, keepdims=True)
    return flat / (flat.std(axis=1, keepdims=True) + 1e-6)


def test_expression_is_learnable_from_pixels_but_not_trivially(faces) -> None:
    """A linear (ridge) classifier on raw pixels beats chance (1/7) clearly, far from perfect."""
    x_train, y_train, x_test, y_test = faces
    features = standardised(x_train)
    gram = features.T @ features + 1000 * np.eye(features.shape[1])
    weights = np.linalg.solve(gram, features.T @ np.eye(7)[y_train])

    accuracy = (np.argmax(standardised(x_test) @ weights, axis=1) == y_test).mean()

    assert 0.3 < accuracy < 0.8


def test_load_sizes_splits_by_fractions_and_draws_them_independently() -> None:
    data = synthetic.load(70, seed=0, val_fraction=0.2, test_fraction=0.1)

    assert data.classes == EMOTIONS
    assert {s: len(v) for s, v in data.splits.items()} == {"train": 49, "val": 14, "test": 7}
    assert not np.array_equal(data.splits["val"].x[:7], data.splits["test"].x)
    assert not np.array_equal(data.splits["train"].x[:14], data.splits["val"].x)
    assert data.source["name"] == "synthetic" and "seed 0" in data.source["splits"]


def test_load_without_test_fraction_has_no_test_split() -> None:
    data = synthetic.load(20, seed=0, val_fraction=0.25, test_fraction=0.0)

    assert set(data.splits) == {"train", "val"}
