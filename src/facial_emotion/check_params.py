"""``python -m facial_emotion.check_params [FILE]``: every key, type and value of a params file at
once. Each stage checks only its own groups, and only once it runs: a misspelt group changed no
stage (so `dvc repro` called it up to date), and a bad evaluate value failed after the whole
training. Kept apart from ``config``, which every stage imports, so that no stage depends on the
others' code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from facial_emotion.config import (
    PARAMS_FILE,
    POSITIVE,
    DataSettings,
    Params,
    check_rules,
    load_params,
)
from facial_emotion.data import fer2013, synthetic
from facial_emotion.data.sources import check_settings
from facial_emotion.errors import (
    FacialEmotionError,
    closed_streams_opened,
    output_escapes_what_it_cannot_encode,
)
from facial_emotion.files import write_text
from facial_emotion.labels import EMOTIONS
from facial_emotion.modelfile import card_path, read_card, require_file
from facial_emotion.native_log import import_tensorflow
from facial_emotion.paths import MODEL, run_on_repository_code


def check_values(params: Params, source: str = PARAMS_FILE) -> None:
    """Every stage's value rules, each kept where its stage applies it (train's with Keras, whose
    architectures and precisions they are); an error names ``source``, the file read."""
    import_tensorflow("checking train's values")
    from facial_emotion import stages, training

    check_settings(params.data, source)
    if params.data.source == "synthetic":
        check_synthetic_splits(params.data, source)
    if not params.data.path.strip():  # "": the synthetic default's until 2026-11-28
        fix = (
            f"set it to {DataSettings.path} (the default, which synthetic does not read) or to "
            "your data set"
        )
        # blanks were called "empty" and said to stop every DVC command, which they do not
        raise FacialEmotionError(
            f"data.path is empty in {source}: DVC hashes it for the prepare stage and stops "
            f"every command on an empty one ('ERROR: unexpected error'); {fix}"
            if not params.data.path
            else f"data.path is blanks only ({params.data.path!r}) in {source}: DVC takes it for "
            "a file of that name, which is not there, and stops the prepare stage ('No such "
            f"file or directory'); {fix}"
        )
    # here, not when prepare reads it: DVC removed the prepared data first, then stopped on a
    # bare "[Errno 2] No such file or directory"
    if params.data.source != "synthetic" and not Path(params.data.path).exists():
        raise FacialEmotionError(
            f"data.path {params.data.path}: not found; point it at the {params.data.source} data "
            f"(folder or CSV) in {source}, or with dvc exp run -S data.path=..."
            + _in_experiment_copy(Path.cwd(), Path(params.data.path))
        )
    if params.data.source == "fer2013" and params.data.labels:
        # here, not when prepare reads it: prepare refused the pair only after DVC had removed
        # the prepared data
        fer2013.refuse_labels(
            Path(params.data.path), "data.labels", f'set data.labels to "" in {source}'
        )
    training.validate(params.train, source)
    if params.train.init_weights:
        check_init_weights(Path(params.train.init_weights))
    stages.check_evaluate(params.evaluate, source)
    samples = params.export.representative_samples
    check_rules("export", {"representative_samples": (samples, POSITIVE)}, source)


def check_synthetic_splits(data: DataSettings, source: str = PARAMS_FILE) -> None:
    """Train gets a face of every class and val a face: with fewer, prepare stopped on "None: the
    'val' split has no samples" or "no training faces of sad, ..." after DVC had removed the
    prepared data."""
    fractions = data.val_fraction, data.test_fraction
    needs = {"train": len(EMOTIONS), "val": 1}  # the generator deals the classes out in turn
    why = {"train": f"{len(EMOTIONS)}, a face of each class", "val": "1"}

    def short(count: int) -> dict[str, int]:
        sizes = synthetic.split_sizes(count, *fractions)
        return {split: sizes[split] for split, need in needs.items() if sizes[split] < need}

    if not (lacking := short(data.synthetic_samples)):
        return
    enough = max(len(EMOTIONS), int(0.5 / data.val_fraction))  # below either, a split is short
    while short(enough):
        enough += 1
    raise FacialEmotionError(
        f"{source}: data.synthetic_samples {data.synthetic_samples} draws too few faces: "
        + ", ".join(f"{split} {count} (needs {why[split]})" for split, count in lacking.items())
        + f"; set it to at least {enough} (dvc exp run -S data.synthetic_samples={enough})"
    )


def _in_experiment_copy(cwd: Path, data: Path) -> str:
    """Why a relative path found in the workspace is not found here: queued and ``--temp``
    experiments run in a copy under ``.dvc/tmp/exps/`` that holds git's files only."""
    parts = cwd.resolve().parts
    in_copy = any(parts[i : i + 3] == (".dvc", "tmp", "exps") for i in range(len(parts)))
    return (
        " (a queued or --temp experiment runs in a copy of the repository without its "
        "git-ignored files: give data.path as an absolute path)"
        if in_copy and not data.is_absolute()
        else ""
    )


def check_init_weights(path: Path) -> None:
    """The model to start from, before DVC removes the train stage's outputs: given
    ``models/model.keras``, training found it gone and said to run `dvc repro`, which removed
    it again."""
    if path.resolve().parent == MODEL.resolve().parent:
        raise FacialEmotionError(
            f"train.init_weights {path}: the train stage's own output, which DVC removes before "
            f"training; copy it and its card out first (mkdir -p runs; cp {path} "
            f"{card_path(path)} runs/) and set train.init_weights=runs/{path.name}"
        )
    require_file(path, "train.init_weights model")
    read_card(path)  # its classes, matched by name when training starts from it


def main(argv: list[str] | None = None) -> int:
    # its stdout is a report, not results a program reads: a closed one is dropped
    closed_streams_opened(results_on_stdout=False)
    output_escapes_what_it_cannot_encode()
    parser = argparse.ArgumentParser(
        prog="python -m facial_emotion.check_params",
        description="Check every key, type and value of a params file.",
    )
    parser.add_argument("file", nargs="?", help=f"params file (default: {PARAMS_FILE})")
    # as prepare and the notebook runner take it
    parser.add_argument("--params", metavar="FILE", help="the same, as the other commands name it")
    parser.add_argument(
        "--stamp",
        metavar="FILE",
        help="also write the verdict to FILE: the pipeline's first stage, which prepare waits "
        "for, so a bad value stops `dvc exp run` before DVC removes any stage's outputs",
    )
    args = parser.parse_args(argv)
    if args.file and args.params and args.file != args.params:
        parser.error(f"two params files given: {args.file} and {args.params}; give one")
    args.file = args.file or args.params or PARAMS_FILE
    try:
        check_values(load_params(args.file), args.file)
    except FacialEmotionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verdict = f"{args.file}: every key, type and value is valid"
    if args.stamp:  # the same words each time: prepare does not re-run for a new setting
        write_text(args.stamp, verdict + "\n")
    print(verdict)
    return 0


if __name__ == "__main__":
    run_on_repository_code("facial_emotion.check_params")
    raise SystemExit(main())
