"""Face tracking across frames: ids kept by box overlap, probabilities averaged over frames."""

from __future__ import annotations

import numpy as np
import pytest

from facial_emotion.face_tracking import FaceTracker, iou


def test_iou():
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1
    assert iou((0, 0, 10, 10), (5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 10, 10), (20, 20, 5, 5)) == 0


def test_tracker_keeps_ids_and_averages_probabilities():
    tracker = FaceTracker(smooth=2)
    p = np.eye(3, dtype=np.float32)
    ids, probs = tracker.update([(0, 0, 50, 50), (200, 0, 50, 50)], p[[0, 1]])
    assert ids == [1, 2]
    ids, probs = tracker.update([(205, 2, 50, 50), (3, 1, 50, 50)], p[[2, 2]])
    assert ids == [2, 1]  # matched by overlap, not by order
    np.testing.assert_allclose(probs, [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    ids, probs = tracker.update([(4, 1, 50, 50)], p[[1]])
    np.testing.assert_allclose(probs, [[0, 0.5, 0.5]])  # only the last 2 frames count
    ids, _ = tracker.update([(400, 300, 40, 40)], p[[0]])
    assert ids == [3]  # a new face far away gets a new id


def test_tracker_forgets_a_face_gone_for_longer_than_max_missed():
    tracker = FaceTracker(max_missed=2)
    p = np.ones((1, 2), np.float32) / 2
    assert tracker.update([(0, 0, 50, 50)], p)[0] == [1]
    for _ in range(2):
        tracker.update([], np.zeros((0, 2), np.float32))
    assert tracker.update([(0, 0, 50, 50)], p)[0] == [1]
    for _ in range(3):
        tracker.update([], np.zeros((0, 2), np.float32))
    assert tracker.update([(0, 0, 50, 50)], p)[0] == [2]
