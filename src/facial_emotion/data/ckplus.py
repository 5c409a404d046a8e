"""CK+ (extended Cohn-Kanade), from the Kaggle ``CK+48`` folders or the Kaggle ``ckextended.csv``.

* Folders ``CK+48/<emotion>/S###_###_########.png`` (subject, sequence, frame): the data set is
  the last frames of posed sequences, so frames of one person are near duplicates. Whole subjects
  are assigned to train/val/test (seeded, roughly stratified by emotion), never single frames, so
  no person is in two splits.
* ``ckextended.csv`` (columns ``emotion,pixels,Usage`` like FER2013): labels 0..7 = anger,
  disgust, fear, happiness, sadness, surprise, neutral, contempt, as that file's Kaggle page
  documents. The CSV carries no subject ids, so it cannot be split by subject: its Usage column
  (Training / PublicTest / PrivateTest) gives the splits when present, else rows are split
  seeded and stratified.

Classes are the canonical names of the labels present (``anger`` → ``angry``, ``contempt`` stays),
in canonical order; the Kaggle folders have 7 (no neutral), the CSV 8.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facial_emotion.data import fer2013, folder
from facial_emotion.data.images import read_many, skipped_files
from facial_emotion.data.prepared import SPLITS, LabelledImages, PreparedData
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import canonical, ordered

CSV_NAME = "ckextended.csv"
FOLDER_NAME = "CK+48"
CSV_LABELS: tuple[str, ...] = tuple(
    canonical(n)
    for n in ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral", "contempt")
)
SUBJECT = re.compile(r"^[Ss]0*(\d+)_")  # S010_, S10_ and s010_ are one person


def load(
    path: str | Path,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    only: tuple[str, ...] = (),
) -> PreparedData:
    """Load CK+ from ``ckextended.csv`` or the ``CK+48`` folders, whichever ``path`` holds;
    ``only`` parses the CSV's rows of one split (see :func:`fer2013.load_csv`), while the folders
    (981 faces) are read whole."""
    path = Path(path)
    csv = path if path.is_file() else path / CSV_NAME
    if csv.is_file():
        return fer2013.load_csv(
            csv,
            CSV_LABELS,
            "ckplus",
            seed=seed,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            only=only,
        )
    root = folder.existing_dir(path)
    if (root / FOLDER_NAME).is_dir():
        root = root / FOLDER_NAME
    return load_folders(root, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction)


def load_folders(
    root: Path, *, seed: int, val_fraction: float, test_fraction: float
) -> PreparedData:
    """``<root>/<emotion>/S###_*.png`` split by subject: CK+ holds several frames of each
    person's expression, so a split by frame would test the model on people it trained on."""
    faces = read_folders(root)
    parts = subject_split(
        faces.subjects, faces.y, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
    )
    return PreparedData(
        classes=faces.classes,
        splits={
            split: LabelledImages(faces.x[idx], faces.y[idx], faces.subjects[idx])
            for split, idx in parts.items()
        },
        source={
            "name": "ckplus",
            "path": str(root),
            "format": "folders",
            "splits": f"by subject, seeded and roughly stratified (seed {seed}, "
            f"val {val_fraction}, test {test_fraction})",
            "subjects": {s: len(np.unique(faces.subjects[idx])) for s, idx in parts.items()},
            **faces.skipped,
        },
    )


@dataclass(frozen=True)
class SubjectFaces:
    """Every face of a ``CK+48`` tree with its person (``S###``), before any split: what a split
    by subject, or subject-wise cross-validation, is made from."""

    classes: tuple[str, ...]
    x: np.ndarray
    y: np.ndarray
    subjects: np.ndarray
    skipped: dict[str, object]  # files that are not images, as the manifest records them


def read_folders(root: Path) -> SubjectFaces:
    """Read ``<root>/<emotion>/S###_*.png`` whole, each face with its class and subject."""
    others: list[Path] = []
    files, labels = folder.labelled_files(root, others.append)
    if not any(SUBJECT.match(f.name) for f in files):
        none = "its 1 image is not" if len(files) == 1 else f"none of its {len(files):,} images is"
        raise FacialEmotionError(
            f"{root}: {none} named by a CK+ subject (S###_...), so "
            "it cannot be split by person; point data.path (or --data) at the CK+48 folders, or "
            "read it as data.source folder"
        )
    subjects = np.array([subject_of(f) for f in files])
    classes = ordered(set(labels))
    x = read_many(files, desc=f"ckplus {root.name}")
    return SubjectFaces(
        classes, x, folder.indices(labels, classes), subjects, skipped_files(others, root)
    )


def subject_of(path: Path) -> str:
    match = SUBJECT.match(path.name)
    if match is None:
        raise FacialEmotionError(
            f"{path}: name does not start with a CK+ subject id (S###_); rename it "
            "S<subject>_<sequence>_<frame>.png: CK+ is split by subject, so that no person's "
            "frames are in two splits"
        )
    return f"S{int(match.group(1)):03d}"


def subject_split(
    subjects: np.ndarray, y: np.ndarray, *, seed: int, val_fraction: float, test_fraction: float
) -> dict[str, np.ndarray]:
    """Sorted sample indices per split; every subject's samples land in exactly one split, with
    roughly the requested sizes and class mix (:func:`deal_subjects`). ``test`` is left out when
    its fraction is 0."""
    fractions = np.array([1.0 - val_fraction - test_fraction, val_fraction, test_fraction])
    names = [s for s, f in zip(SPLITS, fractions, strict=True) if f > 0]
    dealt = deal_subjects(subjects, y, fractions[fractions > 0], seed=seed)
    return dict(zip(names, dealt, strict=True))


def deal_subjects(
    subjects: np.ndarray, y: np.ndarray, shares: np.ndarray, *, seed: int, even_ties: bool = False
) -> list[np.ndarray]:
    """Sorted sample indices of each share; every subject's samples land in exactly one.

    Subjects are visited in seeded random order, each going to the share furthest below its
    target of the subject's emotions (relative to each emotion's total). A tie goes to the first
    such share, or with ``even_ties`` to the one with fewest subjects, so that equal shares (folds)
    are none left empty while there are subjects enough."""
    totals = np.bincount(y).astype(float)
    weight = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
    target = np.asarray(shares, float)[:, None] * totals[None, :]
    taken = np.zeros_like(target)
    held: list[list[np.ndarray]] = [[] for _ in range(len(target))]
    for subject in np.random.default_rng(seed).permutation(np.unique(subjects)):
        members = np.flatnonzero(subjects == subject)
        counts = np.bincount(y[members], minlength=len(totals))
        need = ((target - taken) * weight) @ counts
        if even_ties:
            tied = np.flatnonzero(need >= need.max() - 1e-9)
            k = int(tied[np.argmin([len(held[i]) for i in tied])])
        else:
            k = int(np.argmax(need))
        taken[k] += counts
        held[k].append(members)
    return [np.sort(np.concatenate(h)) if h else np.array([], np.int64) for h in held]
