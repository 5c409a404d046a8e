"""Accuracy-versus-training-time curves from training histories, as a CSV and a figure.

    python benchmarks/curve.py runs/vgg.history.csv "short run=runs/vgg_wide_late.history.csv" \
        --out reports/benchmarks/fer2013_curve

Each history is the ``<model>.history.csv`` that ``benchmarks/fer2013.py --out`` writes beside the
model. A run is labelled ``LABEL=`` when given, else by the architecture and epochs on the model
card next to its history; each member of an ensemble is a curve of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from facial_emotion import plots
from facial_emotion.files import atomic_path


def curve(run: str) -> pd.DataFrame:
    label, _, path = run.rpartition("=")
    history_csv = Path(path)
    history = pd.read_csv(history_csv)
    if not label:
        card = json.loads(
            history_csv.with_name(history_csv.name.replace(".history.csv", ".json")).read_text()
        )
        label = f"{card['metrics']['architecture']} ({card['train']['epochs']} epochs)"
    runs = (
        label + ", member " + history["member"].astype(str) if "member" in history else label
    )  # an ensemble's members train one after another: their minutes add up
    return pd.DataFrame(
        {
            "run": runs,
            "epoch": history["epoch"] + 1,
            "train_minutes": (history["seconds"].cumsum() / 60).round(2),
            "val_accuracy": history["val_accuracy"].round(4),
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("histories", nargs="+", metavar="[LABEL=]HISTORY_CSV")
    parser.add_argument("--out", type=Path, default=Path("reports/benchmarks/fer2013_curve"))
    args = parser.parse_args(argv)
    curves = pd.concat([curve(path) for path in args.histories], ignore_index=True)
    with atomic_path(args.out.with_suffix(".csv")) as tmp:
        curves.to_csv(tmp, index=False)
    plots.save_figure(plots.accuracy_vs_time(curves), args.out.with_suffix(".png"))
    print(f"{args.out}.csv, {args.out}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
