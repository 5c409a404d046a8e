"""Predictions (optionally with flip and crop test-time augmentation), accuracy, F1, confusion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import comb
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import beta
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from facial_emotion.data.prepared import FEW_PEOPLE, as_model_input
from facial_emotion.errors import FacialEmotionError


def shifted(
    x: np.ndarray, dy: int, dx: int, fill: Literal["edge", "constant"] = "edge"
) -> np.ndarray:
    """(N, H, W, C) faces moved by (dy, dx) pixels: a crop of the face padded with its edges
    repeated, or with black for ``fill="constant"`` as training's pad-and-crop does."""
    pad = max(abs(dy), abs(dx))
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode=fill)
    h, w = x.shape[1:3]
    return padded[:, pad - dy : pad - dy + h, pad - dx : pad - dx + w]


def tta_views(x: np.ndarray, *, flip: bool, shift: int) -> list[np.ndarray]:
    """The face, its four crops moved ``shift`` pixels up/down/left/right, and their mirrors."""
    views = [x]
    if shift > 0:
        views += [
            shifted(x, dy, dx) for dy, dx in ((shift, 0), (-shift, 0), (0, shift), (0, -shift))
        ]
    if flip:
        views += [view[:, :, ::-1, :] for view in views]
    return views


def predict_proba(
    predict: Callable[[np.ndarray], np.ndarray],
    images: np.ndarray,
    *,
    tta: bool = False,
    shift: int = 0,
    batch_size: int = 256,
) -> np.ndarray:
    """Class probabilities for uint8 (N, 48, 48) faces, averaged over test-time views.

    ``tta`` adds the mirror image, ``shift`` four shifted crops (and their mirrors with ``tta``).
    ``predict`` is any callable from float32 (n, 48, 48, 1) to (n, classes) probabilities.
    Faces are made float32 a batch at a time: a float32 copy of every face (and of every shifted
    view) took 9 KB a face, 2.6 GB for a 287,000-face folder scored by ``evaluate --split all``.
    """
    return predict_views(predict, images, tta=tta, shift=shift, batch_size=batch_size)[1]


def predict_views(
    predict: Callable[[np.ndarray], np.ndarray],
    images: np.ndarray,
    *,
    tta: bool = False,
    shift: int = 0,
    batch_size: int = 256,
    on_batch: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The faces' own probabilities and :func:`predict_proba`'s average over the views, in one
    pass: ``evaluate`` scored the face itself twice (for calibration, then as the first view),
    3 model calls a face where flip needs 2. ``on_batch`` is told how many faces each batch
    scored (a progress bar's ``update``)."""
    plain, averaged = [], []
    for i in range(0, len(images), batch_size):
        views = tta_views(as_model_input(images[i : i + batch_size]), flip=tta, shift=shift)
        first = np.asarray(predict(views[0]))
        total = first
        for view in views[1:]:
            total = total + np.asarray(predict(view))
        plain.append(first)
        averaged.append(total / len(views))
        if on_batch is not None:
            on_batch(len(total))
    return np.concatenate(plain), np.concatenate(averaged)


def labels_for_model(
    y: np.ndarray, data_classes: tuple[str, ...], model_classes: tuple[str, ...]
) -> np.ndarray:
    """The data's labels as indices of the model's classes, matched by name; -1 where the model
    lacks the class (CK+'s ``contempt`` for a FER2013 model)."""
    to_model = np.array(
        [model_classes.index(c) if c in model_classes else -1 for c in data_classes]
    )
    return to_model[y]


def scorable(
    labels: np.ndarray, data: str | Path, classes: tuple[str, ...], model: str
) -> np.ndarray:
    """Which faces the model can be scored on (``labels`` from :func:`labels_for_model`), refusing
    data of none of its classes: an accuracy over no faces would be a silent wrong answer."""
    known = labels >= 0
    if not known.any():
        raise FacialEmotionError(
            f"{data}: none of its classes ({', '.join(classes)}) are classes of {model}; "
            "score that model on data of the emotions it was trained on"
        )
    return known


def mcnemar(first_right: np.ndarray, second_right: np.ndarray) -> dict[str, float | list[float]]:
    """Whether two models' accuracies on the same faces really differ (exact McNemar test).

    Only faces exactly one model gets right carry information; under "no difference" each is
    equally likely to favour either model, so the two-sided p-value is a fair-coin binomial tail.
    """
    first_right, second_right = np.asarray(first_right, bool), np.asarray(second_right, bool)
    only_first = int((first_right & ~second_right).sum())
    only_second = int((~first_right & second_right).sum())
    n = only_first + only_second
    tail = sum(comb(n, k) for k in range(min(only_first, only_second) + 1))
    faces = max(len(first_right), 1)
    share = n / faces  # of the faces, those that tell the models apart
    low, high = _favouring_second(only_second, n)
    return {
        "only_first_right": only_first,
        "only_second_right": only_second,
        "p_value": min(1.0, 2 * tail / 2**n) if n else 1.0,
        "accuracy_difference": round((only_second - only_first) / faces, 4),
        # A p-value above 0.05 is not evidence of a tie: the interval says how large a difference
        # (second minus first accuracy) these faces still allow.
        "difference_ci95": [round(share * (2 * low - 1), 4), round(share * (2 * high - 1), 4)],
    }


def _favouring_second(only_second: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95% interval of the share of telling faces that favour the second
    model: it excludes one half exactly when the test's p is under 0.05, where a Wald interval
    of the difference disagreed with it (p = 0.0506, interval clear of zero)."""
    if not n:
        return 0.5, 0.5
    return share_ci95(only_second, n)


def share_ci95(k: int, n: int) -> tuple[float, float]:
    """Exact (Clopper-Pearson) 95% interval of a share of ``k`` in ``n`` (n > 0)."""
    low = float(beta.ppf(0.025, k, n - k + 1)) if k else 0.0
    high = float(beta.ppf(0.975, k + 1, n - k)) if k < n else 1.0
    return low, high


# Resamples of the people-wise interval. Over 20 seeds on 10 CK+48-like test splits (10 people,
# 3-12 faces each; /work/notes/subjectsBA.md) its ends moved with a standard deviation of 0.0003
# on average (0.0007 at worst) at 200,000, against 0.0016 at 10,000. No count makes them exact: an
# end that falls near the border of two attainable accuracies (about 0.002 apart) can take either.
# Under 1 s, even for CK+48's 118 people (`evaluate --split all`).
PEOPLE_RESAMPLES = 200_000
PEOPLE_SEED = 0


def people_ci95(
    right: np.ndarray,
    subjects: np.ndarray,
    *,
    resamples: int = PEOPLE_RESAMPLES,
    seed: int = PEOPLE_SEED,
    min_people: int = FEW_PEOPLE,
) -> tuple[float, float]:
    """95% interval of the accuracy with people, not faces, drawn again (a seeded cluster
    bootstrap, percentile ends): one person's frames are near copies (CK+48: 3 a sequence, ~10
    people a test split), so faces taken as independent give too narrow an interval. Each
    resample draws as many people as were scored, with replacement, and scores all their faces.
    Under ``min_people`` it is NaN: from few people it runs narrow, as it cannot draw a person
    unlike those scored."""
    _, person = np.unique(subjects, return_inverse=True)
    faces = np.bincount(person)
    hits = np.bincount(person, weights=np.asarray(right, float))
    people = len(faces)
    if people < max(2, min_people):
        return np.nan, np.nan
    rng = np.random.default_rng(seed)
    rows = max(1, 2**22 // people)  # draws held at once: memory stays small for many people
    accuracies = []
    for start in range(0, resamples, rows):
        drawn = rng.integers(0, people, size=(min(rows, resamples - start), people), dtype=np.int32)
        accuracies.append(hits[drawn].sum(axis=1) / faces[drawn].sum(axis=1))
    low, high = np.percentile(np.concatenate(accuracies), [2.5, 97.5])
    return float(low), float(high)


def not_found_in(source: dict[str, object], split: str) -> int:
    """Photos of ``split`` in which no face was found (data read with ``data.detect_faces``): they
    are not in the scored faces, so an accuracy over those faces alone leaves them out."""
    by_split = source.get("faceless_by_split")
    if not isinstance(by_split, dict):
        return 0
    if split == "all":
        return int(sum(by_split.values()))
    return int(by_split.get(split, 0))


def classes_not_found(
    source: dict[str, object], split: str, classes: tuple[str, ...], y: np.ndarray
) -> list[str]:
    """Classes of ``split`` none of whose photos had a face found (data read with
    ``data.detect_faces``), in ``classes`` order: scored, each is only a support of 0. For "all",
    those no split of ``y`` holds a face of."""
    by_split = source.get("faceless_classes_by_split")
    if not isinstance(by_split, dict):
        return []
    lost = {c for name, names in by_split.items() if split in ("all", name) for c in names}
    held = {classes[int(i)] for i in np.unique(y)}
    return [c for c in classes if c in lost - held]


def with_not_found(metrics: dict[str, object], scored: Evaluation, missed: int) -> dict:
    """``metrics`` plus the photos whose face was not found, counted as read wrong (as predict
    gives them no emotion), beside the accuracy over the faces found."""
    if not missed:
        return metrics
    return {
        **metrics,
        "faces_not_found": missed,
        "accuracy_counting_not_found": round(scored.faces_right / (len(scored.y_true) + missed), 4),
    }


def json_number(value: float) -> float | None:
    """A metric as JSON writes it: rounded to 4 places, or null where it is undefined (NaN,
    which ``json.dumps`` would write as the invalid token NaN)."""
    return None if np.isnan(value) else round(float(value), 4)


# The advice after "<model> reads every face as <class>", in the pipeline and the CLI alike. A run
# can stay at chance from its first epoch (`baseline` did with seed 42), where training longer does
# not help, and only the shipped model's architecture can start from its weights.
LEARNT_NOTHING = (
    "it has learnt nothing to tell the classes apart; try another seed or a lower "
    "train.learning_rate (a run can stay at chance from the start), train longer, or, with the "
    "shipped model's architecture (vgg_wide_late_flat), start from its weights "
    "(train.init_weights; README, Train on real data)"
)


@dataclass
class Evaluation:
    """Scores of ``probs`` against ``y_true``; ``subjects``, the person of each face where the
    data names them, adds an interval that resamples people (:func:`people_ci95`)."""

    classes: tuple[str, ...]
    y_true: np.ndarray
    probs: np.ndarray
    subjects: np.ndarray | None = None

    @property
    def y_pred(self) -> np.ndarray:
        return self.probs.argmax(axis=1)

    @property
    def accuracy(self) -> float:
        return float(accuracy_score(self.y_true, self.y_pred))

    @property
    def faces_right(self) -> int:
        """How many faces the model read right: the count behind the accuracy, which intervals
        and counts that add unscored photos need."""
        return int((self.y_pred == self.y_true).sum())

    @property
    def macro_f1(self) -> float:
        """Averaged over the classes the faces have: a class with no faces has no F1, and counting
        it as 0 would understate every score on data of fewer classes (CK+ has no neutral)."""
        labels = np.unique(self.y_true)
        return float(
            f1_score(self.y_true, self.y_pred, labels=labels, average="macro", zero_division=0)
        )

    def one_class_reading(self) -> str | None:
        """The class a model reads every face as, when the faces hold two or more, or None: such a
        model has learnt nothing, and its export still "agrees" with it 100%."""
        read = np.unique(self.y_pred)
        if len(read) == 1 < len(np.unique(self.y_true)):
            return self.classes[read[0]]
        return None

    def calibration(self, bins: int = 10) -> pd.DataFrame:
        """Faces grouped by the model's confidence (its top probability) in ``bins`` equal steps
        of 0 to 1, with the share of each group read right. A user takes "happy 80%" to be right
        4 times in 5; this says how often it is. Empty groups are left out."""
        confidence = self.probs.max(axis=1)
        right = self.y_pred == self.y_true
        group = np.minimum((confidence * bins).astype(int), bins - 1)  # 1.0 joins the top step
        rows = [
            {
                "from": k / bins,
                "to": (k + 1) / bins,
                "faces": int(members.sum()),
                "confidence": float(confidence[members].mean()),
                "accuracy": float(right[members].mean()),
            }
            for k in range(bins)
            if (members := group == k).any()
        ]
        return pd.DataFrame(rows, columns=["from", "to", "faces", "confidence", "accuracy"])

    def calibration_error(self, bins: int = 10) -> float:
        """Expected calibration error: how far, on average over the faces, the confidence of
        their group lies from its accuracy (0: the percentages mean what they say)."""
        table = self.calibration(bins)
        gaps = (table["accuracy"] - table["confidence"]).abs()
        return float((table["faces"] * gaps).sum() / max(table["faces"].sum(), 1))

    def per_class(self) -> pd.DataFrame:
        """Precision, recall, F1 and support per class, in class order; NaN where a figure is
        undefined (recall and F1 of a class with no faces, precision of one never predicted): 0
        would read as a class the model always misses. Macro-F1 leaves such classes out too."""
        p, r, f, s = precision_recall_fscore_support(
            self.y_true, self.y_pred, labels=np.arange(len(self.classes)), zero_division=np.nan
        )
        f = np.where(s == 0, np.nan, f)  # sklearn gives 0 when some face was called that class
        return pd.DataFrame(
            {"precision": p, "recall": r, "f1": f, "support": s}, index=list(self.classes)
        )

    def confusion(self, normalize: bool = False) -> pd.DataFrame:
        """Rows are true classes, columns predicted; ``normalize`` divides each row by its total.
        A class with no faces in the data has a row of NaN (a blank row in the heatmap), not of
        zeros, which read as a class never recognised."""
        matrix = confusion_matrix(self.y_true, self.y_pred, labels=np.arange(len(self.classes)))
        if normalize:
            totals = matrix.sum(axis=1, keepdims=True)
            matrix = np.divide(matrix, totals, out=np.full(matrix.shape, np.nan), where=totals > 0)
        names = list(self.classes)  # named, so a table of it says which side is which
        return pd.DataFrame(
            matrix, index=pd.Index(names, name="true"), columns=pd.Index(names, name="predicted")
        )

    def confusion_records(self) -> pd.DataFrame:
        """One row per sample (actual, predicted): input of DVC's ``confusion`` plot template."""
        names = np.array(self.classes)
        return pd.DataFrame({"actual": names[self.y_true], "predicted": names[self.y_pred]})

    def confused_pairs(self, n: int = 5) -> pd.DataFrame:
        """The ``n`` commonest mistakes (true class read as another), with their share of the true
        class's faces: the largest errors, which the matrix shows only to a careful reader."""
        counts = self.confusion().to_numpy()
        mistakes = counts.copy()
        np.fill_diagonal(mistakes, 0)
        order = np.argsort(-mistakes, axis=None, kind="stable")[:n]
        rows, cols = np.unravel_index(order, mistakes.shape)
        faces = mistakes[rows, cols]
        rows, cols, faces = rows[faces > 0], cols[faces > 0], faces[faces > 0]
        return pd.DataFrame(
            {
                "true": [self.classes[r] for r in rows],
                "read as": [self.classes[c] for c in cols],
                "faces": faces,
                "share of true class": np.round(faces / np.maximum(counts[rows].sum(axis=1), 1), 3),
            }
        )

    def worst_mistakes(self, n: int) -> np.ndarray:
        """Indices of the ``n`` wrong predictions the model was most confident about: the
        faces to look at first, where a wrong label or a badly cut face shows."""
        wrong = np.flatnonzero(self.y_pred != self.y_true)
        confidence = self.probs[wrong, self.y_pred[wrong]]
        return wrong[np.argsort(-confidence)[:n]]

    def accuracy_ci95(self) -> tuple[float, float]:
        """Exact 95% interval of the accuracy, the faces taken as independent draws: on CK+48's
        96 test faces (91 right) it is 88.3-98.3%, where the figure alone read as exact. Faces
        that are not independent (one person's frames) make the true interval wider."""
        return (
            share_ci95(self.faces_right, len(self.y_true)) if len(self.y_true) else (np.nan, np.nan)
        )

    def metrics(self) -> dict[str, object]:
        """The headline figures. Per-class ones are apart (:meth:`per_class_table`,
        :meth:`per_class_figures`): their 28 numbers in `metrics/eval.json` made `dvc metrics
        diff` print some 50 lines, the accuracy lost among them."""
        low, high = self.accuracy_ci95()
        return {
            "accuracy": round(self.accuracy, 4),
            # two numbers, not a list: `dvc metrics show` and `dvc exp show` leave lists out
            "accuracy_ci95_low": json_number(low),
            "accuracy_ci95_high": json_number(high),
            **self._people_interval(),
            "macro_f1": round(self.macro_f1, 4),
            "samples": int(len(self.y_true)),
            **({} if self.subjects is None else {"people": len(np.unique(self.subjects))}),
        }

    def _people_interval(self) -> dict[str, float | None]:
        """:func:`people_ci95` as metrics, only for faces whose people are known."""
        if self.subjects is None:
            return {}
        low, high = people_ci95(self.y_pred == self.y_true, self.subjects)
        # 3 places: the 4th moves with the bootstrap's seed (PEOPLE_RESAMPLES)
        return {
            "accuracy_ci95_people_low": None if np.isnan(low) else round(low, 3),
            "accuracy_ci95_people_high": None if np.isnan(high) else round(high, 3),
        }

    def per_class_figures(self) -> dict[str, dict[str, float | int | None]]:
        """:meth:`per_class` as JSON writes it, keyed by class: figures rounded, null where
        undefined, support a count of faces (not 497.0)."""
        return {
            c: {
                **{k: json_number(row[k]) for k in ("precision", "recall", "f1")},
                "support": int(row["support"]),
            }
            for c, row in self.per_class().iterrows()
        }

    def per_class_table(self) -> pd.DataFrame:
        """:meth:`per_class` with the class as its first column, figures rounded as in the
        metrics: input of DVC's ``bar_horizontal`` plots (an undefined figure is left empty)."""
        return self.per_class().round(4).rename_axis("class").reset_index()
