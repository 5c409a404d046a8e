"""The one prepared format every source ends in: uint8 (N, 48, 48) images, int labels, class names.

Nothing downstream of this module knows where the data came from.
"""

from __future__ import annotations

import errno
import json
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import atomic_path, write_json

IMAGE_SIZE = 48
# Scored splits of fewer people than this say little per person: prepare warns, and evaluation
# gives no people-wise interval (a bootstrap knows only the people scored: on CK+48's test split
# of 10 people, 7 read wholly right, it gave 89.6-100%, narrower than the faces' 88.3-98.3%, while
# three seeds' draws of people moved the accuracy over 82-97%).
FEW_PEOPLE = 30
SPLITS: tuple[str, ...] = ("train", "val", "test")


@dataclass(frozen=True)
class LabelledImages:
    """One split: ``x`` uint8 (N, 48, 48) grayscale faces, ``y`` int64 (N,) class indices, and
    ``subjects`` (N,) the person of each face where the source names them (CK+48's ``S###``),
    else None: one person's faces are not independent, so evaluation resamples people."""

    x: np.ndarray
    y: np.ndarray
    subjects: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.x.dtype != np.uint8 or self.x.ndim != 3 or self.x.shape[1:] != (48, 48):
            raise ValueError(f"images must be uint8 (N, 48, 48), got {self.x.dtype} {self.x.shape}")
        if self.y.shape != (len(self.x),):
            raise ValueError(f"labels must have shape ({len(self.x)},), got {self.y.shape}")
        if self.subjects is not None and self.subjects.shape != (len(self.x),):
            raise ValueError(
                f"subjects must have shape ({len(self.x)},), got {self.subjects.shape}"
            )

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class PreparedData:
    """A data set's splits (``train`` and ``val`` always, ``test`` when the source has one).

    ``unread`` counts the faces of splits the data set has but were left unread, by name: scoring
    one split of a folder need not decode the others (FER2013's 28,709 training faces to score its
    3,589 val faces). A split may be empty (a tiny set scored whole needs none of its carved
    splits): :func:`require_samples` refuses that where each split is used."""

    classes: tuple[str, ...]
    splits: dict[str, LabelledImages]
    source: dict[str, object] = field(default_factory=dict)
    unread: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("train", "val"):
            if name not in self.splits and name not in self.unread:
                raise ValueError(f"prepared data needs a '{name}' split")
        for name, split in self.splits.items():
            if len(split) and (split.y.min() < 0 or split.y.max() >= len(self.classes)):
                raise ValueError(
                    f"labels of split '{name}' fall outside the {len(self.classes)} classes"
                )

    def counts(self) -> dict[str, dict[str, int]]:
        """Images per class in each split, for the manifest and the explore report."""
        return {
            name: {c: int((split.y == i).sum()) for i, c in enumerate(self.classes)}
            for name, split in self.splits.items()
        }


def require_samples(data: PreparedData) -> PreparedData:
    """``data`` when none of its splits, read or not, is empty: training, selecting an epoch on
    val or scoring one split needs faces in each."""
    sizes = {**{name: len(split) for name, split in data.splits.items()}, **data.unread}
    for name, size in sizes.items():
        if size == 0:
            if data.source.get("name") == "synthetic":  # generated: there is nowhere to add images
                where, fix = "the embedded synthetic data", "raise data.synthetic_samples"
            else:
                where = str(data.source.get("path") or "the data")
                fix = "add images to it or point data.path (or --data) at a larger data set"
            raise FacialEmotionError(f"{where}: the '{name}' split has no samples; {fix}")
    return data


def full_range(faces: np.ndarray) -> np.ndarray:
    """uint8 faces (..., 48, 48) each stretched to span 0..255, as FER2013's do (3,587 of its
    3,589 val faces; one is blank). Faces are trained, scored and served so: a face in a dim room
    then reaches the model as its training faces did (unstretched, val faces darkened to a mean
    pixel of 20 were read right 15% of the time, most as angry; stretched, 68%: README), and a
    CK+ or webcam face is not trained in one range and served in another."""
    flat = faces.reshape(-1, *faces.shape[-2:])
    out = np.empty(flat.shape, np.uint8)
    for start in range(0, len(flat), STRETCH_CHUNK):
        out[start : start + STRETCH_CHUNK] = _full_range(flat[start : start + STRETCH_CHUNK])
    return out.reshape(faces.shape)


# Faces stretched at a time: the float32 steps of the whole of a split at once took 26 bytes a
# pixel (a 300,000-face folder would have peaked near 18 GB in prepare); a chunk keeps them at
# about 30 MB, and no slower.
STRETCH_CHUNK = 1024


def _full_range(faces: np.ndarray) -> np.ndarray:
    low = faces.min(axis=(-2, -1), keepdims=True).astype(np.float32)
    high = faces.max(axis=(-2, -1), keepdims=True).astype(np.float32)
    spread = (faces - low) * (255 / np.maximum(high - low, 1))
    return np.where(high > low, np.round(spread), faces).astype(np.uint8)  # a flat face: as is


def as_model_input(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 48, 48) → float32 (N, 48, 48, 1) raw 0..255, the input every model takes."""
    return images.astype(np.float32)[..., None]


def stretched(data: PreparedData) -> PreparedData:
    """``data`` with every face stretched as :func:`full_range` does, in place: loaders hand
    over faces of their own, and a stretched copy held every face twice (prepare peaked at
    1.46 GB for a folder of 287,000 faces, 0.66 GB of it the copy)."""
    for split in data.splits.values():
        for start in range(0, len(split.x), STRETCH_CHUNK):
            faces = split.x[start : start + STRETCH_CHUNK]
            faces[...] = _full_range(faces)
    return data


def differs_from(data: PreparedData, source: str, path: str) -> str | None:
    """Why ``data`` is not what ``data.source`` and ``data.path`` name, or None: a notebook given
    other data settings still showed the last prepared set, without a word."""
    name, held = data.source.get("name"), data.source.get("path")
    if name is None:  # no manifest.json (faces copied in by hand), or one that names no source
        return (
            "the prepared data does not record which source it came from (prepare writes it in "
            f"manifest.json), so it may not be data.source {source}; run `dvc repro prepare`"
        )
    if name != source:
        return f"the prepared data is {name}, not data.source {source}; run `dvc repro prepare`"
    if source != "synthetic" and held and Path(str(held)).resolve() != Path(path).resolve():
        return f"the prepared data is from {held}, not data.path {path}; run `dvc repro prepare`"
    return None


def save(data: PreparedData, out_dir: str | Path) -> None:
    """Write ``<split>.npz`` files and ``manifest.json``, all or none: each is written to a
    temporary file beside it and renamed into place once every one is whole (the manifest last),
    so a prepare stopped part way, outside DVC, leaves the last run's set as it was, where it
    left the new train.npz beside the old val and test. A split's subjects only where it has
    them, so the files of sources without are as they were. Data read with splits left
    ``unread`` is refused: its folder's files of those splits would be deleted."""
    if data.unread:
        raise ValueError(
            f"cannot save prepared data whose split(s) {', '.join(data.unread)} were not read: "
            "their files would be lost; read every split to save it"
        )
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "manifest.json"
    try:
        with ExitStack() as renames:  # renamed in the reverse order of entry: the manifest last
            manifest = renames.enter_context(atomic_path(target))
            for name, split in data.splits.items():
                people = {} if split.subjects is None else {"subjects": split.subjects.astype(str)}
                target = out_dir / f"{name}.npz"
                with open(renames.enter_context(atomic_path(target)), "wb") as fh:
                    # numpy's stub cannot tell **people ("subjects") from its allow_pickle
                    np.savez_compressed(
                        fh,
                        x=split.x,
                        y=split.y,
                        classes=np.array(data.classes),
                        **people,  # type: ignore[arg-type]
                    )
            target = out_dir / "manifest.json"
            write_json(
                manifest,
                {"classes": list(data.classes), "source": data.source, "counts": data.counts()},
            )
    except OSError as exc:
        raise unwritten(target, exc) from exc
    for stale in out_dir.glob("*.npz"):
        if stale.stem not in data.splits:
            stale.unlink()


def unwritten(target: Path, exc: OSError) -> FacialEmotionError:
    """A prepared file the disk did not take: a full disk ended prepare, after every image was
    read, in a 30-line traceback of numpy's zip writer."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        fix = (
            "free disk space (prepared faces take about 2.1 KB each: 600 MB for 287,000) and run "
            "prepare again"
        )
    elif exc.errno == errno.EFBIG:  # freeing space does not help: FAT32's 4 GB, `ulimit -f`
        fix = (
            "the file system, or a limit on file size (`ulimit -f`), takes no file this large "
            "(prepared faces take about 2.1 KB each); prepare into a folder on another disk"
        )
    else:
        fix = "check that the folder is writable"
    return FacialEmotionError(f"{target}: cannot be written ({exc.strerror or exc}); {fix}")


def load_split(path: str | Path) -> tuple[LabelledImages, tuple[str, ...]]:
    """Read one prepared split and its class names (its subjects when it has them: a folder
    prepared before they were kept loads without)."""
    path = Path(path)
    if not path.is_file():
        raise FacialEmotionError(f"{path}: prepared split not found; run `dvc repro prepare` first")
    try:
        with np.load(path, allow_pickle=False) as npz:
            subjects = npz["subjects"].astype(str) if "subjects" in npz.files else None
            return LabelledImages(npz["x"], npz["y"].astype(np.int64), subjects), tuple(
                str(c) for c in npz["classes"]
            )
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise FacialEmotionError(
            f"{path}: not a prepared split ({type(exc).__name__}: a damaged copy, or a DVC or "
            "Git LFS pointer); make it again with `dvc repro prepare`"
        ) from exc


def load(prepared_dir: str | Path) -> PreparedData:
    """Read every split present in a prepared folder. ``save`` renames its files into place
    together, but one by one: a prepare killed between two renames, or files copied in by hand,
    leave a mix of two data sets, which was read under the last split's class names (or failed
    with a traceback)."""
    prepared_dir = Path(prepared_dir)
    splits: dict[str, LabelledImages] = {}
    classes: tuple[str, ...] = ()
    for name in SPLITS:
        path = prepared_dir / f"{name}.npz"
        if path.exists():
            splits[name], own = load_split(path)
            if classes and own != classes:
                raise FacialEmotionError(
                    f"{path}: holds classes {', '.join(own)}, and the splits before it "
                    f"{', '.join(classes)}: they come from two runs of prepare (one stopped "
                    "part way); run `dvc repro prepare` again"
                )
            classes = own
    if "train" not in splits or "val" not in splits:
        raise FacialEmotionError(f"{prepared_dir}: no prepared data; run `dvc repro prepare` first")
    _require_manifest_counts(prepared_dir, splits)
    return require_samples(
        PreparedData(classes=classes, splits=splits, source=recorded_source(prepared_dir))
    )


def _require_manifest_counts(prepared_dir: Path, splits: dict[str, LabelledImages]) -> None:
    """Stop when the splits are not the ones the manifest, written last, counts: two data sets
    of the same class names (the synthetic default and FER2013) mixed without a word, as the
    class names cannot tell them apart."""
    try:
        counts = json.loads((prepared_dir / "manifest.json").read_text(encoding="utf-8"))["counts"]
        recorded = {name: sum(per_class.values()) for name, per_class in counts.items()}
    except (OSError, KeyError, TypeError, AttributeError, ValueError):
        return  # no manifest, or one from before counts: nothing to compare with
    held = {name: len(split) for name, split in splits.items()}
    if held != recorded:
        faces = ", ".join(f"{name} {n}" for name, n in held.items())
        counted = ", ".join(f"{name} {n}" for name, n in recorded.items())
        raise FacialEmotionError(
            f"{prepared_dir}: its splits hold {faces} faces, and its manifest.json counts "
            f"{counted}: they come from two runs of prepare (one stopped part way); run "
            "`dvc repro prepare` again"
        )


def recorded_source(prepared_dir: Path) -> dict[str, object]:
    """Where ``prepare`` read the data and how it split it, as its manifest says, so the model
    card names the real data set rather than ``data/prepared``."""
    manifest = prepared_dir / "manifest.json"
    try:
        return dict(json.loads(manifest.read_text(encoding="utf-8"))["source"])
    except FileNotFoundError:
        return {"path": str(prepared_dir)}
    except (KeyError, TypeError, ValueError) as exc:  # ValueError: not JSON
        raise FacialEmotionError(
            f"{manifest}: not a manifest prepare wrote ({exc}); run `dvc repro prepare` again"
        ) from exc


def evaluation_split(prepared_dir: str | Path) -> tuple[str, LabelledImages, tuple[str, ...]]:
    """The test split when the data set has one, else val (callers record which one they used)."""
    prepared_dir = Path(prepared_dir)
    name = "test" if (prepared_dir / "test.npz").exists() else "val"
    split, classes = load_split(prepared_dir / f"{name}.npz")
    return name, split, classes
