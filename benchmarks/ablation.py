"""Switch each part of the FER2013 recipe on or off, one at a time, and record val accuracy.

    python benchmarks/ablation.py --data /path/to/fer2013 --epochs 5 --out runs/ablation/table

The recipe is the one that trained the shipped model (its card's ``train`` settings). Each variant
changes one part: a part the recipe uses is turned off, one it does not use is turned on. A
second seed of the unchanged recipe shows how much val accuracy moves by chance. Each variant is
one model, also when the recipe is an ensemble (``train.members``). Every variant
trains in its own ``benchmarks/fer2013.py`` process and selects on ``val`` only. Variants already
in the CSV at the same epochs are kept (and said to be), so a stopped ablation continues where it
left off; ``reports/benchmarks/fer2013_ablation`` holds the committed results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from facial_emotion.config import as_dict, as_overrides
from facial_emotion.files import atomic_path
from facial_emotion.modelfile import train_settings

# unchanged recipe runs: the baseline, and a second seed for the noise between runs
REFERENCES: dict[str, list[str]] = {"recipe": [], "recipe, seed 43": ["seed=43"]}
# part: (params key, value when off, value when on), in the order they are worth running
PARTS: dict[str, list[tuple[str, object, object]]] = {
    "mixup": [("train.mixup", 0.0, 0.2)],
    "label smoothing": [("train.label_smoothing", 0.0, 0.1)],
    "weight decay": [("train.weight_decay", 0.0, 0.01)],
    "rotation and zoom": [("train.augment.rotation", 0.0, 0.03), ("train.augment.zoom", 0.0, 0.1)],
    "pad-and-crop": [("train.augment.crop_pad", 0, 4)],
    "random erasing": [("train.augment.erase", 0.0, 0.5)],
    "flip": [("train.augment.flip", False, True)],
    "cosine schedule": [("train.schedule", "plateau", "cosine")],
    "class weights": [("train.class_weight", False, True)],
}
COLUMNS = [
    "variant",
    "overrides",
    "epochs",
    "train_minutes",
    "val_accuracy",
    "val_macro_f1",
    "val_accuracy_tta",
    "val_macro_f1_tta",
]


def _value(settings: dict, key: str) -> object:
    node = settings
    for part in key.split(".")[1:]:
        node = node[part]
    return node


def variants(recipe: dict) -> dict[str, list[str]]:
    """Variant name → the overrides that make it from the recipe (its card's train settings)."""
    made = dict(REFERENCES)
    for part, switches in PARTS.items():
        uses = any(_value(recipe, key) != off for key, off, _ in switches)
        name = f"{'without' if uses else 'with'} {part}"
        made[name] = [f"{key}={json.dumps(off if uses else on)}" for key, off, on in switches]
    return made


def run_variant(
    args: argparse.Namespace, architecture: str, base: list[str], overrides: list[str]
) -> dict:
    """Train one variant in a fresh process; its epoch lines stream to stderr as progress."""
    command = [
        sys.executable,
        str(Path(__file__).with_name("fer2013.py")),
        "--data",
        args.data,
        "--epochs",
        str(args.epochs),
        "--run-dir",
        args.run_dir,
        "--architecture",
        architecture,
        *[f"--set={item}" for item in base + overrides],
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as child:
        last = ""
        for line in child.stdout or []:
            sys.stderr.write(line)
            last = line
    if child.returncode != 0:
        raise SystemExit(f"ablation: variant {overrides} failed (exit {child.returncode})")
    return json.loads(last)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="FER2013 CSV or folders")
    parser.add_argument("--epochs", type=int, default=5, help="epochs per variant")
    parser.add_argument(
        "--card",
        type=Path,
        help="model card whose train settings are the recipe (default: the shipped model's)",
    )
    parser.add_argument("--only", action="append", help="run just this variant (repeatable)")
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("runs/ablation/table"),
        help="writes OUT.csv and OUT.png, and resumes from OUT.csv (default: %(default)s)",
    )
    parser.add_argument("--run-dir", default="runs/ablation", help="checkpoints for resuming")
    args = parser.parse_args(argv)
    # not for --help: pandas, matplotlib and OpenCV take seconds to import
    import pandas as pd

    from facial_emotion import plots
    from facial_emotion.predict import default_model_path

    args.card = args.card or default_model_path().with_suffix(".json")

    recipe = as_dict(train_settings(args.card))
    per_variant = ("train.epochs=", "train.members=")  # each variant trains one model
    base = [o for o in as_overrides(recipe, "train") if not o.startswith(per_variant)]
    csv = args.out.with_suffix(".csv")
    done = pd.read_csv(csv) if csv.is_file() else pd.DataFrame(columns=COLUMNS)
    finished = set(done.loc[done["epochs"] == args.epochs, "variant"])
    planned = [name for name in variants(recipe) if not args.only or name in args.only]
    if kept := [name for name in planned if name in finished]:
        print(f"ablation: {len(kept)} variant(s) already in {csv} kept", file=sys.stderr)
    for name, overrides in variants(recipe).items():
        if name not in planned or name in finished:
            continue
        print(f"ablation: {name} ({args.epochs} epochs)", file=sys.stderr)
        figures = run_variant(args, recipe["architecture"], base, overrides)
        row = {"variant": name, "overrides": " ".join(overrides), "epochs": args.epochs}
        row |= {key: figures[key] for key in COLUMNS[3:]}
        done = pd.concat([done, pd.DataFrame([row])], ignore_index=True)
        with atomic_path(csv) as tmp:
            done.to_csv(tmp, index=False)
        plots.save_figure(plots.ablation_bars(done, list(REFERENCES)), args.out.with_suffix(".png"))
    print(done.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
