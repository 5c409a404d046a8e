"""``facial-emotion evaluate``: score any model on any supported data set, as JSON metrics.

Classes are matched by name, so a FER2013 model can be scored on CK+: faces of classes the model
does not know (CK+'s ``contempt``) are left out and counted in ``skipped``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Collection, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from facial_emotion.cli.options import (
    add_model_option,
    add_progress_option,
    named,
    shift_pixels,
    waiting_note,
)
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import PRESETS
from facial_emotion.wording import counted

if TYPE_CHECKING:  # numpy and the data load in score(), so `--help` stays quick
    import numpy as np

    from facial_emotion.data.prepared import PreparedData
    from facial_emotion.evaluation import Evaluation

SOURCES = ("auto", "fer2013", "ckplus", "folder")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_option(parser, default=".keras")
    parser.add_argument(
        "--data",
        required=True,
        # Path("") is ".": `--data "$DATA"` with it unset scored the working folder
        type=named("file or folder", "name . for this folder", str),
        help="data set file or folder (see data.md)",
    )
    parser.add_argument(
        "--source",
        choices=SOURCES,
        default="auto",
        help="data set kind; auto: the model card's when --data is the data it was trained on, "
        "else ckplus for ckextended.csv, CK+48/ or images named S###_*, fer2013 for a train/ "
        "folder or another CSV, else folder",
    )
    parser.add_argument(
        "--labels",
        choices=tuple(PRESETS),
        default="",
        help="what numbered class folders mean, as data.labels: rafdb (1 surprise ... 7 "
        "neutral), affectnet (0 neutral ... 7 contempt) or fer2013 (0 angry ... 6 neutral); "
        "default: the folder names (the model card's data.labels for the data it trained on)",
    )
    parser.add_argument(
        "--split",
        choices=("train", "val", "test", "all"),
        help="split to score: train, val, test or all, every face (default: test: the data's own, "
        "or, for data without splits, the seeded share (10%% by default) training carves out "
        "too; else val)",
    )
    parser.add_argument("--no-tta", dest="tta", action="store_false", help="no flip averaging")
    parser.add_argument(
        "--tta-shift",
        type=shift_pixels,
        default=0,
        metavar="PIXELS",
        help="also average 4 crops shifted this many pixels (default 0: off)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed of splits the data lacks (default: the model card's, so they are the splits "
        "the model was trained and selected without; 42 for a card that records none)",
    )
    parser.add_argument(
        "--output",
        "-o",
        # `-o "$OUT"` with it unset was taken for no -o, and no file written
        type=named("file", "name the .json file, or leave out -o", str),
        help="also write the JSON to this .json file",
    )
    add_progress_option(parser)


def run(args: argparse.Namespace) -> int:
    with bars_off() if not args.progress else contextlib.nullcontext():
        return score(args)


@contextlib.contextmanager
def bars_off() -> Iterator[None]:
    """``--no-progress``, as ``TQDM_DISABLE=1`` while the command runs: the data loaders draw
    bars of their own (reading images, a CSV's pixels) and take no switch."""
    before = os.environ.get("TQDM_DISABLE")
    os.environ["TQDM_DISABLE"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["TQDM_DISABLE"]
        else:
            os.environ["TQDM_DISABLE"] = before


def score(args: argparse.Namespace) -> int:
    """Score the model on the data: what is scored and left out on stderr, the JSON on stdout."""
    model_path, path = _checked_inputs(args)
    from facial_emotion.native_log import import_tensorflow

    import_tensorflow("evaluate")  # only now: the checks above answer at once

    from facial_emotion.backends import load_backend
    from facial_emotion.data.sources import load_for_scoring
    from facial_emotion.evaluation import Evaluation, labels_for_model, with_not_found
    from facial_emotion.files import write_json

    backend = load_backend(model_path, precision="float32")  # metrics of the saved model
    data, split_name = load_for_scoring(
        path,
        source=args.source,
        split=args.split,
        card=backend.card,
        seed=args.seed,
        labels=args.labels,
    )
    model_classes = tuple(backend.card["classes"])
    faceless = _faceless_by_class(data.source, split_name)
    # as faces found of classes the model does not know are left out, so are photos of them
    # with none: a 7-class model's score counted CK+'s contempt photos as read wrong
    missed = sum(n for name, n in faceless.items() if name in model_classes)
    unknown = {name: n for name, n in faceless.items() if name not in model_classes}
    _say_what_is_scored(backend.card, model_path, path, data, split_name, (missed, unknown))
    split = data.splits[split_name]
    labels = labels_for_model(split.y, data.classes, model_classes)
    known = _known_faces(labels, split.y, data.classes, path, model_path)
    single, probs = _predictions(backend.predict, split.x[known], args)
    people = None if split.subjects is None else split.subjects[known]
    result = Evaluation(model_classes, labels[known], probs, people)
    _warn_of_one_class(result, model_path)
    metrics = with_not_found(
        _metrics(args, model_path, path, data, split_name, known, result, single), result, missed
    )
    if args.output:
        then = "the metrics are written once one opens it"
        write_json(args.output, metrics, waiting_note("evaluate", args.output, then))
    print(json.dumps(metrics))
    return 0


def _say(line: str) -> None:
    """One line on stderr, named as the command's."""
    print(f"facial-emotion evaluate: {line}", file=sys.stderr)


def _checked_inputs(args: argparse.Namespace) -> tuple[Path, Path]:
    """The model and the data to score, refused before TensorFlow's import where they cannot be
    read or the output cannot be written: a mistyped --data waited 16 s for TensorFlow."""
    from facial_emotion.files import refuse_overwrite, require_writable
    from facial_emotion.modelfile import card_path, require_file
    from facial_emotion.predict import default_model_path

    model_path = require_file(args.model) if args.model else default_model_path()
    path = Path(args.data)
    outputs = [Path(args.output)] if args.output else []
    refuse_overwrite([model_path, card_path(model_path), path], outputs)
    for output in outputs:
        require_writable(output, suffix=".json")
    if not path.exists():  # here, not in the loader
        raise FacialEmotionError(
            f"{path}: not found; point --data at the data set's folder or file (see data.md)"
        )
    _refuse_prepared_splits(path)
    return model_path, path


def _refuse_prepared_splits(path: Path) -> None:
    """Stop on the pipeline's prepared splits (.npz), saying which data to pass instead."""
    if not any((path / f"{split}.npz").is_file() for split in ("train", "val", "test")):
        return
    fix = (  # the package alone has no pipeline to run, and no params.yaml of its own
        "(data.path in params.yaml), or run `dvc repro evaluate` to score them into "
        "metrics/eval.json"
        if Path("dvc.yaml").is_file()
        else "(data.path in the params file prepare read)"
    )
    raise FacialEmotionError(  # the image loaders said to put images in class folders
        f"{path}: holds prepared splits (.npz), which evaluate does not read; pass the data "
        f"set they were prepared from {fix}"
    )


def _faceless_by_class(source: dict, split_name: str) -> dict[str, int]:
    """Photos of the split scored with no face found, counted per class (every split's for
    "all"); none where faces were not searched for."""
    from facial_emotion.data.sources import ALL

    by_split = source.get("faceless_by_class_by_split", {})
    counts: dict[str, int] = {}
    for split, by_class in by_split.items():
        if split_name in (ALL, split):
            for name, n in by_class.items():
                counts[name] = counts.get(name, 0) + n
    return counts


def _say_what_is_scored(
    card: dict,
    model_path: Path,
    path: Path,
    data: PreparedData,
    split_name: str,
    faceless: tuple[int, dict[str, int]],
) -> None:
    """The split scored and how many faces, then what a reader of the figures should know of
    the data: the split chose the model, its folders are numbered, files were skipped, photos
    had no face found."""
    from facial_emotion.data.folder import numbering_note
    from facial_emotion.data.images import skipped_note
    from facial_emotion.data.sources import ALL
    from facial_emotion.predict import WEIGHTS

    split = data.splits[split_name]
    read = sum(len(part.y) for name, part in data.splits.items() if name != ALL)
    total = read + sum(data.unread.values())  # the splits left unread counted, not decoded
    scored = (
        f"all {counted(total, 'face')}"
        if split_name == ALL
        else f"the {split_name} split, {len(split.y)} of {total} faces ({data.source['splits']}); "
        "--split chooses another"
    )
    _say(f"scoring {scored}")
    # WEIGHTS, not default_model_path(), which raises where no model is installed: --model
    # names one, and evaluate needs none of its own
    shipped = model_path.resolve().parent == WEIGHTS.resolve()
    if note := selection_note(card, path, data.source, split_name, shipped):
        _say(f"note: {note}")
    if numbered := numbering_note(data.source, path):
        _say(f"warning: {numbered}")
    if skipped := skipped_note(data.source, path):
        _say(f"warning: {skipped}")
    _say_faces_not_found(path, data, split_name, faceless, model_path, card["classes"])


def _say_faces_not_found(
    path: Path,
    data: PreparedData,
    split_name: str,
    faceless: tuple[int, dict[str, int]],
    model_path: Path,
    model_classes: Collection[str],
) -> None:
    """For a model trained on faces found in photos: the classes none of whose photos had a face
    found (support 0 in the metrics; no row at all for a class the model does not know, which
    was said to be support 0: CK+'s contempt for a FER2013 model), and how many images of the
    split had none: ``faceless``, those of classes the model knows (faces_not_found) and the
    count of each class it does not know."""
    from facial_emotion.data.sources import ALL
    from facial_emotion.evaluation import classes_not_found

    y = data.splits[split_name].y
    lost = classes_not_found(data.source, split_name, data.classes, y)
    where = "all splits" if split_name == ALL else f"the {split_name} split"
    if scored := [c for c in lost if c in model_classes]:
        _say(
            f"warning: {path}: no face found in any photo of {', '.join(scored)} in {where} "
            f"scored, so the metrics hold none of {'its' if len(scored) == 1 else 'their'} "
            "faces (support 0)"
        )
    if unknown := [c for c in lost if c not in model_classes]:
        one = len(unknown) == 1
        _say(
            f"note: {path}: no face found in any photo of {', '.join(unknown)} in {where} "
            f"scored, {'a class' if one else 'classes'} {model_path} does not know, so the metrics "
            f"have no row for {'it' if one else 'them'}"
        )
    if data.source.get("faces"):  # the model was trained on faces found in photos
        missed, unknown_faceless = faceless
        others = ""
        if unknown_faceless:
            one = len(unknown_faceless) == 1
            others = (
                f", and {counted(sum(unknown_faceless.values()), 'image')} of "
                f"{', '.join(c for c in data.classes if c in unknown_faceless)}, "
                f"{'a class' if one else 'classes'} the model does not know, not counted in "
                f"faces_not_found, as {'its' if one else 'their'} faces found are not scored"
            )
        _say(
            f"each image's {data.source['faces']}, as in training; "
            f"{counted(missed, 'image')} of the split scored with none left out{others}"
        )


def _known_faces(
    labels: np.ndarray, y: np.ndarray, classes: tuple[str, ...], path: Path, model_path: Path
) -> np.ndarray:
    """Which faces are of classes the model knows (``labels`` from labels_for_model), saying how
    many of which classes are left out; data of none of them stops."""
    from facial_emotion.evaluation import scorable

    known = scorable(labels, path, classes, str(model_path))
    if not known.all():
        lacking = ", ".join(sorted({classes[i] for i in y[~known]}))
        _say(
            f"left out {counted(int((~known).sum()), 'face')} of classes the model does not "
            f"know: {lacking}"
        )
    return known


def _predictions(
    predict: Callable[[np.ndarray], np.ndarray], faces: np.ndarray, args: argparse.Namespace
) -> tuple[np.ndarray, np.ndarray]:
    """The faces' single-pass probabilities and their average over --tta's views, with a bar, as
    reading the images has: 29,009 faces took 4 minutes with the shipped model and flip,
    287,000 would take 40, and nothing said how far it was."""
    from facial_emotion.evaluation import predict_views
    from facial_emotion.progress import progress_bar

    with progress_bar(len(faces), desc="scoring", unit="face") as bar:
        return predict_views(
            predict, faces, tta=args.tta, shift=args.tta_shift, on_batch=bar.update
        )


def _warn_of_one_class(result: Evaluation, model_path: Path) -> None:
    """Warn when the model reads every face as one class: it has learnt nothing."""
    from facial_emotion.evaluation import LEARNT_NOTHING

    if only := result.one_class_reading():
        _say(f"warning: {model_path} reads every face as {only}: {LEARNT_NOTHING}")


def _metrics(
    args: argparse.Namespace,
    model_path: Path,
    path: Path,
    data: PreparedData,
    split_name: str,
    known: np.ndarray,
    result: Evaluation,
    single: np.ndarray,
) -> dict[str, object]:
    """The JSON evaluate prints: what was scored and how, then the figures."""
    from facial_emotion.evaluation import Evaluation

    return {
        "model": str(model_path),
        "data": str(path),
        "source": data.source["name"],
        "split": split_name,
        "tta": args.tta,
        "tta_shift": args.tta_shift,
        "skipped": int((~known).sum()),
        **result.metrics(),
        "per_class": result.per_class_figures(),  # one report, read once: kept whole
        # counts, rows true and columns predicted: a paper's table, which per-class recall
        # alone does not give (what sad faces are read as)
        "confusion": {
            true: {read: int(n) for read, n in row.items()}
            for true, row in result.confusion().iterrows()
        },
        # of the single pass: the probabilities predict, video and the app show
        "calibration_error": round(
            Evaluation(result.classes, result.y_true, single).calibration_error(), 4
        ),
    }


def selection_note(card: dict, path: Path, source: dict, split: str, shipped: bool) -> str | None:
    """Why the split scored is not held out, when it chose the model: a figure read as a held-out
    one (the shipped model's val score is PublicTest, which chose its epoch) promises more than
    new faces will give."""
    from facial_emotion.data.sources import trained_source

    if split == "val" and trained_source(card, path):
        return (
            "val chose this model's epoch (its card), so this figure is a selection one that "
            "leans optimistic, not held out"
        )
    if not (shipped and source.get("name") == "fer2013"):
        return None
    # any folder with train/ is read as FER2013: only its CSV's splits are surely FER2013's own
    folders = source.get("format") == "folders"
    if split == "val":
        return (
            ("if this val/ is FER2013's PublicTest, it" if folders else "this val, PublicTest,")
            + " chose the shipped model's epoch (its card), so this figure is a selection one "
            "that leans optimistic, not held out"
        )
    if split == "test" and folders:
        return (
            "if this test/ is Kaggle's FER2013 folder, half of it is PublicTest, which chose the "
            "shipped model's epoch; score fer2013.csv (its test split is PrivateTest) for a "
            "held-out figure"
        )
    return None
