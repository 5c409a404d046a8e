"""What the train and evaluate notebooks run: each writes its outputs atomically and returns
what the notebook shows. Kept here, not in the notebooks, so it is tested."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from facial_emotion import training
from facial_emotion.backends import load_backend
from facial_emotion.config import (
    AT_LEAST_ZERO,
    PARAMS_FILE,
    SHIFT_PIXELS,
    EvaluateSettings,
    Params,
    as_dict,
    check_rules,
)
from facial_emotion.data import prepared
from facial_emotion.errors import FacialEmotionError
from facial_emotion.evaluation import (
    LEARNT_NOTHING,
    Evaluation,
    not_found_in,
    predict_proba,
    predict_views,
    with_not_found,
)
from facial_emotion.files import write_csv, write_json
from facial_emotion.machine import host
from facial_emotion.modelfile import read_card, save_keras
from facial_emotion.paths import METRICS, MODEL, PREPARED, REPORTS


def run_train(params: Params, out: Path = Path("."), source: str = PARAMS_FILE) -> training.Trained:
    """Train the configured model (or ensemble); save it with its history and metrics under
    ``out`` (see ``paths.output_root``). ``source`` is where the settings came from (the params
    file read, or the notebook's parameters cell), which a bad value's error names."""
    training.validate(params.train, source)  # training checks again for its other callers
    data = prepared.load(PREPARED)
    # params.yaml's data changed without `dvc repro prepare`: by hand, training went on with the
    # last prepared faces without a word (dvc repro prepares first, so it never sees this)
    if note := prepared.differs_from(data, params.data.source, params.data.path):
        warnings.warn(note, stacklevel=2)
    settings = params.train
    try:
        trained = training.train_model(settings, data, seed=params.seed, run_dir="runs/train")
    except KeyboardInterrupt:  # in Jupyter: twenty lines of TensorFlow, and no word of resuming
        raise KeyboardInterrupt(
            "training stopped; run it again (this cell, or dvc repro) to resume from its last "
            "finished epoch, kept in runs/train/"
        ) from None
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
        out / MODEL,
        data.classes,
        trained.code,
        source=data.source,
        train=as_dict(settings),
        seed=params.seed,
        metrics=metrics,
        host=host(),  # the minutes and images/s above were measured there
    )
    # counted from 1, as best_epoch and the learning-curve figure count (Keras counts from 0);
    # 6 significant digits, not float32's 17 (0.0010000000474974513), keep a 1e-5 learning rate
    history_plot = history.assign(epoch=history["epoch"] + 1)
    write_csv(out / REPORTS / "train" / "history.csv", history_plot, float_format="%.6g")
    write_json(out / METRICS / "train.json", metrics)
    return trained


@dataclass
class EvaluateResult:
    model: Path
    data: str  # the prepared data's source ("fer2013", "synthetic"...), for titles
    split: str
    images: np.ndarray
    evaluation: Evaluation
    metrics: dict[str, object]
    single_pass: Evaluation  # as predict, video and the app serve: what calibration is read on

    @property
    def views(self) -> str:
        """What the scored predictions averaged, for titles: a figure said nothing of it."""
        shift, flip = self.metrics["tta_shift"], self.metrics["tta"]
        if shift:
            return f"TTA: flip and {shift}-pixel crops" if flip else f"TTA: {shift}-pixel crops"
        return "TTA: flip" if flip else "single pass"


def check_evaluate(settings: EvaluateSettings, source: str = PARAMS_FILE) -> None:
    check_rules(
        "evaluate",
        {
            "tta_shift": (settings.tta_shift, SHIFT_PIXELS),
            "mistakes": (settings.mistakes, AT_LEAST_ZERO),
        },
        source,
    )


def model_to_score(out: Path) -> Path:
    """The model trained last: by hand, the newer of the one trained by hand and the pipeline's
    (a notebook trained by hand once was scored again after every later `dvc repro`), by their
    cards' ``saved_at``: `dvc checkout` and `dvc exp apply` rewrite the pipeline's file, which
    then looked newest. Cards saved before they recorded it are judged by their files' times."""
    trained = [path for path in (out / MODEL, MODEL) if path.is_file()]
    if not trained:
        return out / MODEL
    saved = [_saved_at(path) for path in trained]
    if all(saved):
        return trained[saved.index(max(saved))]
    return max(trained, key=lambda path: path.stat().st_mtime_ns)


def _saved_at(model: Path) -> str:
    """The card's ``saved_at``, or "" where it has none (or no readable card)."""
    try:
        saved = read_card(model).get("saved_at")
    except FacialEmotionError:
        return ""
    return saved if isinstance(saved, str) else ""


def other_data(model: Path, trained: dict[str, object], held: dict[str, object]) -> str | None:
    """Why the prepared data (``held``) is not what ``model`` was trained on, or None: with the
    same class names, a notebook run by hand after preparing other data scored the model on it
    without a word, and its figure read as the model's own."""
    if not trained or (trained.get("name"), trained.get("path")) == (
        held.get("name"),
        held.get("path"),
    ):  # a card that records no data (a model written elsewhere) is taken at its word
        return None

    def named(source: dict[str, object]) -> str:
        if not source.get("name"):  # faces copied in by hand: their manifest names no source
            return "data that records no source"
        return f"{source['name']} data" + (f" from {source['path']}" if source.get("path") else "")

    return (
        f"{model} was trained on {named(trained)}, and {PREPARED} holds {named(held)}: this "
        "scores it on other data; run `dvc repro` to train on this data"
    )


def run_evaluate(
    params: Params, out: Path = Path("."), source: str = PARAMS_FILE
) -> EvaluateResult:
    """Score the model once on the evaluation split; write metrics and the DVC confusion and
    per-class plots under ``out`` (see ``paths.output_root``). ``source``: see :func:`run_train`."""
    settings = params.evaluate
    check_evaluate(settings, source)
    model = model_to_score(out)
    backend = load_backend(model, precision="float32")  # metrics of the saved model, any CPU
    name, split, classes = prepared.evaluation_split(PREPARED)
    trained_on = tuple(backend.card["classes"])
    if trained_on != tuple(classes):  # a notebook run by hand after `dvc repro prepare` alone
        raise FacialEmotionError(
            f"{model} was trained on other classes ({', '.join(trained_on)}) than {PREPARED} "
            f"holds ({', '.join(classes)}); run `dvc repro` to train on this data first"
        )
    held = prepared.recorded_source(PREPARED)
    if note := other_data(model, backend.card.get("source") or {}, held):
        warnings.warn(note, stacklevel=2)
    # the face itself once: scored for the single pass and again as the views' first, it took
    # 3 model calls a face where flip needs 2 (as `facial-emotion evaluate` did)
    single, probs = predict_views(
        backend.predict, split.x, tta=settings.tta, shift=settings.tta_shift
    )
    plain = Evaluation(classes, split.y, single, split.subjects)
    chosen = (
        Evaluation(classes, split.y, probs, split.subjects)
        if settings.tta or settings.tta_shift
        else plain
    )
    if only := chosen.one_class_reading():
        warnings.warn(f"{model} reads every {name} face as {only}: {LEARNT_NOTHING}", stacklevel=2)
    metrics = {
        "split": name,
        "tta": settings.tta,
        "tta_shift": settings.tta_shift,
        **chosen.metrics(),
        "accuracy_without_tta": round(plain.accuracy, 4),
        "macro_f1_without_tta": round(plain.macro_f1, 4),
        "tta_gain": round(chosen.accuracy - plain.accuracy, 4),
        # of the single pass: the probabilities predict, video and the app show
        "calibration_error": round(plain.calibration_error(), 4),
    }
    metrics = with_not_found(metrics, chosen, not_found_in(held, name))
    write_csv(out / REPORTS / "evaluate" / "confusion.csv", chosen.confusion_records())
    write_csv(out / REPORTS / "evaluate" / "per_class.csv", chosen.per_class_table())
    write_json(out / METRICS / "eval.json", metrics)
    data = str(held.get("name") or PREPARED)
    return EvaluateResult(model, data, name, split.x, chosen, metrics, plain)
