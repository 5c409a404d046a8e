"""FER2013 in either form Kaggle ships it, told apart by looking at ``path``.

* ``fer2013.csv`` (the file, or a folder holding it): columns ``emotion,pixels,Usage``, labels
  0..6 = angry, disgust, fear, happy, sad, surprise, neutral. Usage Training → train,
  PublicTest → val, PrivateTest → test.
* Folders ``train/<emotion>/*.jpg`` with ``test/`` and/or ``val/`` or ``validation/``: each
  folder is its split. Without a validation folder, a seeded stratified ``val_fraction`` of train
  becomes val; without ``test/`` there is no test split (no test images are invented). Class
  folders ``0`` … ``6`` (a Kaggle variant) are read as FER2013's labels.

Any other ``emotion,pixels[,Usage]`` CSV (CK+, a FER2013 subset) is read by :func:`load_csv`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from facial_emotion.data import folder
from facial_emotion.data.images import csv_labels, csv_pixels, read_pixel_csv, unpacked_name
from facial_emotion.data.prepared import LabelledImages, PreparedData
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import EMOTIONS, ordered

CSV_NAME = "fer2013.csv"
USAGE_SPLITS: dict[str, str] = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}


def csv_in(folder: Path) -> Path | None:
    """The folder's ``fer2013.csv`` in any case or compressed (``FER2013.csv``,
    ``fer2013.csv.gz``): looked up by its exact name, they were missed and the folder refused."""
    if not folder.is_dir():
        return None
    found = sorted(p for p in folder.iterdir() if p.is_file() and unpacked_name(p) == CSV_NAME)
    return found[0] if found else None


def refuse_labels(path: Path, named_by: str, fix: str) -> None:
    """Refuse class folders' names (``named_by``: data.labels or --labels) for the CSV that
    :func:`load` reads at ``path`` (the file itself, or the folder's fer2013.csv), whose rows
    carry FER2013's codes; ``fix`` says where to take them away. Each caller words it: prepare
    named params.yaml whatever params file it read, and evaluate a key its user never set."""
    csv = path if path.is_file() else csv_in(path)
    if csv is not None:
        raise FacialEmotionError(
            f"{csv}: a CSV labels its rows by FER2013's codes, and {named_by} names class "
            f"folders; {fix}"
        )


def load(
    path: str | Path,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    labels: str | dict[Any, Any] = "",
    only: tuple[str, ...] = (),
) -> PreparedData:
    """Load FER2013 from its CSV or from Kaggle's train/test folders, whichever ``path`` holds;
    ``labels`` names the folders (``data.labels``) in place of FER2013's codes, and is refused
    for a CSV before this is called (:func:`refuse_labels`); ``only``: see :func:`folder.load`."""
    path = Path(path)
    csv = path if path.is_file() else csv_in(path)
    if csv is not None:
        return load_csv(
            csv,
            EMOTIONS,
            "fer2013",
            seed=seed,
            val_fraction=val_fraction,
            test_fraction=test_fraction,
            only=only,
        )
    root = folder.existing_dir(path)
    if folder.split_dirs(root) is None:
        raise FacialEmotionError(
            f"{root}: neither {CSV_NAME} nor a train/ folder found; point data.path (or --data) at "
            f"{CSV_NAME} itself (or the .csv.gz, .csv.bz2, .csv.xz, .zip or .tar.gz holding it) "
            "or at the Kaggle folder holding train/ and test/"
        )
    return folder.load(
        root,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        name="fer2013",
        codes=EMOTIONS,  # class folders 0..6, as a Kaggle copy names them
        labels=labels,
        only=only,
    )


def load_csv(
    path: Path,
    label_names: tuple[str, ...],
    name: str,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    only: tuple[str, ...] = (),
) -> PreparedData:
    """An ``emotion,pixels[,Usage]`` CSV whose emotion ``i`` means ``label_names[i]``.

    Splits follow the Usage column when it has one (a missing PublicTest becomes a seeded
    stratified slice of Training); without Usage, rows are split seeded and stratified. Classes
    are the labels that occur, in canonical order. ``only`` parses the pixels of just the first
    of these splits the data has (all when empty), as :func:`folder.load` reads.
    """
    table = read_pixel_csv(path, required=("emotion", "pixels"))
    raw = csv_labels(table["emotion"], len(label_names), path)
    classes = ordered({label_names[i] for i in np.unique(raw)})
    remap = np.array([classes.index(n) if n in classes else -1 for n in label_names])
    y = remap[raw]
    if "Usage" in table.columns:
        parts = _usage_parts(table["Usage"], path)
        how = "Usage column: " + ", ".join(
            f"{usage} → {split}" for usage, split in USAGE_SPLITS.items() if split in parts
        )
    else:
        parts = folder.stratified_split(
            y, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
        )
        how = f"seeded stratified split, no Usage column (seed {seed}, val {val_fraction}, "
        how += f"test {test_fraction})"
    if "val" not in parts:
        parts = folder.carve_val(parts, y, seed=seed, val_fraction=val_fraction)
        how += f"; val = seeded stratified {val_fraction} of train (seed {seed})"
    # rows are split before their pixels are parsed, so scoring one split parses only its rows
    wanted = next((split for split in only if split in parts), None)
    read = {split: idx for split, idx in parts.items() if not only or split == wanted}
    rows = np.unique(np.concatenate([np.empty(0, np.int64), *read.values()]))
    x = csv_pixels(table["pixels"].iloc[rows], path)
    return PreparedData(
        classes=classes,
        splits={
            split: LabelledImages(x[np.searchsorted(rows, idx)], y[idx])
            for split, idx in read.items()
        },
        source={"name": name, "path": str(path), "format": "csv", "splits": how},
        unread={split: len(idx) for split, idx in parts.items() if split not in read},
    )


def _usage_parts(usage: pd.Series, path: Path) -> dict[str, np.ndarray]:
    spelt = {u.lower(): u for u in USAGE_SPLITS}  # in any case: "training", "PUBLICTEST"
    values = np.array([spelt.get(u.strip().lower(), u.strip()) for u in usage])
    unknown = np.flatnonzero(~np.isin(values, list(USAGE_SPLITS)))
    if unknown.size:
        row = int(unknown[0])
        raise FacialEmotionError(
            f"{path}: line {usage.index[row]} has Usage {usage.iloc[row]!r}, expected one of "
            f"{', '.join(USAGE_SPLITS)}; fix the value or remove that row"
        )
    found = {split: np.flatnonzero(values == u) for u, split in USAGE_SPLITS.items()}
    if found["train"].size == 0:
        raise FacialEmotionError(
            f"{path}: no row has Usage 'Training'; mark the rows to train on as Training"
        )
    return {split: idx for split, idx in found.items() if idx.size}
