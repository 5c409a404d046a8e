"""Following faces from frame to frame: each keeps one id while its box overlaps the last one,
and its probabilities are averaged over the last N frames (a single frame's reading flickers)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from facial_emotion.faces import Box, shared_area

# A face unseen for up to this long keeps its id: a head turned or a hand passed over the face for
# a third of a second (10 frames) had come back as a new face, which split one person's log in two
KEEP_ID_SECONDS = 1.0
# A box reused between detections is kept only while its crop still correlates with the face
# last seen there: on clips, the same face from frame to frame scored 0.97-1.0 and another face
# 0.53-0.59, while the background left behind scored 0.07 and a flat colour 0.
MIN_SAME_FACE = 0.4


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    inter = shared_area(a, b)
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class _Track:
    id: int
    box: Box
    history: deque[np.ndarray]
    crop: np.ndarray | None = None  # the face as last seen, to check a reused box against
    missed: int = 0
    detector_score: float | None = None  # of the detection that last found it


@dataclass
class FaceTracker:
    """Give each face a stable id by box overlap and average its last ``smooth`` probabilities."""

    smooth: int = 1
    min_iou: float = 0.3
    max_missed: int = 5  # frames a face may go undetected and keep its id
    _tracks: list[_Track] = field(default_factory=list, init=False, repr=False)
    _next_id: int = field(default=1, init=False, repr=False)

    def seen(self) -> list[tuple[Box, np.ndarray | None, float | None]]:
        """Boxes, crops and detector scores of the faces seen in the last frame, to crop again
        and compare when detection is skipped."""
        return [(t.box, t.crop, t.detector_score) for t in self._tracks if t.missed == 0]

    def update(
        self,
        boxes: list[Box],
        probs: np.ndarray,
        crops: np.ndarray | None = None,
        detector_scores: list[float | None] | None = None,
    ) -> tuple[list[int], np.ndarray]:
        """Ids and smoothed probabilities for this frame's boxes (same order); ``crops``, the
        faces cut at those boxes, are kept to check reused boxes against, and
        ``detector_scores`` to give them again."""
        pairs = sorted(
            (
                (iou(t.box, b), ti, bi)
                for ti, t in enumerate(self._tracks)
                for bi, b in enumerate(boxes)
            ),
            reverse=True,
        )
        owner: dict[int, _Track] = {}
        used: set[int] = set()
        for overlap, ti, bi in pairs:
            if overlap < self.min_iou:
                break
            if ti not in used and bi not in owner:
                owner[bi] = self._tracks[ti]
                used.add(ti)
        for ti, t in enumerate(self._tracks):
            t.missed = 0 if ti in used else t.missed + 1
        self._tracks = [t for t in self._tracks if t.missed <= self.max_missed]
        ids, smoothed = [], []
        for bi, box in enumerate(boxes):
            track = owner.get(bi)
            if track is None:
                track = _Track(self._next_id, box, deque(maxlen=max(1, self.smooth)))
                self._next_id += 1
                self._tracks.append(track)
            track.box = box
            track.crop = crops[bi] if crops is not None else None
            track.detector_score = detector_scores[bi] if detector_scores is not None else None
            track.history.append(probs[bi])
            ids.append(track.id)
            smoothed.append(np.mean(track.history, axis=0))
        return ids, np.array(smoothed, np.float32).reshape(len(boxes), probs.shape[1])


def same_face(crop: np.ndarray, seen: np.ndarray | None) -> bool:
    """Whether ``crop``, cut at a reused box, still shows the face ``seen`` there: the normalised
    correlation of the two, blind to light and contrast, is at least ``MIN_SAME_FACE``."""
    if seen is None:
        return False
    a = crop.astype(np.float32).ravel()
    b = seen.astype(np.float32).ravel()
    a -= a.mean()
    b -= b.mean()
    norm = float(np.sqrt((a @ a) * (b @ b)))
    return norm > 0 and float(a @ b) / norm >= MIN_SAME_FACE
