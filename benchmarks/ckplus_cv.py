"""Subject-independent k-fold cross-validation on CK+48, the protocol published CK+ figures use.

Deals the people (``S###``) into ``--folds`` folds; each fold trains with the pipeline's own code
and settings (``--params``, ``--set``) on the other folds, selects its epoch on a val part carved
from those training people only (``data.val_fraction`` of them), and scores its held-out people
once, with the test-time augmentation ``evaluate`` uses. Prints one JSON line per fold, then a
summary line: fold accuracy mean and std (and a t interval of the mean), and accuracy, macro-F1
and per-class recall pooled over every face, each scored exactly once, with the pooled accuracy's
95% intervals: exact over faces, and people-wise (a bootstrap of the subjects, as ``evaluate``
gives it). ``--predictions`` writes each face's fold, subject, file, true and predicted class.
``--folds`` equal to the number of people (118 in CK+48) is leave-one-subject-out. With data.md's
CK+ recipe (25 minutes on 2 cores; data.md, ckplus):

    python benchmarks/ckplus_cv.py --data ../shared/data/ckplus/CK+48 --folds 10 \
        --set train.init_weights=src/facial_emotion/weights/fer2013.keras --set train.epochs=30 \
        --set train.schedule=cosine --set train.warmup_epochs=1 --set train.learning_rate=0.0005 \
        --set train.batch_size=32 --set train.early_stopping_patience=100 \
        --predictions ckplus_cv_faces.csv
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from facial_emotion.config import as_dict, load_params, with_overrides
from facial_emotion.errors import FacialEmotionError
from facial_emotion.native_log import import_tensorflow, native_log_held_back


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", default="../shared/data/ckplus/CK+48", help="CK+48 folders (or their parent)"
    )
    parser.add_argument("--folds", type=int, default=10, help="folds of people (default 10)")
    parser.add_argument(
        "--params", default="params.yaml", help="base settings (default params.yaml)"
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="override a params key"
    )
    parser.add_argument(
        "--predictions", type=Path, help="CSV to write each face's fold, subject, file and classes"
    )
    args = parser.parse_args(argv)
    # not for --help: pandas, scikit-learn and OpenCV take seconds to import
    from facial_emotion.crossval import (
        face_files,
        make_folds,
        pooled,
        predictions,
        read_faces,
        recall,
        summary,
    )
    from facial_emotion.evaluation import Evaluation, predict_proba

    try:
        params = with_overrides(load_params(args.params), args.set)
        if args.predictions and not args.predictions.parent.is_dir():
            raise FacialEmotionError(
                f"{args.predictions}: its folder does not exist; make it or write elsewhere"
            )
        faces, root = read_faces(args.data)
        files = face_files(faces, root) if args.predictions else []
        folds = make_folds(
            faces, root, folds=args.folds, seed=params.seed, val_fraction=params.data.val_fraction
        )
    except FacialEmotionError as error:  # a bad --data, --folds or --set: one line, as the CLI
        print(f"ckplus_cv.py: error: {error}", file=sys.stderr)
        return 2
    import_tensorflow("ckplus_cv.py")  # without its start-up log: stderr shows the folds
    from facial_emotion import training

    start = time.monotonic()
    scores, probs, epochs, train_minutes = [], [], [], 0.0
    for fold in folds:
        with tempfile.TemporaryDirectory() as run_dir, native_log_held_back():
            trained = training.train_model(
                params.train, fold.data, seed=params.seed, run_dir=run_dir, verbose=0
            )
        test = fold.data.splits["test"]
        probs.append(
            predict_proba(
                trained.model.predict_on_batch,
                test.x,
                tta=params.evaluate.tta,
                shift=params.evaluate.tta_shift,
            )
        )
        scored = Evaluation(faces.classes, test.y, probs[-1])
        scores.append(scored)
        epochs.append(trained.best_epoch)
        train_minutes += trained.minutes
        print(
            json.dumps(
                {
                    "fold": fold.number,
                    "held_out": list(fold.held_out),
                    "counts": fold.data.counts(),
                    "best_epoch": trained.best_epoch,
                    "train_minutes": round(trained.minutes, 2),
                    "val_accuracy": round(trained.members[0].best_val_accuracy, 4),
                    "test_faces": len(test),
                    "test_right": scored.faces_right,
                    "test_accuracy": round(scored.accuracy, 4),
                    "test_macro_f1": round(scored.macro_f1, 4),
                    "test_recall": recall(scored),
                }
            ),
            flush=True,
        )
        print(
            f"fold {fold.number}/{len(folds)}: {len(fold.held_out)} people, {len(test)} faces, "
            f"accuracy {scored.accuracy:.2%}, best epoch {trained.best_epoch}, "
            f"{(time.monotonic() - start) / 60:.1f} min so far",
            file=sys.stderr,
            flush=True,
        )
    whole = pooled(faces, folds, probs)
    if args.predictions:
        predictions(folds, whole, files).to_csv(args.predictions, index=False)
    result = {
        **summary(folds, scores, whole),
        "protocol": f"{len(folds)}-fold by subject; val {params.data.val_fraction} of each "
        f"fold's training subjects selects the epoch; each face scored once",
        "data": str(root),
        "classes": list(faces.classes),
        "seed": params.seed,
        "epochs": params.train.epochs,
        "best_epochs": epochs,
        "train_minutes": round(train_minutes, 2),
        "minutes": round((time.monotonic() - start) / 60, 2),
        "tta": {"flip": params.evaluate.tta, "shift": params.evaluate.tta_shift},
        "settings": as_dict(params.train),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
