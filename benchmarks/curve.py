"""Accuracy-versus-training-time curves from training histories, as a CSV and a figure.

    python benchmarks/curve.py runs/vgg.history.csv "short run=runs/vgg_wide_late.history.csv" \
        --out runs/curve

Each history is the ``<model>.history.csv`` that ``benchmarks/fer2013.py --out`` writes beside the
model (copies in ``reports/benchmarks/`` are named ``<run>_history.csv``). A run is labelled
``LABEL=`` when given, else by the architecture and epochs on the model card next to its history
(``<model>.json`` or ``<run>.json``); each member of an ensemble is a curve of its own. The
committed ``reports/benchmarks/fer2013_curve.{csv,png}``, with R=reports/benchmarks/fer2013:

    python benchmarks/curve.py "vgg (22 epochs)=${R}_vgg_history.csv" \
        "vgg_wide_late (38 epochs)=${R}_vgg_wide_late_history.csv" \
        "vgg_wide_late (80 epochs, faster host)=${R}_vgg_wide_late_80ep_history.csv" \
        "vgg_wide_late_flat (80 epochs, faster host)=${R}_vgg_wide_late_flat_history.csv" \
        "vgg_wide_late_flat (110 epochs, faster host)=${R}_vgg_wide_late_flat_110ep_history.csv" \
        --out ${R}_curve
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from facial_emotion.files import write_csv

if TYPE_CHECKING:  # imported where used: --help need not wait seconds for pandas and matplotlib
    import pandas as pd


def curve(run: str) -> pd.DataFrame:
    import pandas as pd

    label, _, path = run.rpartition("=")
    history_csv = Path(path)
    history = pd.read_csv(history_csv)
    if not label:
        name = history_csv.name.removesuffix(".history.csv").removesuffix("_history.csv")
        card_path = history_csv.with_name(f"{name}.json")
        if not card_path.is_file():
            raise SystemExit(
                f"curve.py: {history_csv}: no model card {card_path.name} beside it to name the "
                f'run; label it: "LABEL={history_csv}"'
            )
        card = json.loads(card_path.read_text(encoding="utf-8"))
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
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        help="where to write, without suffix: OUT.csv and OUT.png (the committed curve is "
        "reports/benchmarks/fer2013_curve)",
    )
    args = parser.parse_args(argv)
    import pandas as pd

    from facial_emotion import plots

    curves = pd.concat([curve(path) for path in args.histories], ignore_index=True)
    write_csv(args.out.with_suffix(".csv"), curves)  # LF on Windows too, as committed
    plots.save_figure(plots.accuracy_vs_time(curves), args.out.with_suffix(".png"))
    print(f"{args.out}.csv, {args.out}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
