"""Compile and fit a model: fast input pipeline, schedules, early stopping, best-weights checkpoint.

Training is resumable: each epoch is backed up under ``run_dir`` (a folder named after a hash of the
settings and the data, so a changed experiment never resumes a stale one) and an interrupted run
continues from its last finished epoch.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from facial_emotion import models
from facial_emotion.augment import augmentation_layers, mixup
from facial_emotion.config import (
    AT_LEAST_ZERO,
    BELOW_ONE,
    FRACTION,
    PARAMS_FILE,
    POSITIVE,
    TrainSettings,
    as_dict,
    check_rules,
)
from facial_emotion.data.prepared import LabelledImages, PreparedData
from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import atomic_path
from facial_emotion.modelfile import code_version, read_card, require_file
from facial_emotion.training_callbacks import (
    CounterBackup,
    EpochHeartbeat,
    EpochTimer,
    RandomStateBackup,
)

MONITOR = "val_accuracy"


def make_dataset(
    split: LabelledImages,
    n_classes: int,
    batch_size: int,
    *,
    training: bool = False,
    settings: TrainSettings | None = None,
    seed: int = 0,
    start_epoch: int = 0,
) -> tf.data.Dataset:
    """Cached, prefetched batches; in training an endless stream of shuffled epochs, augmented and
    optionally mixed up, begun at ``start_epoch`` so a resumed run sees what an unbroken one would.

    The stream's randomness is seeded and stateful: a new process starts it over, so a run resumed
    after epoch k would otherwise train again on the batches of epochs 1..k (measured on FER2013:
    train accuracy 3.7 points above the unbroken trend, for as many epochs as were replayed).
    Skipping draws and drops the batches already trained on, about 2 s an epoch here.
    """
    labels = keras.utils.to_categorical(split.y, n_classes).astype(np.float32)
    # uint8 faces, made float32 a batch at a time: float32 copies of a whole split (the array,
    # its tensor, the cache) held 26 bytes a pixel, 7.4 GB to train on 230,000 faces
    ds = tf.data.Dataset.from_tensor_slices((split.x[..., None], labels)).cache()
    if not training:
        return ds.batch(batch_size).map(as_float32).prefetch(tf.data.AUTOTUNE)
    ds = ds.shuffle(len(split), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    ds = ds.map(as_float32).repeat()
    if settings is not None:
        augment = augmentation_layers(settings.augment, seed)
        if augment.layers:
            ds = ds.map(lambda x, y: (augment(x, training=True), y), tf.data.AUTOTUNE)
        if settings.mixup > 0:
            ds = ds.map(lambda x, y: mixup(x, y, settings.mixup), tf.data.AUTOTUNE)
    ds = ds.skip(start_epoch * steps_per_epoch(split, batch_size))
    return ds.prefetch(tf.data.AUTOTUNE)


def as_float32(x: tf.Tensor, y: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """A batch of uint8 faces as the float32 0..255 every model takes (``as_model_input``)."""
    return tf.cast(x, tf.float32), y


def steps_per_epoch(split: LabelledImages, batch_size: int) -> int:
    return math.ceil(len(split) / batch_size)


def batchnorm_momentum(steps: int) -> float:
    """Momentum of BatchNorm's moving statistics, which val and serving read, for epochs of
    ``steps`` batches: Keras's 0.99, or 1 - 1/steps when epochs are shorter than 100 steps. At
    0.99 CK+'s 13-step epochs left the start-up statistics weighing 40% after 7 epochs, and val
    read every face as one class (test 28%, where 1 - 1/13 gave 80%)."""
    return min(0.99, 1 - 1 / steps)


def class_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """Inverse-frequency weights (scikit-learn's 'balanced'), so rare classes like disgust count."""
    counts = np.bincount(labels, minlength=n_classes).astype(float)
    present = counts > 0
    weights = np.ones(n_classes)
    weights[present] = counts[present].sum() / (present.sum() * counts[present])
    return {i: float(w) for i, w in enumerate(weights)}


def learning_rate_at(epoch: int, settings: TrainSettings) -> float:
    """Per-epoch learning rate: linear warm-up, then constant (plateau), cosine or one-cycle."""
    base, total = settings.learning_rate, max(settings.epochs, 1)
    if epoch < settings.warmup_epochs:
        return base * (epoch + 1) / (settings.warmup_epochs + 1)
    if settings.schedule == "plateau":
        return base
    progress = (epoch - settings.warmup_epochs) / max(total - settings.warmup_epochs, 1)
    if settings.schedule == "cosine":
        return base * 0.5 * (1 + math.cos(math.pi * progress))
    # one-cycle: the warm-up is the rise; here it anneals to base/100
    return base * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * progress)))


SCHEDULES = ("plateau", "cosine", "onecycle")
OPTIMIZERS = ("adam", "adamw", "sgd")


def build_optimizer(settings: TrainSettings) -> keras.optimizers.Optimizer:
    wd = settings.weight_decay or None
    ema = {"use_ema": settings.ema > 0, "ema_momentum": settings.ema}
    if settings.optimizer == "adam":
        return keras.optimizers.Adam(settings.learning_rate, weight_decay=wd, **ema)
    if settings.optimizer == "adamw":
        return keras.optimizers.AdamW(
            settings.learning_rate, weight_decay=settings.weight_decay, **ema
        )
    return keras.optimizers.SGD(
        settings.learning_rate, momentum=0.9, nesterov=True, weight_decay=wd, **ema
    )


def validate(settings: TrainSettings, source: str = PARAMS_FILE) -> None:
    """Reject settings that would only fail deep inside Keras, naming the file they came from,
    the key and the choices."""
    models.require_architecture(settings.architecture, source)
    models.resolve_precision(settings.precision, source)
    choices = {"schedule": SCHEDULES, "optimizer": OPTIMIZERS}
    for key, allowed in choices.items():
        value = getattr(settings, key)
        if value not in allowed:
            raise FacialEmotionError(
                f"{source}: train.{key} is {value!r}; choose one of {', '.join(allowed)}"
            )
    augment = settings.augment
    last_epoch = settings.epochs - 1
    check_rules(
        "train",
        {
            "epochs": (settings.epochs, POSITIVE),
            "batch_size": (settings.batch_size, POSITIVE),
            "learning_rate": (settings.learning_rate, POSITIVE),
            "members": (settings.members, POSITIVE),
            "label_smoothing": (settings.label_smoothing, BELOW_ONE),
            "dropout": (settings.dropout, BELOW_ONE),
            "ema": (settings.ema, BELOW_ONE),
            "weight_decay": (settings.weight_decay, AT_LEAST_ZERO),
            "mixup": (settings.mixup, AT_LEAST_ZERO),
            "early_stopping_patience": (settings.early_stopping_patience, AT_LEAST_ZERO),
            "warmup_epochs": (
                settings.warmup_epochs,
                (
                    lambda v: 0 <= v <= last_epoch,
                    f"in [0, {last_epoch}], below train.epochs ({settings.epochs})",
                ),
            ),
            **{  # Keras's layers take fractions up to 1
                f"augment.{key}": (getattr(augment, key), FRACTION)
                for key in ("rotation", "shift", "zoom", "contrast", "erase")
            },
            "augment.crop_pad": (augment.crop_pad, AT_LEAST_ZERO),
        },
        source,
    )


def loss_name(settings: TrainSettings) -> str:
    """The loss ``compile_model`` gives, in words for an axis: label smoothing raises its floor
    above 0, so a curve that levels off there has not stalled."""
    smoothing = settings.label_smoothing
    return "cross-entropy loss" + (f", label smoothing {smoothing:g}" if smoothing else "")


def compile_model(model: keras.Model, settings: TrainSettings) -> None:
    model.compile(
        optimizer=build_optimizer(settings),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=settings.label_smoothing),
        metrics=["accuracy"],
    )


@dataclass
class TrainResult:
    model: keras.Model
    history: pd.DataFrame
    best_epoch: int
    best_val_accuracy: float
    minutes: float


def run_id(settings: TrainSettings, data: PreparedData, seed: int) -> str:
    """A hash of everything that shapes a run, so a resumed run is the same experiment."""
    member_settings = as_dict(settings)
    member_settings.pop("members")  # a member trains the same whatever the ensemble's size
    fingerprint = {
        "settings": member_settings,
        "seed": seed,
        "classes": data.classes,
        "counts": data.counts(),
        "source": data.source,
    }
    return hashlib.sha256(
        json.dumps(fingerprint, sort_keys=True, default=str).encode()
    ).hexdigest()[:12]


def _previous_best(history_csv: Path) -> float | None:
    if not history_csv.is_file() or history_csv.stat().st_size == 0:
        return None
    history = pd.read_csv(history_csv)
    return float(history[MONITOR].max()) if MONITOR in history else None


def _finished_epochs(backup_dir: Path) -> int:
    """Epochs a resumed run has already trained, from BackupAndRestore's own record (0 if new)."""
    metadata = backup_dir / "training_metadata.json"
    return (
        int(json.loads(metadata.read_text(encoding="utf-8"))["epoch"]) if metadata.is_file() else 0
    )


def fit(
    model: keras.Model,
    data: PreparedData,
    settings: TrainSettings,
    *,
    seed: int,
    run_dir: str | Path,
    verbose: int = 2,
) -> TrainResult:
    """Train on ``train``, select the epoch on ``val`` only, and return the best weights."""
    validate(settings)
    keras.utils.set_random_seed(seed)
    # Same seed, same weights: without this, threads sum in varying order and runs drift apart.
    # No training-speed cost measured on the 2-core machine (FER2013 recipe, ~460 images/s both).
    tf.config.experimental.enable_op_determinism()
    run_dir = Path(run_dir) / run_id(settings, data, seed)
    run_dir.mkdir(parents=True, exist_ok=True)
    history_csv, best_weights = run_dir / "history.csv", run_dir / "best.weights.h5"
    n_classes = len(data.classes)
    finished = _finished_epochs(run_dir / "backup")
    if finished and verbose:
        print(
            f"Resuming {run_dir} after epoch {finished}: first drawing the batches already trained"
            " on, so the run goes on as if never stopped (a few seconds an epoch)",
            file=sys.stderr,
        )
    train = make_dataset(
        data.splits["train"],
        n_classes,
        settings.batch_size,
        training=True,
        settings=settings,
        seed=seed,
        start_epoch=finished,
    )
    val = make_dataset(data.splits["val"], n_classes, settings.batch_size)
    momentum = batchnorm_momentum(steps_per_epoch(data.splits["train"], settings.batch_size))
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
    compile_model(model, settings)
    callbacks, counters, heartbeat = _callbacks(
        settings,
        run_dir,
        history_csv,
        best_weights,
        finished=finished,
        n_images=len(data.splits["train"]),
        verbose=verbose,
    )
    weights = class_weights(data.splits["train"].y, n_classes) if settings.class_weight else None
    try:
        model.fit(
            train,
            validation_data=val,
            epochs=finished if counters.stopped_early() else settings.epochs,
            steps_per_epoch=steps_per_epoch(data.splits["train"], settings.batch_size),
            callbacks=callbacks,
            class_weight=weights,
            shuffle=False,
            verbose=verbose,
        )
    finally:  # an epoch that raised skips on_train_end
        for beat in heartbeat:
            beat.end_beats()
    history = pd.read_csv(history_csv).drop_duplicates("epoch", keep="last").reset_index(drop=True)
    if best_weights.is_file():
        model.load_weights(str(best_weights))
    shutil.rmtree(run_dir, ignore_errors=True)
    return _result(model, history)


def _callbacks(
    settings: TrainSettings,
    run_dir: Path,
    history_csv: Path,
    best_weights: Path,
    *,
    finished: int,
    n_images: int,
    verbose: int,
) -> tuple[list[keras.callbacks.Callback], CounterBackup, list[EpochHeartbeat]]:
    """A run's callbacks in the order they must run in, and the two ``fit`` asks again after
    ``model.fit``: the counters' backup (whether a resumed run had already stopped early) and
    the heartbeat, if any (an epoch that raises does not stop it)."""
    # Early stopping and the plateau schedule update their counters before the backup is
    # written, and their counters are saved with it (CounterBackup): a resumed run goes on
    # counting where the stopped one was.
    counting: list[keras.callbacks.Callback] = [
        keras.callbacks.EarlyStopping(
            MONITOR, mode="max", patience=settings.early_stopping_patience
        ),
    ]
    if settings.schedule == "plateau":
        counting.append(
            keras.callbacks.ReduceLROnPlateau(
                "val_loss", factor=0.5, patience=max(settings.early_stopping_patience // 2, 1)
            )
        )
    counters = CounterBackup(run_dir / "backup" / "counters.json", counting, finished)
    heartbeat = [EpochHeartbeat(settings.epochs)] if verbose else []
    callbacks: list[keras.callbacks.Callback] = [
        EpochTimer(n_images),  # first: it logs the rate the epoch trained at
        *heartbeat,
        *counting,
        counters,
        keras.callbacks.BackupAndRestore(str(run_dir / "backup")),
        RandomStateBackup(run_dir / "backup" / "random_states.npz"),
        # After the backup, which must hold the raw weights to resume from; before the checkpoint,
        # which must save the averaged weights that val scored.
        *([keras.callbacks.SwapEMAWeights(swap_on_epoch=True)] if settings.ema else []),
        keras.callbacks.ModelCheckpoint(
            str(best_weights),
            monitor=MONITOR,
            mode="max",
            save_best_only=True,
            save_weights_only=True,
            initial_value_threshold=_previous_best(history_csv),
        ),
        keras.callbacks.CSVLogger(str(history_csv), append=True),
    ]
    if settings.schedule != "plateau" or settings.warmup_epochs:
        # The plateau schedule sets the full rate once, after the warm-up, then leaves the rate
        # to ReduceLROnPlateau: set until the warm-up's end only, it stayed at its last step.
        callbacks.append(
            keras.callbacks.LearningRateScheduler(
                lambda epoch, lr: (
                    learning_rate_at(epoch, settings)
                    if settings.schedule != "plateau" or epoch <= settings.warmup_epochs
                    else lr
                )
            )
        )
    return callbacks, counters, heartbeat


def _result(model: keras.Model, history: pd.DataFrame) -> TrainResult:
    best = int(history[MONITOR].idxmax())
    return TrainResult(
        model,
        history,
        int(history.loc[best, "epoch"]) + 1,
        float(history.loc[best, MONITOR]),
        float(history["seconds"].sum()) / 60,  # includes epochs of an interrupted earlier run
    )


def fit_members(
    build: Callable[[], keras.Model],
    data: PreparedData,
    settings: TrainSettings,
    *,
    seed: int,
    run_dir: str | Path,
    verbose: int = 2,
) -> list[TrainResult]:
    """Fit ``settings.members`` fresh models from ``build`` with seeds ``seed``, ``seed + 1``, ….

    A finished member is kept in ``run_dir`` until the last one finishes, so an interrupted
    ensemble resumes where it stopped instead of training its finished members again.
    """
    validate(settings)
    if settings.members == 1:
        model = _built_with_seed(build, seed)
        return [fit(model, data, settings, seed=seed, run_dir=run_dir, verbose=verbose)]
    finished = [
        Path(run_dir) / f"member-{run_id(settings, data, seed + i)}"
        for i in range(settings.members)
    ]
    results = []
    for i, folder in enumerate(finished):
        if (folder / "model.keras").is_file():
            model = keras.models.load_model(folder / "model.keras")
            results.append(_result(model, pd.read_csv(folder / "history.csv")))
            continue
        model = _built_with_seed(build, seed + i)
        result = fit(model, data, settings, seed=seed + i, run_dir=run_dir, verbose=verbose)
        folder.mkdir(parents=True, exist_ok=True)
        result.history.to_csv(folder / "history.csv", index=False, lineterminator="\n")
        with atomic_path(folder / "model.keras") as tmp:  # written last: it marks a finished member
            result.model.save(tmp)
        results.append(result)
    for folder in finished:
        shutil.rmtree(folder, ignore_errors=True)
    return results


def _built_with_seed(build: Callable[[], keras.Model], seed: int) -> keras.Model:
    """A fresh model whose initial weights follow from ``seed``, so a run can be repeated."""
    keras.utils.set_random_seed(seed)
    return build()


def start_from(model: keras.Model, path: str | Path, classes: tuple[str, ...]) -> None:
    """Load a trained model's weights into ``model`` to fine-tune it, matching classes by name.

    The output layer keeps each class the trained model knows and starts any other fresh, so a
    FER2013 model fine-tuned on CK+ begins knowing six of its seven classes; by position, CK+'s
    ``contempt`` would inherit FER2013's ``neutral`` and train silently wrong.
    """
    source = require_file(path, "train.init_weights model")
    try:
        trained = keras.models.load_model(source, compile=False, safe_mode=True)
    except (OSError, ValueError) as exc:
        raise FacialEmotionError(
            f"{source}: train.init_weights is not a readable Keras model ({exc}); "
            "give a .keras file saved by this project"
        ) from exc
    known = tuple(read_card(source, trained.output_shape[-1])["classes"])
    weights, fresh = trained.get_weights(), model.get_weights()
    if _shapes_but_classes(weights) != _shapes_but_classes(fresh):
        raise FacialEmotionError(
            f"{source}: train.init_weights is not a single {model.name} model; set "
            "train.architecture to the one it was trained with (its card's train.architecture)"
        )
    kernel, bias = fresh[-2], fresh[-1]
    for i, name in enumerate(classes):
        if name in known:
            kernel[:, i] = weights[-2][:, known.index(name)]
            bias[i] = weights[-1][known.index(name)]
    model.set_weights([*weights[:-2], kernel, bias])
    kept = [name for name in classes if name in known]
    if not kept:
        raise FacialEmotionError(
            f"{source}: train.init_weights knows none of this data's classes ({', '.join(classes)}"
            f"; it knows {', '.join(known)}); name the class folders as it does, or start fresh"
        )
    fresh_classes = [name for name in classes if name not in known]
    dropped = [name for name in known if name not in classes]
    print(  # which classes the model starts knowing: a CK+ run learns contempt from scratch
        f"Starting from {source}: {len(kept)} of the data's {len(classes)} classes carried over"
        + (f"; new: {', '.join(fresh_classes)}" if fresh_classes else "")
        + (f"; not in this data, so dropped: {', '.join(dropped)}" if dropped else ""),
        file=sys.stderr,
    )


def _shapes_but_classes(weights: list[np.ndarray]) -> list[tuple[int, ...]]:
    """Every weight's shape, the output layer's (a kernel of shape (features, classes), then a
    bias, the last two arrays) without its number of classes."""
    return [w.shape for w in weights[:-2]] + [weights[-2].shape[:-1]]


@dataclass
class Trained:
    """A trained float32 model (an ensemble when ``train.members`` > 1), how each member went, and
    the code it was trained with (``modelfile.code_version`` when training began: code edited
    during a two-hour run is not the code that trained it)."""

    model: keras.Model
    precision: str
    members: list[TrainResult]
    code: dict[str, Any] | None
    data: str = ""  # the prepared data's source ("synthetic", "ckplus"...), for titles
    loss: str = "cross-entropy loss"  # loss_name: the learning curves' axis

    @property
    def history(self) -> pd.DataFrame:
        """Each epoch's logs; for an ensemble, every member's, told apart by a ``member`` column."""
        if len(self.members) == 1:
            return self.members[0].history
        return pd.concat(
            [r.history.assign(member=i) for i, r in enumerate(self.members, start=1)],
            ignore_index=True,
        )

    @property
    def minutes(self) -> float:
        return sum(r.minutes for r in self.members)

    @property
    def best_epoch(self) -> int | list[int]:
        """The epoch kept (1-based); for an ensemble, one per member."""
        best = [r.best_epoch for r in self.members]
        return best[0] if len(best) == 1 else best


def train_model(
    settings: TrainSettings, data: PreparedData, *, seed: int, run_dir: str | Path, verbose: int = 2
) -> Trained:
    """Build, fit and average ``settings.members`` models; the result is float32 for serving."""
    code = code_version()
    precision = models.resolve_precision(settings.precision)
    n_classes = len(data.classes)

    def build() -> keras.Model:
        model = models.build(settings.architecture, n_classes, settings.dropout, precision)
        if settings.init_weights:
            start_from(model, settings.init_weights, data.classes)
        return model

    results = fit_members(
        build,
        data,
        settings,
        seed=seed,
        run_dir=run_dir,
        verbose=verbose,
    )
    model = models.ensemble(
        [models.as_float32(r.model, settings.architecture, n_classes) for r in results]
    )
    source = str(data.source.get("name") or "")
    return Trained(model, precision, results, code, source, loss_name(settings))
