"""The ``prepare`` stage: read the configured data source, write the prepared splits.

Run as ``python -m facial_emotion.prepare`` from the repository root (``dvc repro prepare``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from facial_emotion.config import Params, load_params
from facial_emotion.data import overlap, prepared
from facial_emotion.data.folder import merging_note, numbering_note
from facial_emotion.data.images import skipped_note
from facial_emotion.data.sources import guess_source, load_source
from facial_emotion.errors import (
    FacialEmotionError,
    closed_streams_opened,
    output_escapes_what_it_cannot_encode,
)
from facial_emotion.files import require_writable
from facial_emotion.paths import PREPARED, run_on_repository_code
from facial_emotion.stops import interrupted_status, sigterm_as_interrupt
from facial_emotion.wording import counted


def prepare(params_file: str, out: str) -> tuple[Params, prepared.PreparedData, float]:
    """Read the configured data set and write it prepared; also the seconds that took."""
    params = load_params(params_file)
    # before the data is read: --out under a file, or on a read-only disk, ended in a traceback
    require_writable(out, folder=True)
    start = time.perf_counter()
    data = load_source(
        params.data.source,
        params.data.path or None,
        seed=params.seed,
        val_fraction=params.data.val_fraction,
        test_fraction=params.data.test_fraction,
        synthetic_samples=params.data.synthetic_samples,
        detect_faces=params.data.detect_faces,
        labels=params.data.labels,
        settings_from=params_file,
    )
    require_training_faces(data, params.data.path or params.data.source)
    prepared.save(data, out)
    return params, data, time.perf_counter() - start


def require_training_faces(data: prepared.PreparedData, where: str) -> None:
    """Stop when a class has no training faces (a misspelt class folder in one split, say): the
    model could never predict it, and it would still be scored on it."""
    counts = data.counts()
    if len(data.classes) < 2:
        raise FacialEmotionError(
            f"{where}: one class only ({', '.join(data.classes)}); a classifier needs two or more"
        )
    empty = [c for c, n in counts["train"].items() if n == 0]
    if empty:
        found = sorted({s for s, per_class in counts.items() for c in empty if per_class[c]})
        elsewhere = f"only in {', '.join(found)}" if found else "nor in any other split"
        raise FacialEmotionError(
            f"{where}: no training faces of {', '.join(empty)} ({elsewhere}); "
            "spell the class the same in every split, or remove it"
        )


def absent_classes(data: prepared.PreparedData) -> list[str]:
    """One line per split other than train that lacks a class: nothing stops the run (a small
    subject-wise split can miss a rare class), but that class's figures there are then null."""
    return [
        f"{split} has no faces of {', '.join(missing)}; its figures for them will be null"
        for split, per_class in data.counts().items()
        if split != "train" and (missing := [c for c, n in per_class.items() if n == 0])
    ]


def faces_seen_in_training(data: prepared.PreparedData) -> list[str]:
    """One line per split other than train holding faces identical to training faces: they are
    not unseen faces (FER2013's folders have 279 such val faces, 12 of them labelled otherwise
    in train; `benchmarks/unseen.py` scores a model without them)."""
    others = {name: split for name, split in data.splits.items() if name != "train"}
    masks = overlap.identical_to_training(data.splits["train"], *others.values())
    return [
        seen_line(name, len(split), int(identical.sum()), int(relabelled.sum()))
        for (name, split), (identical, relabelled) in zip(others.items(), masks, strict=True)
        if identical.any()
    ]


def seen_line(name: str, size: int, identical: int, relabelled: int) -> str:
    """The line of :func:`faces_seen_in_training` for one split, its verbs agreeing with a count
    of 1: it said "1 of the 5 val faces are identical ... (1 of them labelled otherwise)"."""
    if identical == 1:
        otherwise = ", labelled otherwise there" if relabelled else ""
        return (
            f"1 of the {size} {name} faces is identical to a training face{otherwise}, so it is "
            "not an unseen face"
        )
    return (
        f"{identical} of the {size} {name} faces are identical to training faces "
        f"({relabelled} of them labelled otherwise there), so they are not unseen faces"
    )


def faces_repeated_in_training(data: prepared.PreparedData) -> list[str]:
    """One line when training faces repeat, pixel for pixel: each repeat weighs its face more in
    training, and a face under two labels is taught both (FER2013's Training repeats 1,226 faces,
    38 of them under two or more labels); nothing said so."""
    train = data.splits["train"]
    repeated, conflicting = overlap.repeats_within(train)
    if not repeated:
        return []
    one = conflicting == 1  # "1 face appears ..., so training teaches it", not "each of them"
    labelled = (
        f", and {counted(conflicting, 'face')} {'appears' if one else 'appear'} under two or "
        f"more labels, so training teaches {'it' if one else 'each of them'} both answers"
        if conflicting
        else ""
    )
    return [
        f"{repeated} of the {len(train)} train faces {'repeats' if repeated == 1 else 'repeat'} "
        f"another training face, pixel for pixel{labelled}"
    ]


def blank_faces(data: prepared.PreparedData) -> list[str]:
    """One line when images are a single grey level (FER2013 holds 11 in Training and 1 in
    PublicTest): no face, yet trained on as an emotion or scored as one."""
    blank = {name: overlap.blank_count(split) for name, split in data.splits.items()}
    if not any(blank.values()):
        return []
    counts = ", ".join(f"{name} {n} of {len(data.splits[name])}" for name, n in blank.items() if n)
    total = sum(blank.values())
    one = total == 1
    return [
        f"{counted(total, 'image')} {'is' if one else 'are'} blank, one grey level edge to edge "
        f"({counts}): {'it shows' if one else 'they show'} no face, yet {'is' if one else 'are'} "
        "trained on or scored as an emotion; data.md (blank images) says which to remove"
    ]


# Scored splits smaller than this (46 images made val and test of 5 faces each) get a warning.
SMALL_SPLIT = 30


def layout_notes(data: prepared.PreparedData, source: str, path: str) -> list[str]:
    """Warnings about how the data was read: files in its folders that are not images (an
    iPhone's .heic) were skipped; CK+ read as a plain folder is split frame by frame, so one
    person's near-identical frames land in train and in test."""
    notes = []
    if skipped := skipped_note(data.source, path):
        notes.append(skipped)
    if numbered := numbering_note(data.source, path):
        notes.append(numbered)
    if merged := merging_note(data.source, path):
        notes.append(merged)
    if data.source.get("unsquare_files"):
        notes.append(
            f"{path}: {data.source['unsquare_files']} of {data.source['unsquare_of']} images are "
            f"far from square (such as {data.source['unsquare_example']}): each is read whole as "
            "one face and squeezed to 48x48, so a photo trains as a shrunken scene; for photos "
            "set data.detect_faces=true, else crop them to the face"
        )
    faceless = data.source.get("faceless_files")
    if isinstance(faceless, int) and faceless:
        notes.append(
            f"{path}: left out {counted(faceless, 'image')} with no face "
            f"found (such as {data.source['faceless_example']}); predict finds none in them "
            "either, so crop any you want to keep to the face"
        )
    if source == "folder" and Path(path).is_dir() and guess_source(Path(path)) == "ckplus":
        notes.append(
            f"{path}: every image name starts with a CK+ subject id (S###_), but a folder is split "
            "image by image, so one person's frames land in train and test; use "
            "data.source=ckplus, which splits by subject"
        )
    if source == "ckplus" and data.source.get("format") == "csv":
        notes.append(
            f"{path}: the CK+ CSV has no subject ids, so it is split by rows and one person's "
            "near-identical frames can land in train and test, which then reads high; use the "
            "CK+48/ folders, split by subject, for figures you report"
        )
    scored = {name: len(part) for name, part in data.splits.items() if name != "train"}
    small = {name: size for name, size in scored.items() if size < SMALL_SPLIT}
    if small:
        sizes = " and ".join(f"{name} {size}" for name, size in small.items())
        notes.append(
            f"{path}: {sizes} faces: one face moves accuracy by {100 / min(small.values()):.0f} "
            "points, so the epoch chosen and the figures say little; add images, or score the "
            "model on a separate folder (data.md, folder)"
        )
    if few := few_subjects(data):
        notes.append(f"{path}: {few}")
    return notes


def few_subjects(data: prepared.PreparedData) -> str | None:
    """A split by subject whose scored splits hold few people: 96 CK+48 test faces are 10
    people's near-identical frames, so its accuracy moves a person at a time and with the people
    a seed draws (82-97% over 3 seeds of the CK+ recipe), and nothing said so: the small-split
    warning counts faces, and 96 is above it."""
    subjects = data.source.get("subjects")
    if not isinstance(subjects, dict):  # not split by subject
        return None
    few = {s: n for s, n in subjects.items() if s != "train" and 0 < n < prepared.FEW_PEOPLE}
    if not few:
        return None
    held = " and ".join(f"{s} {len(data.splits[s])} faces of {n} people" for s, n in few.items())
    return (
        f"{held}: one person's faces are alike (CK+48: 3 near-identical frames a sequence), so "
        f"accuracy moves by about {100 / min(few.values()):.0f} points a person and with the "
        "people the seed draws; report the mean and spread over several seeds "
        "(benchmarks/transfer.py --seeds; data.md, ckplus), not one run"
    )


def main(argv: list[str] | None = None) -> int:
    # its stdout is a report, not results a program reads: a closed one is dropped
    closed_streams_opened(results_on_stdout=False)
    output_escapes_what_it_cannot_encode()
    parser = argparse.ArgumentParser(
        prog="python -m facial_emotion.prepare", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--params", default="params.yaml", help="params file (default: params.yaml)"
    )
    parser.add_argument(
        "--out", default=str(PREPARED), help="output folder (default: data/prepared)"
    )
    args = parser.parse_args(argv)
    try:
        with sigterm_as_interrupt():
            params, data, seconds = prepare(args.params, args.out)
    except FacialEmotionError as exc:
        print(f"prepare: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return interrupted_status("prepare", exc)
    notes = layout_notes(data, params.data.source, params.data.path)
    if "test" not in data.splits:
        notes.append(
            "no test split: the evaluate stage scores val, which also chose the epoch, so its "
            "figure leans optimistic; add a test/ folder, or a data.test_fraction above 0 for "
            "data without splits of its own"
        )
    for line in [
        *notes,
        *absent_classes(data),
        *blank_faces(data),
        *faces_repeated_in_training(data),
        *faces_seen_in_training(data),
    ]:
        print(f"prepare: warning: {line}", file=sys.stderr)
    sizes = ", ".join(f"{name} {len(split)}" for name, split in data.splits.items())
    print(
        f"prepare: {params.data.source} → {args.out} ({sizes}; {len(data.classes)} classes: "
        f"{', '.join(data.classes)}) in {seconds:.1f}s"
    )
    return 0


if __name__ == "__main__":
    run_on_repository_code("facial_emotion.prepare")
    sys.exit(main())
