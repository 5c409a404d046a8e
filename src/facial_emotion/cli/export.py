"""``facial-emotion export``: the options of the DVC stage ``python -m facial_emotion.export``."""

from __future__ import annotations

import argparse
from pathlib import Path

from facial_emotion.cli.options import model_file, named, positive_int

PIPELINE_MODEL = "models/model.keras"
PIPELINE_OUT_DIR = "models"
PIPELINE_METRICS = "metrics/export.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = "Paths are relative to the current folder: run it from a clone's root."
    parser.add_argument(
        "--model",
        type=model_file,  # an empty one, as the other commands refuse it: not ".: is a folder"
        default=PIPELINE_MODEL,
        help="Keras model to convert (default: %(default)s)",
    )
    parser.add_argument(
        "--prepared",
        # an empty one was taken for "." and, after TensorFlow's import, sent to `dvc repro`
        type=named("folder", "name the folder prepare wrote, or leave out --prepared", str),
        default="data/prepared",
        help="prepared data folder (default: %(default)s)",
    )
    parser.add_argument(
        "--out-dir",
        # an empty one wrote the models into the working folder without a word
        type=named("folder", "name . for this folder, or leave out --out-dir", str),
        default=PIPELINE_OUT_DIR,
        help="where <stem>.tflite and <stem>.int8.tflite go (default: %(default)s)",
    )
    parser.add_argument(
        "--metrics",
        # an empty one was said as ".: is written as JSON", a name never typed
        type=named("file", "name the .json file, or leave out --metrics", str),
        help=f"parity, size and latency JSON (default: {PIPELINE_METRICS} for the pipeline's "
        "model into models/, else OUT_DIR/<model name>.export.json, so no other export replaces "
        "the pipeline's record)",
    )
    parser.add_argument(
        "--representative-samples",
        type=positive_int,
        default=200,
        metavar="N",
        help="training faces that calibrate the int8 model (default: %(default)s)",
    )
    parser.add_argument("--no-int8", dest="int8", action="store_false", help="skip the int8 model")
    parser.add_argument(
        "--below-floor",
        choices=("refuse", "warn"),
        default="refuse",
        help="an export agreeing with the Keras model on fewer faces than 99.5%% (float32) or "
        "97%% (int8) is not written (refuse, the default) or written with a warning (warn: the "
        "pipeline's choice, so an experiment near chance is still recorded); "
        "meets_floor in the metrics says which",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=42,
        help="seed drawing the representative faces (default: %(default)s, params.yaml's seed, "
        "as the pipeline's export stage uses)",
    )


def run(args: argparse.Namespace) -> int:
    from facial_emotion.files import require_writable
    from facial_emotion.modelfile import require_file
    from facial_emotion.native_log import import_tensorflow

    require_file(args.model)
    require_prepared(Path(args.prepared))
    if args.metrics is None:
        pipeline = all(
            Path(given).resolve() == Path(default).resolve()
            for given, default in ((args.model, PIPELINE_MODEL), (args.out_dir, PIPELINE_OUT_DIR))
        )
        stem = Path(args.model).stem
        args.metrics = (
            PIPELINE_METRICS if pipeline else str(Path(args.out_dir) / f"{stem}.export.json")
        )
    require_writable(args.out_dir, folder=True)
    require_writable(args.metrics, suffix=".json")
    import_tensorflow("export")  # only now: the checks above answer at once
    from facial_emotion.export import export

    export(
        args.model,
        args.prepared,
        args.out_dir,
        args.metrics,
        representative_samples=args.representative_samples,
        int8=args.int8,
        seed=args.seed,
        below_floor=args.below_floor,
    )
    return 0


def require_prepared(folder: Path) -> None:
    """Refuse a --prepared folder that is not there before TensorFlow's import (10 s), and send
    only the pipeline's own, in a clone, to `dvc repro`: a mistyped one was told to run `dvc repro
    prepare`, and so was the package alone, which has no pipeline."""
    from facial_emotion.errors import FacialEmotionError
    from facial_emotion.paths import PREPARED

    if folder.is_dir():
        return
    if folder.exists():
        raise FacialEmotionError(f"{folder}: is a file; pass --prepared the folder prepare wrote")
    fix = "check the path: --prepared takes the folder prepare wrote (train.npz, val.npz ...)"
    if folder.resolve() == PREPARED.resolve():
        fix = (
            "run `dvc repro prepare` first"
            if Path("dvc.yaml").is_file()
            # the package alone: no pipeline here to make it, as require_file says of the model
            else "make one with `python -m facial_emotion.prepare --params my.yaml --out "
            "prepared` and pass --prepared prepared (see the README's TensorFlow Lite export)"
        )
    raise FacialEmotionError(f"{folder}: prepared data not found; {fix}")
