"""Fine-tuning a trained model against training from scratch, on a small data set such as CK+.

For each seed (which also draws the data set's split, by subject for CK+), trains the same settings
twice with the pipeline's own code: from fresh weights and from ``--init`` (``train.init_weights``,
by default the shipped FER2013 model). Epochs are selected on ``val``; ``test`` is scored once per
run, at the end, with flip test-time augmentation. Prints one JSON line per run, then a summary.

    python benchmarks/transfer.py --source ckplus --data /path/to/CK+48 --seeds 42 43 44 \
        --epochs 30 --set train.learning_rate=0.0005 --set train.schedule=cosine \
        --set train.warmup_epochs=1 --set train.batch_size=32 \
        --set train.early_stopping_patience=100
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile

from facial_emotion.config import as_dict, load_params, with_overrides
from facial_emotion.errors import FacialEmotionError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default="ckplus", help="data source (as data.source)")
    parser.add_argument("--data", required=True, help="data set path")
    parser.add_argument("--init", help="model to fine-tune (default: the shipped model)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--params", default="params.yaml", help="base settings")
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a params key"
    )
    args = parser.parse_args(argv)
    from facial_emotion.predict import default_model_path  # not for --help: OpenCV

    args.init = args.init or str(default_model_path())
    try:
        runs = [
            run(args, seed, init)
            for seed in args.seeds
            for init in ("", args.init)  # the same split and seed for both
        ]
    except FacialEmotionError as error:
        print(f"transfer.py: error: {error}", file=sys.stderr)
        return 2
    summary = {
        start: {
            key: round(statistics.mean(r[key] for r in runs if r["start"] == start), 4)
            for key in ("val_accuracy", "test_accuracy", "test_macro_f1", "train_minutes")
        }
        for start in ("fresh", "init_weights")
    }
    print(json.dumps({"seeds": args.seeds, "mean": summary}))
    return 0


def run(args: argparse.Namespace, seed: int, init: str) -> dict:
    # not for --help: TensorFlow takes seconds to import, pandas and scikit-learn more than one
    from facial_emotion import training
    from facial_emotion.data.sources import load_source
    from facial_emotion.evaluation import Evaluation, json_number, predict_proba

    params = with_overrides(
        load_params(args.params), [f"seed={seed}", f"train.epochs={args.epochs}", *args.set]
    )
    settings = dataclasses.replace(params.train, init_weights=init)
    data = load_source(
        args.source,
        args.data,
        seed=seed,
        val_fraction=params.data.val_fraction,
        test_fraction=params.data.test_fraction,
        synthetic_samples=params.data.synthetic_samples,
    )
    if "test" not in data.splits:
        raise FacialEmotionError(f"{args.data}: no test split; set data.test_fraction above 0")
    with tempfile.TemporaryDirectory() as run_dir:
        trained = training.train_model(settings, data, seed=seed, run_dir=run_dir, verbose=0)
    test = data.splits["test"]
    scored = Evaluation(
        data.classes, test.y, predict_proba(trained.model.predict_on_batch, test.x, tta=True)
    )
    result = {
        "seed": seed,
        "start": "init_weights" if init else "fresh",
        "init_weights": init,
        "classes": list(data.classes),
        "counts": data.counts(),
        "best_epoch": trained.best_epoch,
        "train_minutes": round(trained.minutes, 2),
        "val_accuracy": round(trained.members[0].best_val_accuracy, 4),
        "test_accuracy": round(scored.accuracy, 4),
        "test_macro_f1": round(scored.macro_f1, 4),
        "test_recall": {c: json_number(r) for c, r in scored.per_class()["recall"].items()},
        "settings": as_dict(settings),
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    sys.exit(main())
