"""Training and inference speed of every registered architecture on this machine.

Random faces, so it needs no data: speed only (accuracy comes from benchmarks/fer2013.py).
Training is ``train_on_batch`` with the project's own optimizer and loss in the precision training
picks here; inference is the ``KerasBackend`` users get, in float32 and in bfloat16. Run it on an
otherwise idle machine:

    python benchmarks/throughput.py --out reports/benchmarks/throughput.csv
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from timing import load_average, median_seconds, speed_host

from facial_emotion.files import atomic_path
from facial_emotion.labels import EMOTIONS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Keras, TensorFlow, NumPy and pandas are imported where they are used, not for --help: they take
# seconds to import


def train_images_per_second(name: str, batch: int, steps: int) -> float:
    import keras
    import numpy as np

    from facial_emotion import models, training
    from facial_emotion.config import TrainSettings

    precision = models.resolve_precision("auto")
    model = models.build(name, len(EMOTIONS), precision=precision)
    training.compile_model(model, TrainSettings(optimizer="adamw", label_smoothing=0.1))
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (batch, 48, 48, 1)).astype(np.float32)
    y = keras.utils.to_categorical(rng.integers(0, len(EMOTIONS), batch), len(EMOTIONS))
    return batch / median_seconds(lambda: model.train_on_batch(x, y), steps, warmup=3)


def inference(path: Path, precision: str, batch: int) -> dict[str, float]:
    import numpy as np

    from facial_emotion.backends import KerasBackend

    backend = KerasBackend(path, precision)
    one = np.full((1, 48, 48, 1), 128, np.float32)
    many = np.random.default_rng(1).uniform(0, 255, (batch, 48, 48, 1)).astype(np.float32)
    return {
        f"{precision}_ms_per_face_batch1": 1000
        * median_seconds(lambda: backend.predict(one), 100, warmup=3),
        f"{precision}_faces_per_s_batch{batch}": batch
        / median_seconds(lambda: backend.predict(many), 10, warmup=3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architectures", nargs="*", help="default: every registered one")
    parser.add_argument("--batch", type=int, default=128, help="training batch")
    parser.add_argument("--infer-batch", type=int, default=256, help="batched inference size")
    parser.add_argument("--steps", type=int, default=12, help="timed training steps")
    parser.add_argument("--out", type=Path, help="also write the table as CSV")
    args = parser.parse_args()
    import pandas as pd

    from facial_emotion import models
    from facial_emotion.modelfile import save_keras

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.architectures or sorted(models.ARCHITECTURES):
            path = Path(tmp) / f"{name}.keras"
            model = models.build(name, len(EMOTIONS))
            save_keras(model, path, EMOTIONS)
            row = {
                "architecture": name,
                "parameters": model.count_params(),
                "train_images_per_s": train_images_per_second(name, args.batch, args.steps),
            }
            for precision in ("float32", "mixed_bfloat16"):
                row.update(inference(path, precision, args.infer_batch))
            row = {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}
            print(row, file=sys.stderr, flush=True)
            rows.append(row)
    table = pd.DataFrame(rows)
    for key, value in speed_host().items():  # which row of the speed table this run belongs to
        table[key] = value
    table["load_average_1min"] = load_average()
    print(table.to_string(index=False))
    if args.out:
        with atomic_path(args.out) as tmp_csv:
            table.to_csv(tmp_csv, index=False)


if __name__ == "__main__":
    main()
