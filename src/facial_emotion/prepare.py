"""The ``prepare`` stage: read the configured data source, write the prepared splits.

Run as ``python -m facial_emotion.prepare`` from the repository root (``dvc repro prepare``).
"""

from __future__ import annotations

import argparse
import sys
import time

from facial_emotion.config import load_params
from facial_emotion.data import prepared
from facial_emotion.data.sources import load_source
from facial_emotion.errors import FacialEmotionError
from facial_emotion.paths import PREPARED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--params", default="params.yaml", help="params file (default: params.yaml)"
    )
    parser.add_argument(
        "--out", default=str(PREPARED), help="output folder (default: data/prepared)"
    )
    args = parser.parse_args(argv)
    try:
        params = load_params(args.params)
        start = time.perf_counter()
        data = load_source(
            params.data.source,
            params.data.path or None,
            seed=params.seed,
            val_fraction=params.data.val_fraction,
            test_fraction=params.data.test_fraction,
            synthetic_samples=params.data.synthetic_samples,
        )
        prepared.save(data, args.out)
    except FacialEmotionError as exc:
        print(f"prepare: error: {exc}", file=sys.stderr)
        return 2
    sizes = ", ".join(f"{name} {len(split)}" for name, split in data.splits.items())
    print(
        f"prepare: {params.data.source} → {args.out} ({sizes}; {len(data.classes)} classes: "
        f"{', '.join(data.classes)}) in {time.perf_counter() - start:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
