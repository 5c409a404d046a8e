"""TensorFlow Lite export (float32 and full-integer int8) with a parity check against Keras.

Each model is converted in memory, its card embedded, and scored beside the Keras model on the
evaluation split before it is written (with its card beside it too): one that a failed
conversion or scoring stops never leaves a model behind. One below ``MIN_AGREEMENT`` is not
written by ``facial-emotion export``, and is written with a warning by the pipeline's stage
(``--below-floor warn``), which records ``meets_floor: false`` in metrics/export.json.
Run as the DVC stage ``python -m facial_emotion.export`` or as ``facial-emotion export``.
"""

from __future__ import annotations

import contextlib
import io
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import atomic_path, named_if_unwritten, refuse_overwrite, write_json
from facial_emotion.modelfile import card_path
from facial_emotion.native_log import native_log_held_back
from facial_emotion.tflite_card import with_card
from facial_emotion.wording import counted

if TYPE_CHECKING:
    from facial_emotion.backends import KerasBackend, TFLiteBackend
    from facial_emotion.data.prepared import LabelledImages

# Top-emotion agreement with Keras an export needs to be written. int8 steps cost some (99.05% for
# the shipped model, 99.43% on the embedded data); one calibrated on a single face agreed on 88.5%
# of CK+ faces and was written without a word.
MIN_AGREEMENT = {"float32": 0.995, "int8": 0.97}


def tflite_bytes(model: Any, representative: np.ndarray | None = None) -> bytes:
    """Convert a Keras model: float32, or full-integer int8 calibrated on ``representative``.

    The int8 model computes in int8 but takes and gives uint8, so a device feeds a face's bytes
    as they are: mobile wrappers (TFLite's Task Library) refused int8 input, and bytes copied
    into it read 28.7% of FER2013 val faces right, not 68%. Its answers are the int8 ones
    shifted by 128, to the last bit (the shipped model, all 3,589 val faces)."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if representative is not None:
        samples = representative.astype(np.float32)[..., None]
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([face[None]] for face in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.uint8
        converter.inference_output_type = tf.uint8
    # Keras prints where it staged a temporary SavedModel, and TensorFlow warns that quantized
    # inputs lack statistics although the representative set gives them: noise around the summary.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Statistics for quantized inputs", UserWarning)
        return converter.convert()


def representative_faces(train: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` training faces drawn at random (all of them when there are fewer) to calibrate int8."""
    rng = np.random.default_rng(seed)
    return train[rng.choice(len(train), size=min(n, len(train)), replace=False)]


def latency_ms(
    predict: Callable[[np.ndarray], np.ndarray], face: np.ndarray, runs: int = 50
) -> float:
    """Median milliseconds to read one face (batch 1) after a warm-up: how the app calls it."""
    x = face.astype(np.float32)[None, ..., None]
    for _ in range(5):
        predict(x)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        predict(x)
        times.append(time.perf_counter() - start)
    return round(float(np.median(times)) * 1000, 4)


def compare(reference: np.ndarray, probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """How closely a converted model's probabilities follow the Keras model's."""
    top1 = probs.argmax(1)
    keras_top1 = reference.argmax(1)
    accuracy = float((top1 == labels).mean())
    return {
        "agreement": round(float((top1 == keras_top1).mean()), 4),
        "accuracy": round(accuracy, 4),
        "accuracy_change": round(accuracy - float((keras_top1 == labels).mean()), 4),
        "max_probability_difference": round(float(np.abs(probs - reference).max()), 4),
    }


def tensor_record(lite: TFLiteBackend) -> dict[str, dict[str, Any]]:
    """The int8 model's input and output tensors as a device developer feeds and reads them
    without this package: ``q = clamp(round(pixel / scale + zero_point), 0, 255)``,
    ``p = (q - zero_point) * scale`` (scale 0: float32, no quantization). A card that said only
    "raw 0..255 pixels" had them feed an int8 input unshifted."""

    def record(details: dict[str, Any]) -> dict[str, Any]:
        scale, zero_point = details["quantization"]
        return {
            "name": details["name"],
            "dtype": np.dtype(details["dtype"]).name,
            "shape": [int(v) for v in details["shape"]],
            "scale": float(scale),
            "zero_point": int(zero_point),
        }

    return {"input": record(lite.input), "output": record(lite.output)}


def _convert(model: Any, representative: np.ndarray | None, model_path: Path, name: str) -> bytes:
    """``tflite_bytes`` with the converter's many exception types turned into one clear line."""
    try:
        with native_log_held_back():  # the converter's C++ notices, such as W0000 ... flatbuffer
            return tflite_bytes(model, representative)
    except Exception as exc:  # the converter raises many types for an unsupported layer
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FacialEmotionError(
            f"{model_path}: {name} TensorFlow Lite conversion failed ({reason}); "
            "use layers TensorFlow Lite supports"
        ) from exc


def to_stderr(line: str) -> None:
    """Print a warning on stderr: on stdout, `export > report.txt` hid it among the figures."""
    print(line, file=sys.stderr)


def _summary(name: str, result: dict[str, Any]) -> str:
    return (
        f"  {name}: agreement {result['agreement']:.2%}, accuracy {result['accuracy']:.2%} "
        f"({result['accuracy_change']:+.2%}), {result['size_bytes'] / 1024:.1f} KiB, "
        f"{result['latency_ms']:.3f} ms/face"
    )


def _shortfall(name: str, agreement: float, model_path: Path, split_name: str) -> str:
    """How far an export falls below ``MIN_AGREEMENT``, and for int8 what would lift it."""
    fix = (
        " (train the model further, as near chance its probabilities are nearly flat, or "
        "calibrate on more faces: --representative-samples, or export.representative_"
        "samples in params.yaml)"
        if name == "int8"
        else ""
    )
    return (
        f"the {name} model agrees with {model_path} on only {agreement:.2%} of "
        f"{split_name} faces (needs {MIN_AGREEMENT[name]:.1%}){fix}"
    )


@dataclass(frozen=True)
class _Reference:
    """The Keras model every export is held to, and its answers on the evaluation faces."""

    keras_model: KerasBackend
    path: Path
    split_name: str
    split: LabelledImages
    data_source: dict[str, object]
    probabilities: np.ndarray


def _convert_score_and_write(
    name: str,
    target: Path,
    representative: np.ndarray | None,
    reference: _Reference,
    *,
    own_card: Path | None,
    metrics: dict[str, Any],
    metrics_path: Path,
    below_floor: Literal["refuse", "warn"],
    log: Callable[[str], None],
    warn: Callable[[str], None],
) -> None:
    """Convert one variant (``representative`` faces calibrate int8), score the bytes to be
    written against ``reference``, record the score in ``metrics[name]``, and write the model
    and ``own_card`` unless it falls below ``MIN_AGREEMENT`` and ``below_floor`` refuses it."""
    from facial_emotion.backends import TFLiteBackend
    from facial_emotion.evaluation import predict_proba

    model_path, split_name, split = reference.path, reference.split_name, reference.split
    card = reference.keras_model.card
    start = time.perf_counter()
    # the classes travel inside the file, and the parity below is that of the bytes written
    content = with_card(
        _convert(reference.keras_model.model, representative, model_path, name), card
    )
    seconds = time.perf_counter() - start
    lite = TFLiteBackend(target, content=content, card=card)
    result: dict[str, Any] = {
        "path": str(target),
        **compare(reference.probabilities, predict_proba(lite.predict, split.x), split.y),
        "size_bytes": len(content),
        "latency_ms": latency_ms(lite.predict, split.x[0]),
        "convert_seconds": round(seconds, 2),
    }
    if representative is not None:
        result["representative_samples"] = len(representative)
    metrics[name] = result
    log(_summary(name, result))
    result["meets_floor"] = result["agreement"] >= MIN_AGREEMENT[name]
    if not result["meets_floor"]:
        shortfall = _shortfall(name, result["agreement"], model_path, split_name)
        if below_floor == "refuse":
            result["path"] = None  # not written: no model file to point at
            write_json(metrics_path, metrics)
            raise FacialEmotionError(f"{target}: not written, {shortfall}; see {metrics_path}")
        warn(f"export: warning: {target}: written although {shortfall}")
    with atomic_path(target) as tmp:  # a target that cannot be written stops before its card
        with named_if_unwritten(target):  # a full disk's error named no file
            tmp.write_bytes(content)
        if own_card is not None:
            # its own card also says how closely it follows the Keras model, and on what faces
            parity = {"data": reference.data_source, "split": split_name, "faces": len(split)}
            parity["keras_model"] = model_path.name
            parity |= {k: result[k] for k in ("agreement", "accuracy", "accuracy_change")}
            tensors = tensor_record(lite)
            write_json(own_card, {**card, "tensors": tensors, "parity": parity})


def export(
    model_path: str | Path,
    prepared_dir: str | Path,
    out_dir: str | Path,
    metrics_path: str | Path,
    representative_samples: int = 200,
    int8: bool = True,
    seed: int = 0,
    below_floor: Literal["refuse", "warn"] = "refuse",
    log: Callable[[str], None] = print,
    warn: Callable[[str], None] = to_stderr,
) -> dict[str, Any]:
    """Write ``<stem>.tflite`` (and ``<stem>.int8.tflite``) with cards, and the parity metrics:
    the report goes to ``log``, warnings to ``warn`` (stderr, which ``> /dev/null`` keeps).

    An export that agrees with Keras less than ``MIN_AGREEMENT`` asks is not written
    (``below_floor="refuse"``), or is written with a warning (``"warn"``: the pipeline's choice,
    where a model near chance, whose flat probabilities int8 steps reorder, would otherwise
    fail the whole experiment and DVC would keep none of it). ``meets_floor`` records which."""
    from facial_emotion.backends import KerasBackend, load_backend
    from facial_emotion.data.prepared import evaluation_split, load_split, recorded_source
    from facial_emotion.evaluation import predict_proba

    model_path, prepared_dir, out_dir = Path(model_path), Path(prepared_dir), Path(out_dir)
    metrics_path = Path(metrics_path)
    stems = [model_path.stem, *([f"{model_path.stem}.int8"] if int8 else [])]
    targets = [out_dir / f"{stem}.tflite" for stem in stems]
    model_card = card_path(model_path)
    # each export's own card, unless it shares the Keras model's (a .tflite beside its .keras)
    own_cards = {  # resolved: `--out-dir $PWD/models` is beside `--model models/model.keras`
        t: card_path(t) for t in targets if card_path(t).resolve() != model_card.resolve()
    }
    keras_model = load_backend(model_path, precision="float32")  # the reference is the saved model
    if not isinstance(keras_model, KerasBackend):
        raise FacialEmotionError(f"{model_path}: export reads a Keras model; pass a .keras file")
    refuse_overwrite([model_path, model_card], [*targets, *own_cards.values(), metrics_path])
    card = keras_model.card
    split_name, split, classes = evaluation_split(prepared_dir)
    if list(classes) != list(card["classes"]):
        raise FacialEmotionError(
            f"{model_card}: the model's classes {card['classes']} differ from those of "
            f"{prepared_dir} {list(classes)}; export with the data the model was trained on"
        )
    data_source = recorded_source(prepared_dir)
    trained_on, data_name = card.get("source", {}).get("name"), data_source.get("name")
    if trained_on and data_name and trained_on != data_name:
        raise FacialEmotionError(
            f"{prepared_dir}: holds {data_name} data, but {model_path} was trained on "
            f"{trained_on}; pass --prepared a folder prepared from {trained_on} "
            f"(`python -m facial_emotion.prepare --params my.yaml --out prepared`, my.yaml "
            f"setting data.source: {trained_on} and its data.path)"
        )
    log(f"export: {model_path} on {counted(len(split), split_name + ' face')} of {prepared_dir}")
    probabilities = predict_proba(keras_model.predict, split.x)
    reference = _Reference(keras_model, model_path, split_name, split, data_source, probabilities)
    metrics: dict[str, Any] = {
        "data": data_name,  # the whole record is in the int8 card: a table's column is short
        "split": split_name,
        "faces": len(split),
        "keras": {
            "accuracy": round(float((probabilities.argmax(1) == split.y).mean()), 4),
            "size_bytes": model_path.stat().st_size,
            "latency_ms": latency_ms(keras_model.predict, split.x[0]),
        },
    }
    variants: list[tuple[str, Path, np.ndarray | None]] = [("float32", targets[0], None)]
    if int8:
        train, _ = load_split(prepared_dir / "train.npz")
        faces = representative_faces(train.x, representative_samples, seed)
        variants.append(("int8", targets[1], faces))
    for name, target, representative in variants:
        _convert_score_and_write(
            name,
            target,
            representative,
            reference,
            own_card=own_cards.get(target),
            metrics=metrics,
            metrics_path=metrics_path,
            below_floor=below_floor,
            log=log,
            warn=warn,
        )
    write_json(metrics_path, metrics)
    if not int8 and (stale := out_dir / f"{model_path.stem}.int8.tflite").exists():
        warn(
            f"export: warning: {stale} (and its card {card_path(stale).name}) is left from an "
            "earlier export and may not be this model's; delete it, or export without --no-int8 "
            "to replace it"
        )
    keras = metrics["keras"]
    log(f"  keras: accuracy {keras['accuracy']:.2%} (one pass), {keras['latency_ms']:.3f} ms/face")
    log(f"wrote {metrics_path}")
    return metrics


if __name__ == "__main__":
    from facial_emotion.cli import main
    from facial_emotion.paths import run_on_repository_code

    run_on_repository_code("facial_emotion.export")

    sys.exit(main(["export", *sys.argv[1:]]))
