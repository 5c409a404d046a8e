"""One entry point from ``params.yaml``'s ``data`` settings to the prepared format."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from facial_emotion.config import PARAMS_FILE, DataSettings
from facial_emotion.data import ckplus, fer2013, folder, synthetic
from facial_emotion.data.images import reads_as_csv, unpacked_name
from facial_emotion.data.photos import SEARCHED
from facial_emotion.data.prepared import (
    SPLITS,
    LabelledImages,
    PreparedData,
    require_samples,
    stretched,
)
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import label_map
from facial_emotion.paths import IMAGE_EXTENSIONS
from facial_emotion.wording import any_of, counted

# The one list of data sources: a loader is registered here and nowhere else in the code;
# params checks and the manifest take their names from it, and tests/test_data_sources.py says
# which lists outside the code (`evaluate --source`, params.yaml, data.md) must name it too.
LOADERS: dict[str, Callable[..., PreparedData]] = {
    "fer2013": fer2013.load,
    "ckplus": ckplus.load,
    "folder": folder.load,
}
SOURCES: tuple[str, ...] = (*LOADERS, "synthetic")  # synthetic draws its faces: no path to read
CLASS_FOLDER_SOURCES = ("folder", "fer2013")  # those data.labels (--labels) can name
ALL = "all"  # the split name that scores every face of a data set
MODEL_CARD = "the model's card (the .json beside it)"
# said by the scoring commands when no face is found: their user set no data.detect_faces
SCORED_NO_FACE_FIX = (
    f"the model's card says it trained on faces found in photos, so scoring {SEARCHED} too: crop "
    "the faces, or score a model trained on whole images (evaluate: --model)"
)
DEFAULT_CARVING = {"seed": 42, "val_fraction": 0.1, "test_fraction": 0.1}  # params.yaml's


def load_source(
    source: str,
    path: str | None,
    *,
    seed: int,
    val_fraction: float,
    test_fraction: float,
    synthetic_samples: int,
    detect_faces: bool = False,
    labels: str | dict[Any, Any] = "",
    only: tuple[str, ...] = (),
    whole: bool = False,
    settings_from: str = PARAMS_FILE,
    training: bool = True,
) -> PreparedData:
    """Load ``source`` from ``path`` (ignored for ``synthetic``) into train/val(/test) splits;
    ``detect_faces`` cuts the largest face out of each image of a ``folder`` source, and
    ``labels`` (``data.labels``) names its class folders. ``only`` reads just the first of these
    splits the data has, where the loader can (the others are counted in ``unread``). ``whole``
    reads a set scored as one, whose carved splits may then be empty (a small held-out set).
    ``settings_from`` is what a wrong setting's error names as its origin. ``training``: the data
    is read to train on, so a class whose training photos hold no face found stops it (it would
    vanish); scoring needs faces only in the split it scores, and checks that itself.

    The result's ``source`` dict records the source name, the path read and how the splits
    were made, so the manifest says where the data came from.
    """
    settings = DataSettings(
        source, path or "", val_fraction, test_fraction, synthetic_samples, detect_faces, labels
    )
    check_settings(settings, settings_from)  # a source other than synthetic has its path
    if labels and source == "fer2013":  # here, where the file the setting came from is known
        fer2013.refuse_labels(
            Path(settings.path), "data.labels", f'set data.labels to "" in {settings_from}'
        )
    carving: dict[str, Any] = {
        "seed": seed,
        "val_fraction": val_fraction,
        "test_fraction": test_fraction,
    }
    if source == "synthetic":
        data = synthetic.load(synthetic_samples, **carving)
    else:
        fix = (
            f"data.detect_faces {SEARCHED}: set it false in {settings_from} for face crops, or "
            "crop the faces"
        )
        checked = fix if training else None  # scoring checks the split it scores itself
        photos = {"detect_faces": True, "no_face_fix": checked} if detect_faces else {}  # folder's
        named = {"labels": labels} if labels else {}  # class folders' option only
        data = LOADERS[source](Path(settings.path), **carving, **photos, **named, only=only)
        # Kept with the model (its card) so scoring it later carves the very same held-out faces.
        data = replace(data, source={**data.source, "carving": carving})
    return stretched(data if whole else require_samples(data))


def load_for_scoring(
    path: Path,
    *,
    source: str = "auto",
    split: str | None = None,
    card: dict[str, Any] | None = None,
    seed: int | None = None,
    labels: str | dict[Any, Any] = "",
) -> tuple[PreparedData, str]:
    """A data set as the scoring commands read it, and the name of the split to score.

    The model's ``card`` says how its training run read and carved the data, so a carved test
    split scored here never holds faces it trained on: ``source="auto"`` takes the card's loader
    when ``path`` is the data it trained on, else judges the layout (:func:`guess_source`); splits
    the data lacks are carved with the card's seed (``seed`` overrides) and fractions, and a model
    trained on faces found in photos (``data.detect_faces``) is scored on faces found so. The split
    defaults to ``test`` when the data has one, else ``val``; ``split="all"`` adds the split
    ``all``: every face. ``labels`` (``--labels``) names the class folders as ``data.labels``
    does; without it, the data the model trained on is named as its training run named it.
    """
    card = card or {}
    detected = _trained_on_faces_found(card)
    same = trained_source(card, path)
    given = labels
    labels = labels or _recorded_labels(card, same)
    if source == "auto":
        source = _auto_source(path, same, detected, bool(labels))
    if given:
        _refuse_labels_given(path, source)
    photos = detected and source == "folder"
    data = load_source(
        source,
        str(path),
        **carving_of(card, seed),
        synthetic_samples=0,
        detect_faces=photos,
        labels=labels,
        only=_splits_read(split, photos),
        # every face is scored: a tiny set's carved splits may be empty; and with faces found in
        # photos, a split not scored may hold none (require_faces_found checks the one scored)
        whole=split == ALL or photos,
        # --labels offers only presets, so a wrong carving or label comes from a card edited by hand
        settings_from=MODEL_CARD,
        training=False,
    )
    data, split = _split_scored(data, split, path)
    if photos:
        require_faces_found(data, split, path)
    return data, split


def _trained_on_faces_found(card: dict[str, Any]) -> bool:
    """Whether the model trained on faces cut out of photos: it is scored on faces cut the same
    way, wherever the photos are (a train/ folder among them would be taken for FER2013's
    layout)."""
    trained = card.get("source")
    return isinstance(trained, dict) and trained.get("name") == "folder" and "faces" in trained


def _recorded_labels(card: dict[str, Any], same: str | None) -> str | dict[Any, Any]:
    """The ``data.labels`` the model's training run named its class folders with, for the very
    data it trained on (``same``, from :func:`trained_source`); "" for other data."""
    trained = card.get("source")
    recorded = trained.get("labels") if same and isinstance(trained, dict) else None
    return recorded if isinstance(recorded, str | dict) else ""


def _auto_source(path: Path, same: str | None, detected: bool, labelled: bool) -> str:
    """``--source auto``: the loader the model trained with on this very data (``same``), a
    folder of photos for a model trained on faces found in photos (``detected``), else the one
    the layout needs; numbered folders ``labelled`` by the user are not FER2013's own."""
    source = same or ("folder" if detected else guess_source(path))
    if labelled and source == "fer2013" and path.is_dir() and not fer2013.csv_in(path):
        return "folder"
    return source


def _refuse_labels_given(path: Path, source: str) -> None:
    """Stop ``--labels`` for data that names its classes itself. Not check_settings' error: that
    one names the card, and the user of evaluate has no data.labels to unset."""
    if source == "fer2013":
        fer2013.refuse_labels(path, "--labels", "leave out --labels")
    if source not in CLASS_FOLDER_SOURCES:
        raise FacialEmotionError(
            f"{path}: {source} data names its classes itself, and --labels names class folders "
            "(of a folder or FER2013 data set); leave out --labels"
        )


def _splits_read(split: str | None, photos: bool) -> tuple[str, ...]:
    """The splits to decode: the one scored alone (unnamed, the first of test and val the data
    has), as decoding FER2013's 28,709 training faces to score its 3,589 val faces took most of
    the time; all of them to score all, and with faces found in ``photos``, whose count of every
    split's faces found is told."""
    if split == ALL or photos:
        return ()
    return (split,) if split else ("test", "val")


def _split_scored(data: PreparedData, split: str | None, path: Path) -> tuple[PreparedData, str]:
    """``data`` and the split to score: ``split``, by default ``test`` when the data has one, else
    ``val``; ``all`` adds that split, every face; a split the data lacks stops, naming those it
    has (read or not)."""
    split = split or ("test" if "test" in data.splits else "val")
    if split == ALL:  # a held-out set scored whole
        return _with_every_face(data), split
    if split not in data.splits:
        held = [name for name in SPLITS if name in data.splits or name in data.unread]
        raise FacialEmotionError(
            f"{path}: has no '{split}' split; choose one of {', '.join([*held, ALL])}"
        )
    return data, split


def _with_every_face(data: PreparedData) -> PreparedData:
    """``data`` with the split ``all``: every face of its splits, each face's person kept where
    every split names them."""
    parts = list(data.splits.values())
    people = [part.subjects for part in parts if part.subjects is not None]
    whole = LabelledImages(
        np.concatenate([part.x for part in parts]),
        np.concatenate([part.y for part in parts]),
        np.concatenate(people) if len(people) == len(parts) else None,
    )
    return PreparedData(data.classes, {**data.splits, ALL: whole}, data.source)


def require_faces_found(data: PreparedData, split: str, path: Path) -> None:
    """Stop when no face was found in any photo of the split scored, the only photos a score
    needs. It stopped instead on a class of the train split's photos with no face found ("training
    images"), and on another split with none found ("has no samples"), though the split asked for
    could be scored; photos of it with no face found are scored as not found (faces_not_found)."""
    if len(data.splits[split].y):
        return
    by_split = data.source.get("faceless_by_split")
    by_split = by_split if isinstance(by_split, dict) else {}
    missed = int(sum(by_split.values()) if split == ALL else by_split.get(split, 0))
    if not missed:  # a tiny set's carved split
        raise FacialEmotionError(
            f"{path}: the {split} split scored holds no photos; add photos, or score them all "
            "(--split all)"
        )
    photos = (
        f"its {counted(missed, 'photo')}, all scored"
        if split == ALL
        else f"the {counted(missed, 'photo')} of the {split} split scored"
    )
    raise FacialEmotionError(
        f"{path}: no face found in {any_of(missed)}{photos}; {SCORED_NO_FACE_FIX}"
    )


def carving_of(card: dict[str, Any], seed: int | None = None) -> dict[str, Any]:
    """How the model's own training run carved the splits its data lacked, from its card, so a
    carved test split scored later never holds faces the model trained on. Cards written before
    the carving was recorded give their run's seed; ``seed`` overrides."""
    source = card.get("source")
    recorded = source.get("carving") if isinstance(source, dict) else None
    if not isinstance(recorded, dict):
        recorded = {}
    # a card is a file anyone can edit: only the carving's own keys are read from it
    recorded = {key: recorded[key] for key in DEFAULT_CARVING if key in recorded}
    carving = {**DEFAULT_CARVING, "seed": card.get("seed", DEFAULT_CARVING["seed"]), **recorded}
    return carving if seed is None else {**carving, "seed": seed}


def trained_source(card: dict[str, Any], path: Path) -> str | None:
    """The loader the model's training run read ``path`` with, if it read this very path: another
    loader carves the same files differently (CK+48 read as a plain folder is split by image, as
    CK+ by subject), so its test split would hold faces the model trained on."""
    source = card.get("source")
    if not (isinstance(source, dict) and source.get("path") and source.get("name") in SOURCES):
        return None
    return source["name"] if Path(source["path"]).resolve() == path.resolve() else None


def guess_source(path: Path) -> str:
    """The loader a path's layout needs, judged by what it holds rather than by its name.

    CK+ is the only layout whose image names carry a subject (``S###_``), and its CSV is the only
    one named ``ckextended.csv``; a ``train/`` folder (in any case) or any other CSV, compressed
    or not (``.csv.gz``, ``fer2013.tar.gz``, ...), is FER2013; the rest is a plain folder of
    labelled images.
    """
    if path.is_file():
        if unpacked_name(path) == ckplus.CSV_NAME:
            return "ckplus"
        return "fer2013" if reads_as_csv(path) else "folder"
    if (path / ckplus.CSV_NAME).is_file() or (path / ckplus.FOLDER_NAME).is_dir():
        return "ckplus"
    if fer2013.csv_in(path) or (path.is_dir() and folder.split_dirs(path)):
        return "fer2013"
    images = [
        f for f in path.glob("*/*") if f.suffix.lower() in IMAGE_EXTENSIONS and f.name[0] != "."
    ]
    if images and all(ckplus.SUBJECT.match(f.name) for f in images):
        return "ckplus"
    return "folder"


def check_settings(data: DataSettings, source: str = PARAMS_FILE) -> None:
    """The data settings' values, before any file is read; ``source`` is the file they came from."""
    if data.source not in SOURCES:
        raise FacialEmotionError(
            f"data.source {data.source!r} is unknown; use one of {', '.join(SOURCES)} in {source}"
        )
    val, test = data.val_fraction, data.test_fraction
    if not 0 < val < 1 or not 0 <= test < 1 or val + test >= 1:
        raise FacialEmotionError(
            f"data.val_fraction {val} and data.test_fraction {test} must leave data for "
            f"training (0 < val, 0 <= test, val + test < 1); fix them in {source}"
        )
    if data.source == "synthetic" and data.synthetic_samples < 1:
        raise FacialEmotionError(
            f"data.synthetic_samples must be a positive count, got {data.synthetic_samples}; "
            f"fix it in {source}"
        )
    if data.detect_faces and data.source != "folder":
        raise FacialEmotionError(
            f"data.detect_faces is for data.source folder (photos); {data.source} faces are "
            f"cropped already: set it false in {source}"
        )
    label_map(data.labels, f"{source}: data.labels")  # no such preset, a value that is no emotion
    if data.labels and data.source not in CLASS_FOLDER_SOURCES:
        raise FacialEmotionError(
            f"data.labels names class folders (data.source folder or fer2013); {data.source} "
            f'names its classes itself: set it to "" in {source}'
        )
    if data.source != "synthetic" and not data.path:
        raise FacialEmotionError(
            f"data.path is not set; point it at the {data.source} data (folder or CSV) in {source}"
        )
