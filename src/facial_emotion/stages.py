"""What the train and evaluate notebooks run: each writes its outputs atomically and returns
what the notebook shows. Kept here, not in the notebooks, so it is tested."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from facial_emotion import training
from facial_emotion.backends import load_backend
from facial_emotion.config import (
    AT_LEAST_ZERO,
    SHIFT_PIXELS,
    EvaluateSettings,
    Params,
    as_dict,
    check_rules,
)
from facial_emotion.data import prepared
from facial_emotion.errors import FacialEmotionError
from facial_emotion.evaluation import Evaluation, predict_proba
from facial_emotion.files import atomic_path, write_json
from facial_emotion.modelfile import save_keras
from facial_emotion.paths import METRICS, MODEL, PREPARED, REPORTS


def run_train(params: Params) -> training.Trained:
    """Train the configured model (or ensemble); save it with its history and metrics."""
    data = prepared.load(PREPARED)
    settings = params.train
    trained = training.train_model(settings, data, seed=params.seed, run_dir="runs/train")
    model, history = trained.model, trained.history
    if len(trained.members) == 1:
        member = trained.members[0]
        quality = {
            "val_accuracy": member.best_val_accuracy,
            "val_loss": float(member.history.iloc[member.best_epoch - 1]["val_loss"]),
        }
    else:  # the members' logs do not score their average: measure it
        val = data.splits["val"]
        probs = predict_proba(model.predict_on_batch, val.x)
        quality = {"val_accuracy": Evaluation(data.classes, val.y, probs).accuracy}
    metrics = {
        "architecture": settings.architecture,
        "precision": trained.precision,
        "parameters": int(model.count_params()),
        "members": settings.members,
        "epochs_run": int(len(history)),
        "best_epoch": trained.best_epoch,
        **{key: round(value, 4) for key, value in quality.items()},
        "training_minutes": round(trained.minutes, 2),
        "train_images_per_second": round(float(history["images_per_second"].median()), 1),
    }
    save_keras(
        model,
        MODEL,
        data.classes,
        source=data.source,
        train=as_dict(settings),
        seed=params.seed,
        metrics=metrics,
    )
    with atomic_path(REPORTS / "train" / "history.csv") as tmp:
        # counted from 1, as best_epoch and the learning-curve figure count (Keras counts from 0)
        history.assign(epoch=history["epoch"] + 1).to_csv(tmp, index=False)
    write_json(METRICS / "train.json", metrics)
    return trained


@dataclass
class EvaluateResult:
    split: str
    images: np.ndarray
    evaluation: Evaluation
    plain: Evaluation
    metrics: dict[str, object]

    @property
    def views(self) -> str:
        """What the scored predictions averaged, for titles: a figure said nothing of it."""
        shift, flip = self.metrics["tta_shift"], self.metrics["tta"]
        if shift:
            return f"flip and {shift}-pixel crops" if flip else f"{shift}-pixel crops"
        return "flip" if flip else "single pass"


def check_evaluate(settings: EvaluateSettings) -> None:
    check_rules(
        "evaluate",
        {
            "tta_shift": (settings.tta_shift, SHIFT_PIXELS),
            "mistakes": (settings.mistakes, AT_LEAST_ZERO),
        },
    )


def run_evaluate(params: Params) -> EvaluateResult:
    """Score the model once on the evaluation split; write metrics and the DVC confusion plot."""
    settings = params.evaluate
    check_evaluate(settings)
    backend = load_backend(MODEL, precision="float32")  # metrics of the saved model, any CPU
    name, split, classes = prepared.evaluation_split(PREPARED)
    trained_on = tuple(backend.card["classes"])
    if trained_on != tuple(classes):  # a notebook run by hand after `dvc repro prepare` alone
        raise FacialEmotionError(
            f"{MODEL} was trained on other classes ({', '.join(trained_on)}) than {PREPARED} "
            f"holds ({', '.join(classes)}); run `dvc repro` to train on this data first"
        )
    plain = Evaluation(classes, split.y, predict_proba(backend.predict, split.x))
    if settings.tta or settings.tta_shift:
        probs = predict_proba(backend.predict, split.x, tta=settings.tta, shift=settings.tta_shift)
        chosen = Evaluation(classes, split.y, probs)
    else:
        chosen = plain
    metrics = {
        "split": name,
        "tta": settings.tta,
        "tta_shift": settings.tta_shift,
        **chosen.metrics(),
        "accuracy_without_tta": round(plain.accuracy, 4),
        "macro_f1_without_tta": round(plain.macro_f1, 4),
        "tta_gain": round(chosen.accuracy - plain.accuracy, 4),
    }
    with atomic_path(REPORTS / "evaluate" / "confusion.csv") as tmp:
        chosen.confusion_records().to_csv(tmp, index=False)
    write_json(METRICS / "eval.json", metrics)
    return EvaluateResult(name, split.x, chosen, plain, metrics)
