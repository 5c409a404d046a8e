"""Any labelled image tree, ``<root>/<label>/*``, as prepared data.

Images may have any size, colour or format OpenCV or Pillow read; they become 48x48 grayscale
(see :mod:`facial_emotion.data.images`). Folder names are canonicalised (``anger`` → ``angry``);
unknown names stay as their own class. When ``root`` has ``train/`` (or ``training/``; and ``val/``,
``validation/``, ``valid/``, ``dev/``, ``test/``, ``testing/``, or FER2013's ``PublicTest/`` and
``PrivateTest/``; in any case) those are the splits: a missing val split is a seeded stratified
slice of train and a missing test split stays missing. Otherwise every image is split
seeded and stratified into train/val/test. The FER2013 Kaggle folders are read through here too.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from facial_emotion.data.images import (
    SPLIT_FOLDERS,
    class_folders,
    read_each,
    read_many,
    skipped_files,
    unpack_hint,
    unsquare_files,
)
from facial_emotion.data.photos import PHOTO_CHUNK, FaceFiles
from facial_emotion.data.prepared import LabelledImages, PreparedData
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import canonical, label_map, ordered
from facial_emotion.paths import image_files


def load(
    root: str | Path,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    name: str = "folder",
    codes: tuple[str, ...] = (),
    detect_faces: bool = False,
    no_face_fix: str | None = "crop the faces",
    labels: str | dict[Any, Any] = "",
    only: tuple[str, ...] = (),
) -> PreparedData:
    """Read a labelled image tree; ``name`` is the source recorded in the result. Class folders
    are named by ``labels`` (``data.labels``: a preset such as ``rafdb`` or ``{folder: emotion}``,
    covering every folder) when given, else class folders named by number take the names
    ``codes`` gives them (see :func:`code_names`).
    ``detect_faces`` trains on each image's largest face (:mod:`facial_emotion.data.photos`)
    and leaves out images with none, instead of reading each image whole as one face; a class
    whose training images hold none stops it, saying ``no_face_fix`` (the caller's words), unless
    that is None: scoring needs faces only in the split it scores, and checks that itself.
    ``only`` reads just the first of these splits the data has (all when empty) and counts the
    others' files in ``unread``: the splits are made of the file list, so they are the same."""
    root = existing_dir(root)
    dirs = split_dirs(root)
    others: list[Path] = []  # files that are not images: a warning, not a silent loss
    listed = listed_by_split(root, dirs, others.append)
    mapping = label_map(labels)
    found_folders = {n for _, found in listed.values() for n in found}
    names = _folder_names(listed, found_folders, mapping, labels, codes)
    listed = {s: (f, [names.get(n, n) for n in found]) for s, (f, found) in listed.items()}
    classes = ordered({label for _, labels in listed.values() for label in labels})
    # Splits are made of the files, before any is read: with detect_faces, which photos have a
    # face found must not move another photo from train to test.
    by_split, how = assign_splits(
        listed, classes, dirs, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
    )
    unread = unread_splits(by_split, only)
    reader = FaceFiles() if detect_faces else None
    unsquare: list[Path] = []  # read whole: a photo becomes one squeezed "face"
    splits = _read_splits(by_split, unread, f"{name} {root.name}", reader, unsquare.append)
    if reader and no_face_fix is not None and "train" in splits:
        train = by_split["train"], splits["train"]
        reader.require_faces_of_each_class(classes, *train, root, no_face_fix)
    read = sum(len(files) for split, (files, _) in by_split.items() if split in splits)
    return PreparedData(
        classes=classes,
        splits=splits,
        source={
            "name": name,
            "path": str(root),
            "format": "folders",
            "splits": how,
            **skipped_files(others, root),
            **unsquare_files(unsquare, read, root),
            **(labelling(labels, mapping) if mapping else numbering(names, classes)),
            **(merging(found_folders, mapping) if mapping else {}),
            **(reader.record(root, classes) if reader else {}),
        },
        unread=unread,
    )


def _folder_names(
    listed: dict[str, tuple[list[Path], list[str]]],
    found_folders: set[str],
    mapping: dict[str, str],
    labels: str | dict[Any, Any],
    codes: tuple[str, ...],
) -> dict[str, str]:
    """The class each folder name stands for: ``data.labels``' map, which must cover every
    folder, else the names ``codes`` gives numbered folders (see :func:`code_names`)."""
    if mapping:
        require_mapped(listed, mapping, labels)
        return mapping
    return code_names(found_folders, codes)


def _read_splits(
    by_split: dict[str, tuple[list[Path], np.ndarray]],
    unread: dict[str, int],
    what: str,
    reader: FaceFiles | None,
    on_unsquare: Callable[[Path], None],
) -> dict[str, LabelledImages]:
    """Each split not left ``unread``, read; every split's bad files are told in one error once
    all are read (stopping at the first, test/'s were told a run later)."""
    splits: dict[str, LabelledImages] = {}
    bad: list[str] = []
    for split, (files, y) in by_split.items():
        if split in unread:
            continue
        try:
            splits[split] = read_split(files, y, f"{what} {split}", reader, split, on_unsquare)
        except FacialEmotionError as exc:
            bad.append(str(exc))
    if bad:
        raise FacialEmotionError("; and ".join(bad))
    return splits


def listed_by_split(
    root: Path, dirs: dict[str, Path] | None, on_other: Callable[[Path], None]
) -> dict[str, tuple[list[Path], list[str]]]:
    """Each split folder's image files and the canonical label of each; all of them as ``all`` when
    ``root`` has no split folders."""
    if dirs is None:
        return {"all": labelled_files(root, on_other)}
    return {split: labelled_files(d, on_other) for split, d in dirs.items()}


def assign_splits(
    listed: dict[str, tuple[list[Path], list[str]]],
    classes: tuple[str, ...],
    dirs: dict[str, Path] | None,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
) -> tuple[dict[str, tuple[list[Path], np.ndarray]], str]:
    """The files and class indices of each split, and how the splits were made: the split
    folders', with a val split carved from train where there is none; else a seeded stratified
    split of ``all``."""
    if dirs is None:
        files, found = listed["all"]
        y = indices(found, classes)
        parts = stratified_split(
            y, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction
        )
        assigned = {split: ([files[i] for i in idx], y[idx]) for split, idx in parts.items()}
        how = f"seeded stratified split (seed {seed}, val {val_fraction}, test {test_fraction})"
        return assigned, how
    assigned = {s: (f, indices(labels, classes)) for s, (f, labels) in listed.items()}
    how = "folders " + ", ".join(f"{d.name}/ → {split}" for split, d in dirs.items())
    if "val" not in assigned:
        files, y = assigned["train"]
        parts = stratified_split(y, seed=seed, val_fraction=val_fraction, test_fraction=0.0)
        assigned |= {s: ([files[i] for i in idx], y[idx]) for s, idx in parts.items()}
        how += f"; val = seeded stratified {val_fraction} of train (seed {seed})"
    return assigned, how


def unread_splits(
    listed: dict[str, tuple[list[Path], np.ndarray]], only: tuple[str, ...]
) -> dict[str, int]:
    """The file count of each split left unread: all but the first of ``only`` the data has
    (none when ``only`` is empty)."""
    wanted = next((split for split in only if split in listed), None)
    return {split: len(y) for split, (_, y) in listed.items() if only and split != wanted}


def read_split(
    files: list[Path],
    y: np.ndarray,
    desc: str,
    reader: FaceFiles | None,
    split: str,
    on_unsquare: Callable[[Path], None],
) -> LabelledImages:
    """The faces of one split's files, without the files ``reader`` found no face in; without
    a reader, each file is read whole and those far from square go to ``on_unsquare``."""
    if reader is None:
        return LabelledImages(read_many(files, desc=desc, on_unsquare=on_unsquare), y)
    x, found = read_each(files, desc, reader.read, chunk=PHOTO_CHUNK)
    missed = [path for path, ok in zip(files, found, strict=True) if not ok]
    reader.faceless += missed
    reader.faceless_by_split[split] = len(missed)  # each split is read once
    codes, counts = np.unique(y[~found], return_counts=True)
    by_class = dict(zip(codes.tolist(), counts.tolist(), strict=True))
    reader.faceless_by_class_by_split[split] = by_class
    reader.lost_classes_by_split[split] = [int(c) for c in np.setdiff1d(y[~found], y[found])]
    return LabelledImages(x[found], y[found])


def existing_dir(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise FacialEmotionError(
            f"{path}: not found; point data.path (or --data) at the data set's folder or file"
        )
    if not path.is_dir():
        hint = unpack_hint(path)
        raise FacialEmotionError(
            f"{path}: an archive, not a folder; {hint}"
            if hint
            else f"{path}: is a file, not a folder; point data.path (or --data) at the folder "
            "holding <label>/ folders"
        )
    return path


def split_dirs(root: Path) -> dict[str, Path] | None:
    """The split sub-folders of ``root`` by split name, or None when it has no ``train/``.

    Names match in any case (``Train/``, ``TEST/``): otherwise they would be taken for classes.
    """
    by_name: dict[str, list[Path]] = {}
    for sub in sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name):
        by_name.setdefault(sub.name.lower(), []).append(sub)
    found = {}
    for split, names in SPLIT_FOLDERS.items():
        present = [sub for n in names for sub in by_name.get(n, [])]
        if len(present) > 1:
            raise FacialEmotionError(
                f"{root}: has both {present[0].name}/ and {present[1].name}/; "
                f"keep one of them as the {split} split"
            )
        if present:
            found[split] = present[0]
    if "train" not in found:
        return None
    for sub in (p for subs in by_name.values() for p in subs):
        if sub not in found.values() and not sub.name.startswith(".") and image_files(sub):
            splits = ", ".join(f"{d.name}/" for d in found.values())
            raise FacialEmotionError(
                f"{sub}: holds images beside the split folders ({splits}) but is none of them, "
                "so it would be left out; rename it val/ or test/, or move it elsewhere"
            )
    return found


def labelled_files(
    root: Path, on_other: Callable[[Path], None] | None = None
) -> tuple[list[Path], list[str]]:
    """Image files under ``<root>/<label>/`` and the canonical label of each; files that are not
    images go to ``on_other``."""
    files, labels = [], []
    for folder, paths in class_folders(root, on_other).items():
        files += paths
        labels += [canonical(folder)] * len(paths)
    return files, labels


def code_names(labels: set[str], codes: tuple[str, ...]) -> dict[str, str]:
    """``{"3": codes[3], ...}`` when every label is a code number, as when class folders are named
    by their data set's codes (FER2013's ``0`` … ``6``); else ``{}``: names are names."""
    numbers = {str(i): name for i, name in enumerate(codes)}
    return numbers if labels <= numbers.keys() else {}


def require_mapped(
    listed: dict[str, tuple[list[Path], list[str]]],
    mapping: dict[str, str],
    labels: str | dict[Any, Any],
) -> None:
    """Stop at a class folder ``labels`` does not name: kept under its own name, it would be a
    class "8" beside the emotions, or its faces would go unnoticed."""
    for files, found in listed.values():
        for path, label in zip(files, found, strict=True):
            if label not in mapping:
                given = f"{labels} " if isinstance(labels, str) else ""
                raise FacialEmotionError(
                    f"{path.parent}: class folder {path.parent.name}/ is not named by data.labels "
                    f"(or --labels) {given}({', '.join(mapping)}); give data.labels as a mapping "
                    "{folder: emotion} that names it too, or move the folder out"
                )


def labelling(labels: str | dict[Any, Any], mapping: dict[str, str]) -> dict[str, object]:
    """What the manifest (and so the model card) records of ``data.labels``: the preset's name
    or the mapping (keys as folder names), which evaluate reads back for this data."""
    return {"labels": labels if isinstance(labels, str) else mapping}


def merging(folders: set[str], mapping: dict[str, str]) -> dict[str, object]:
    """What the manifest records of class folders ``data.labels`` gives one emotion, for
    prepare's note: meant (AffectNet's contempt folded into disgust) or a typo (two folders sent
    to surprise and none to fear), only the class count told them apart."""
    shared: dict[str, list[str]] = {}
    for folder in sorted(folders, key=lambda f: (len(f), f)):  # 2/ before 10/
        shared.setdefault(mapping[folder], []).append(f"{folder}/")
    merged = [f"{' and '.join(n)} → {emotion}" for emotion, n in shared.items() if len(n) > 1]
    return {"merged_folders": "; ".join(merged)} if merged else {}


def numbering(names: dict[str, str], classes: tuple[str, ...]) -> dict[str, object]:
    """What the manifest records of class folders named by number, for prepare's and evaluate's
    warning: RAF-DB's ``1`` … ``7`` became classes "1" … "7" and AffectNet's ``0`` … ``6`` took
    FER2013's names (its 0 is neutral, FER2013's angry), without a word either way."""
    if names:
        return {"class_codes": ", ".join(f"{n} → {c}" for n, c in names.items() if c in classes)}
    return {"numbered_classes": True} if all(c.isdigit() for c in classes) else {}


def merging_note(source: dict[str, object], path: str | Path) -> str | None:
    """One line naming the class folders data.labels made one class (:func:`merging`), or None."""
    if merged := source.get("merged_folders"):
        return (
            f"{path}: data.labels gives more than one class folder the same emotion ({merged}), "
            "so each such group is one class; if that is not meant, correct data.labels"
        )
    return None


def numbering_note(source: dict[str, object], path: str | Path) -> str | None:
    """One line on how numbered class folders were named (:func:`numbering`), or None."""
    fix = (
        "set data.labels (evaluate: --labels) to rafdb, affectnet or a mapping {folder: emotion}, "
        "or rename the class folders to emotion names (data.md, folder: numbered classes)"
    )
    if source.get("numbered_classes"):
        return (
            f"{path}: the class folders are numbers, so the model, its card and predict name "
            f"the emotions by number; {fix}"
        )
    if codes := source.get("class_codes"):
        return (
            f"{path}: class folders named by number are read as FER2013's codes ({codes}); a "
            f"data set numbered otherwise (AffectNet: 0 is neutral; RAF-DB: 1 is surprise) is "
            f"labelled wrong so: {fix}"
        )
    return None


def indices(labels: list[str], classes: tuple[str, ...]) -> np.ndarray:
    position = {c: i for i, c in enumerate(classes)}
    return np.array([position[label] for label in labels], dtype=np.int64)


def carve_val(
    parts: dict[str, np.ndarray], y: np.ndarray, *, seed: int, val_fraction: float
) -> dict[str, np.ndarray]:
    """Move a seeded stratified ``val_fraction`` of train's rows (indices into ``y``) into a new
    val split."""
    train = parts["train"]
    carved = stratified_split(y[train], seed=seed, val_fraction=val_fraction, test_fraction=0.0)
    return {**parts, **{split: train[idx] for split, idx in carved.items()}}


def stratified_split(
    y: np.ndarray, *, seed: int, val_fraction: float, test_fraction: float
) -> dict[str, np.ndarray]:
    """Sorted sample indices per split, each class divided in the given proportions.

    Split sizes are rounded once over the whole set and shared out between classes by largest
    remainder, so small classes are not all rounded down to nothing. ``test`` is left out when
    ``test_fraction`` is 0.
    """
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    members = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    counts = np.array([len(m) for m in members])
    n_val = _allocate(counts, val_fraction)
    n_test = np.minimum(_allocate(counts, test_fraction), counts - n_val)
    parts = {
        "train": [m[v + t :] for m, v, t in zip(members, n_val, n_test, strict=True)],
        "val": [m[:v] for m, v in zip(members, n_val, strict=True)],
        "test": [m[v : v + t] for m, v, t in zip(members, n_val, n_test, strict=True)],
    }
    if test_fraction == 0:
        del parts["test"]
    return {split: np.sort(np.concatenate(chunks)) for split, chunks in parts.items()}


def _allocate(counts: np.ndarray, fraction: float) -> np.ndarray:
    """Largest-remainder share of ``round(sum(counts) * fraction)`` items over the classes."""
    exact = counts * fraction
    share = np.floor(exact).astype(np.int64)
    missing = int(round(exact.sum())) - int(share.sum())
    share[np.argsort(share - exact, kind="stable")[:missing]] += 1
    return share
