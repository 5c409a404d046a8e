"""A model's accuracy on the faces of a split that it cannot have seen in training.

FER2013's PublicTest holds 279 faces identical, pixel for pixel, to Training faces (12 of them
labelled otherwise there), and more that are the same photograph as a training face, shifted,
re-cropped or re-scaled (`overlap.near_copies`): a model fits those in training, so they flatter
the split's figure. This scores the split's faces in four groups (all; unseen, with no training
copy of either kind; identical to a training face; near copies that are not identical) in a
single pass, with flip, and with flip and 2-pixel crops. Prints one JSON line. Run by hand:

    python benchmarks/unseen.py --data /path/to/fer2013 [--model runs/new.keras]
"""

from __future__ import annotations

from pathlib import Path

from scoring_cli import print_json, scoring_parser

VIEWS = {"single pass": {}, "flip": {"tta": True}, "flip and crops": {"tta": True, "shift": 2}}


def main() -> int:
    args = scoring_parser(__doc__.splitlines()[0], "the shipped Keras model").parse_args()
    from facial_emotion.predict import default_model_path  # not for --help: OpenCV

    model = args.model or default_model_path()
    return print_json(lambda: score_unseen(model, args.data, args.split))


def score_unseen(model: Path, data_path: str, split_name: str) -> dict:
    from facial_emotion.backends import load_backend
    from facial_emotion.data.overlap import identical_to_training, near_copies
    from facial_emotion.data.sources import load_for_scoring
    from facial_emotion.evaluation import labels_for_model, predict_proba, scorable

    backend = load_backend(model, precision="float32")
    data, _ = load_for_scoring(Path(data_path), split=split_name, card=backend.card)
    split = data.splits[split_name]
    # scoring reads the split it scores alone: the training faces copies are looked for among
    # are read by a call of their own
    train = load_for_scoring(Path(data_path), split="train", card=backend.card)[0].splits["train"]
    ((identical, relabelled),) = identical_to_training(train, split)
    (near,) = near_copies(train, split)
    near &= ~identical
    labels = labels_for_model(split.y, data.classes, backend.card["classes"])
    known = scorable(labels, data_path, data.classes, str(model))
    groups = {
        "all": known,
        "unseen": known & ~identical & ~near,
        "identical": known & identical,
        "near_copy": known & near,
    }
    accuracy: dict[str, dict[str, float]] = {group: {} for group in groups}
    for view, options in VIEWS.items():
        right = predict_proba(backend.predict, split.x, **options).argmax(1) == labels
        for group, members in groups.items():
            accuracy[group][view] = (
                round(float(right[members].mean()), 4) if members.any() else None
            )
    return {
        "model": str(model),
        "split": split_name,
        "faces": {group: int(members.sum()) for group, members in groups.items()},
        "identical_labelled_otherwise": int((known & relabelled).sum()),
        "accuracy": accuracy,
    }


if __name__ == "__main__":
    raise SystemExit(main())
