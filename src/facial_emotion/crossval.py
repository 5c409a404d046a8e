"""Subject-independent k-fold cross-validation on CK+: every person is tested exactly once.

Published CK+ figures mostly come from such folds (10 folds, or leave-one-subject-out, which is
as many folds as people). One subject-wise split per seed tests 10-13 people, and a few seeds'
random splits test some people twice and others never, so their figures do not sit beside
published ones. Here the people are dealt into folds; each fold trains on the others, selects its
epoch on a validation part carved from its training people only, and scores its held-out people
once, so pooled over the folds each face is scored exactly once.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import t

from facial_emotion.data import ckplus, folder
from facial_emotion.data.images import reads_as_csv
from facial_emotion.data.prepared import LabelledImages, PreparedData, full_range, require_samples
from facial_emotion.errors import FacialEmotionError
from facial_emotion.evaluation import Evaluation, json_number
from facial_emotion.wording import counted


@dataclass(frozen=True)
class Fold:
    """One fold: ``data`` holds train and val (both of training people) and test (held out)."""

    number: int  # 1-based
    test_index: np.ndarray  # the held-out faces, as indices into the whole data set
    held_out: tuple[str, ...]  # their people
    data: PreparedData


def read_faces(path: str | Path) -> tuple[ckplus.SubjectFaces, Path]:
    """Every face of CK+48 with its person, stretched as the pipeline trains on them, and the
    folder read. The Kaggle CSV has no person ids, so it cannot be cross-validated by person."""
    path = Path(path)
    root = path / ckplus.FOLDER_NAME if (path / ckplus.FOLDER_NAME).is_dir() else path
    csv = path if path.is_file() else path / ckplus.CSV_NAME
    if root == path and csv.is_file() and reads_as_csv(csv):
        raise FacialEmotionError(
            f"{csv}: has no subject ids, so its frames cannot be dealt into folds by person; "
            "point --data at the CK+48 folders (<emotion>/S###_*.png)"
        )
    root = folder.existing_dir(root)
    if folder.split_dirs(root):
        raise FacialEmotionError(
            f"{root}: holds split folders (train/ ...), a data set split already, not CK+48; "
            "point --data at the CK+48 folders (<emotion>/S###_*.png)"
        )
    faces = ckplus.read_folders(root)
    # stretched as load_source serves every source: the range the model learns and reads in
    return replace(faces, x=full_range(faces.x)), root


def subject_folds(
    subjects: np.ndarray, y: np.ndarray, *, folds: int, seed: int
) -> list[np.ndarray]:
    """Sorted sample indices of each fold's held-out faces; each subject is in exactly one fold.

    Subjects are dealt into equal shares as ``subject_split`` deals splits
    (``ckplus.deal_subjects``), ties to the fold with fewest subjects, so no fold is left empty
    while there are at least ``folds`` subjects (with exactly as many folds as subjects, each
    fold is one person: leave-one-subject-out).
    """
    people = np.unique(subjects)
    if not 2 <= folds <= len(people):
        raise ValueError(f"{folds} folds need 2 to {len(people)} (the subjects) folds")
    return ckplus.deal_subjects(subjects, y, np.full(folds, 1 / folds), seed=seed, even_ties=True)


def make_folds(
    faces: ckplus.SubjectFaces, root: Path, *, folds: int, seed: int, val_fraction: float
) -> list[Fold]:
    """The ``folds`` folds of ``faces``; each fold's val is carved (seeded, by subject) from its
    training people only, so no fold selects its epoch on the people it is scored on."""
    people = len(np.unique(faces.subjects))
    if people < 2:  # no --folds helps: "use --folds from 2 to 1"
        raise FacialEmotionError(
            f"{root}: {counted(people, 'subject')}; cross-validation by subject needs at least 2 "
            "(each fold holds out one person or more); add the faces of more people"
        )
    if folds < 2 or folds > people:
        raise FacialEmotionError(
            f"{root}: {counted(folds, 'fold')} for {counted(people, 'subject')}; use --folds "
            f"from 2 to {people} (each fold holds out at least one person; {people} is "
            "leave-one-subject-out)"
        )
    if not 0 < val_fraction < 1:
        raise FacialEmotionError(
            f"data.val_fraction {val_fraction} must be between 0 and 1: each fold selects its "
            "epoch on that share of its training people; fix it with --set data.val_fraction"
        )
    made = []
    for number, test in enumerate(subject_folds(faces.subjects, faces.y, folds=folds, seed=seed)):
        rest = np.setdiff1d(np.arange(len(faces.y)), test)
        parts = ckplus.subject_split(
            faces.subjects[rest],
            faces.y[rest],
            seed=seed,
            val_fraction=val_fraction,
            test_fraction=0,
        )
        if len(parts["val"]) == 0:
            raise FacialEmotionError(
                f"{root}: fold {number + 1}'s {len(np.unique(faces.subjects[rest]))} training "
                f"subjects leave none for val at data.val_fraction {val_fraction}; raise it "
                "(--set data.val_fraction=...) or use fewer folds"
            )
        index = {"train": rest[parts["train"]], "val": rest[parts["val"]], "test": test}
        data = require_samples(
            PreparedData(
                faces.classes,
                {name: LabelledImages(faces.x[i], faces.y[i]) for name, i in index.items()},
                {
                    "name": "ckplus",
                    "path": str(root),
                    "format": "folders",
                    "splits": f"fold {number + 1} of {folds} by subject (seed {seed}); val "
                    f"{val_fraction} of the training subjects",
                    "subjects": {n: len(np.unique(faces.subjects[i])) for n, i in index.items()},
                },
            )
        )
        held_out = tuple(str(s) for s in np.unique(faces.subjects[test]))
        made.append(Fold(number + 1, test, held_out, data))
    return made


def recall(scored: Evaluation) -> dict[str, float | None]:
    """Per-class recall as JSON writes it (null for a class with no faces)."""
    return {c: json_number(r) for c, r in scored.per_class()["recall"].items()}


def pooled(faces: ckplus.SubjectFaces, folds: list[Fold], probs: list[np.ndarray]) -> Evaluation:
    """Every held-out face's probabilities, in the data set's order, with its person, refusing
    folds that do not score each face exactly once (a face scored twice or never would bias the
    pooled figure). Each person is scored once, by a model that never saw them, so the people-wise
    interval (:func:`~facial_emotion.evaluation.people_ci95`) is the one this pooled figure has."""
    order = np.concatenate([fold.test_index for fold in folds])
    if not np.array_equal(np.sort(order), np.arange(len(faces.y))):
        raise ValueError("the folds do not hold out each face exactly once")
    pooled_probs = np.empty((len(order), len(faces.classes)))
    pooled_probs[order] = np.concatenate(probs)
    return Evaluation(faces.classes, faces.y, pooled_probs, faces.subjects)


def face_files(faces: ckplus.SubjectFaces, root: Path) -> list[str]:
    """Each face's file, relative to ``root``, in ``faces``' order (``read_folders`` lists them
    so but keeps only their pixels): what a researcher needs to look at a face read wrong."""
    listed, labels = folder.labelled_files(root)
    files = [f.relative_to(root).as_posix() for f in listed]
    people = [ckplus.subject_of(f) for f in listed]
    if people != list(faces.subjects) or labels != [faces.classes[y] for y in faces.y]:
        raise FacialEmotionError(f"{root}: changed while it was read; run again")
    return files


def predictions(folds: list[Fold], whole: Evaluation, files: list[str]) -> pd.DataFrame:
    """One row a face, in the data set's order: the fold that held it out, its person and file,
    its true and predicted class."""
    fold_of = np.empty(len(files), int)
    for fold in folds:
        fold_of[fold.test_index] = fold.number
    classes = np.array(whole.classes)
    return pd.DataFrame(
        {
            "fold": fold_of,
            "subject": whole.subjects,
            "file": files,
            "true": classes[whole.y_true],
            "predicted": classes[whole.y_pred],
        }
    )


POOLED_INTERVALS = (
    "accuracy_ci95_low",
    "accuracy_ci95_high",
    "accuracy_ci95_people_low",
    "accuracy_ci95_people_high",
)


def summary(folds: list[Fold], scores: list[Evaluation], whole: Evaluation) -> dict[str, object]:
    """The figures to set beside published CK+ ones: fold accuracy's mean and spread (with a t
    interval of the mean over the folds), and the accuracy, macro-F1 and per-class recall pooled
    over every held-out face, with the pooled accuracy's intervals as ``evaluate`` gives them: the
    exact one, faces taken as independent (too narrow: 3 frames a sequence), and the people-wise
    bootstrap."""
    accuracies = [s.accuracy for s in scores]
    mean, std = statistics.mean(accuracies), statistics.stdev(accuracies)  # 2 folds or more
    half = t.ppf(0.975, len(accuracies) - 1) * std / np.sqrt(len(accuracies))
    metrics = whole.metrics()
    return {
        "folds": len(folds),
        "subjects": sum(len(f.held_out) for f in folds),
        "faces": len(whole.y_true),
        "accuracy_mean": round(mean, 4),
        "accuracy_std": round(std, 4),  # sample std over the folds
        "accuracy_min": round(min(accuracies), 4),
        "accuracy_max": round(max(accuracies), 4),
        "accuracy_mean_ci95_low": round(mean - half, 4),
        "accuracy_mean_ci95_high": round(mean + half, 4),
        "pooled_accuracy": round(whole.accuracy, 4),
        "pooled_faces_right": whole.faces_right,
        # evaluate's names behind pooled_, as the figures around them; null under FEW_PEOPLE
        **{f"pooled_{key}": metrics[key] for key in POOLED_INTERVALS},
        "people": metrics["people"],
        "pooled_macro_f1": round(whole.macro_f1, 4),
        "pooled_recall": recall(whole),
    }
