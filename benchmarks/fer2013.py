"""Train one architecture on FER2013 with the pipeline's own code and print one JSON line.

Selects the epoch on ``val`` (FER2013 PublicTest) only; never reads a test split. Resumable: an
interrupted run started again with the same arguments continues from its last finished epoch.

    python benchmarks/fer2013.py --data /path/to/fer2013 --architecture vgg --epochs 30 \
        --set train.schedule=cosine --out runs/vgg.keras
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from facial_emotion.config import as_dict, load_params, with_overrides
from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import atomic_path
from facial_emotion.machine import host
from facial_emotion.modelfile import save_keras

# models.ARCHITECTURES' names, for --help: that registry is Keras, seconds of TensorFlow's
# import before argparse prints a line (tests/test_benchmark_fer2013.py holds the two equal)
ARCHITECTURES = (
    "baseline",
    "resnet",
    "sepnet",
    "tiny",
    "vgg",
    "vgg_wide",
    "vgg_wide_late",
    "vgg_wide_late_flat",
)

FIELDS = """The JSON line (val = FER2013 PublicTest, which also selects the epoch):
  architecture, parameters, precision, members  what was trained
  epochs, best_epoch       epochs run; the one kept (highest val accuracy, counted from 1)
  train_minutes            wall-clock minutes of the epochs (each epoch's pass over train and
                           its val scoring), summed over all runs of a resumed training; not
                           data loading or the final scoring
  train_images_per_second  median over epochs of train images / epoch seconds (val included)
  inference_images_per_second  val faces / seconds of one single-pass prediction over val
  val_accuracy, val_macro_f1          single pass
  val_accuracy_tta, val_macro_f1_tta  flip TTA: softmax averaged over the face and its mirror
  val_recall_tta           per-class recall with flip TTA
  seed, host               the seed; the CPU model, cores and TensorFlow version measured on
  overrides                the --set values
Test-split figures are never computed here: score a test split once with facial-emotion
evaluate, or through the pipeline's evaluate stage."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog=FIELDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", required=True, help="FER2013 CSV or folders")
    parser.add_argument(
        "--architecture",
        default="vgg",
        choices=ARCHITECTURES,
        help="model to train (default vgg; the shipped model is vgg_wide_late_flat)",
    )
    parser.add_argument(
        "--epochs", type=int, default=30, help="epochs to train (default 30; the recipe's 80)"
    )
    parser.add_argument(
        "--params", default="params.yaml", help="base settings (default params.yaml)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a params key, e.g. train.label_smoothing=0.1",
    )
    parser.add_argument("--out", type=Path, help="where to save the best model (.keras)")
    parser.add_argument("--run-dir", default="runs/benchmark", help="checkpoints for resuming")
    args = parser.parse_args(argv)
    # after --help: TensorFlow takes seconds to import, pandas and scikit-learn more than one
    from facial_emotion import training
    from facial_emotion.data.sources import load_source
    from facial_emotion.evaluation import Evaluation, json_number, predict_proba

    params = with_overrides(
        load_params(args.params),
        [f"train.architecture={args.architecture}", f"train.epochs={args.epochs}", *args.set],
    )
    data = load_source(
        "fer2013",
        args.data,
        seed=params.seed,
        val_fraction=params.data.val_fraction,
        test_fraction=params.data.test_fraction,
        synthetic_samples=params.data.synthetic_samples,
    )
    trained = training.train_model(params.train, data, seed=params.seed, run_dir=args.run_dir)
    model, history = trained.model, trained.history

    val = data.splits["val"]
    start = time.perf_counter()
    plain = Evaluation(data.classes, val.y, predict_proba(model.predict_on_batch, val.x))
    infer_seconds = time.perf_counter() - start
    tta = Evaluation(data.classes, val.y, predict_proba(model.predict_on_batch, val.x, tta=True))
    figures = {
        "architecture": args.architecture,
        "parameters": int(model.count_params()),
        "precision": trained.precision,
        "members": params.train.members,
        "epochs": int(len(trained.members[0].history)),
        "best_epoch": trained.best_epoch,
        "train_minutes": round(trained.minutes, 1),
        "train_images_per_second": round(float(history["images_per_second"].median()), 1),
        "inference_images_per_second": round(len(val) / infer_seconds, 1),
        "val_accuracy": round(plain.accuracy, 4),
        "val_macro_f1": round(plain.macro_f1, 4),
        "val_accuracy_tta": round(tta.accuracy, 4),
        "val_macro_f1_tta": round(tta.macro_f1, 4),
        "val_recall_tta": {c: json_number(r) for c, r in tta.per_class()["recall"].items()},
        "seed": params.seed,
        "host": host(),
        "overrides": args.set,
    }
    if args.out:
        save_keras(
            model,
            args.out,
            data.classes,
            trained.code,
            source=data.source,
            train=as_dict(params.train),
            seed=params.seed,
            metrics=figures,
        )
        with atomic_path(args.out.with_suffix(".history.csv")) as tmp:  # after 2 h, whole or not
            history.to_csv(tmp, index=False)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except FacialEmotionError as error:  # a bad --data or --set: one line, as the CLI gives
        sys.exit(f"error: {error}")
