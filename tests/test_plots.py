"""Figures a user reads in reports/: what they must show."""

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd

from facial_emotion import plots
from facial_emotion.data import prepared


def test_ablation_bars_draw_each_reference_as_a_labelled_line() -> None:
    results = pd.DataFrame(
        {
            "variant": ["baseline", "second seed", "with mixup"],
            "val_accuracy_tta": [0.53, 0.531, 0.518],
            "epochs": [5, 5, 5],
        }
    )
    ax = plots.ablation_bars(results, ["baseline", "second seed"]).axes[0]
    lines = {
        line.get_label(): line.get_xdata()[0]
        for line in ax.get_lines()
        if not line.get_label().startswith("_")  # seaborn's unnamed error bars
    }
    assert lines == {"baseline": 0.53, "second seed": 0.531}
    assert [t.get_text() for t in ax.get_yticklabels()] == list(results["variant"])


def test_learning_curves_draw_each_ensemble_member_apart() -> None:
    run = {"loss": [1.2, 1.0], "val_loss": [1.3, 1.1], "accuracy": [0.5, 0.6]}
    history = pd.DataFrame({"epoch": [0, 1, 0, 1], **{k: v * 2 for k, v in run.items()}})
    history["val_accuracy"] = [0.45, 0.55, 0.46, 0.57]
    history["member"] = [1, 1, 2, 2]
    accuracy = plots.learning_curves(history).axes[1]
    curves = {line.get_label(): list(line.get_ydata()) for line in accuracy.get_lines()}
    assert curves["val (member 2)"] == [0.46, 0.57]
    assert set(curves) == {f"{s} (member {m})" for s in ("train", "val") for m in (1, 2)}
    single = plots.learning_curves(history[history["member"] == 1].drop(columns="member"))
    assert {line.get_label() for line in single.axes[0].get_lines()} == {"train", "val"}
    ticks = [tick for ax in single.axes for tick in ax.get_xticks()]
    assert ticks and all(float(tick).is_integer() for tick in ticks)  # whole epochs on a short run


def test_learning_curves_name_the_loss() -> None:
    """The loss axis said only "loss": which loss, and whether label smoothing raised its floor,
    a student had to look up in training.py."""
    history = pd.DataFrame(
        {"epoch": [0, 1], "loss": [1.2, 1.0], "val_loss": [1.3, 1.1]}
        | {"accuracy": [0.5, 0.6], "val_accuracy": [0.4, 0.6]}
    )
    assert plots.learning_curves(history).axes[0].get_ylabel() == "cross-entropy loss"
    smoothed = plots.learning_curves(history, loss="cross-entropy loss, label smoothing 0.1")
    assert smoothed.axes[0].get_ylabel() == "cross-entropy loss, label smoothing 0.1"


def test_learning_curves_mark_the_epoch_the_saved_model_is_from() -> None:
    """The saved model is from the best val epoch, often not the last; nothing showed which."""
    history = pd.DataFrame(
        {"epoch": [0, 1, 2], "loss": [1.2, 1.0, 0.9], "val_loss": [1.3, 1.0, 1.2]}
        | {"accuracy": [0.5, 0.6, 0.7], "val_accuracy": [0.4, 0.6, 0.5]}
    )
    fig = plots.learning_curves(history, best_epoch=2)
    for ax in fig.axes:
        kept = [line for line in ax.get_lines() if line.get_label() == "kept: epoch 2"]
        assert len(kept) == 1 and list(kept[0].get_xdata()) == [2, 2]
    named = plots.learning_curves(history, best_epoch=2, data="fer2013")
    assert named.get_suptitle() == "Learning curves on fer2013 data"  # a saved figure says which
    assert named.axes[1].get_ylim() == (0, 1)  # accuracy on one scale: runs compare by eye


def test_a_gallery_without_mistakes_says_so() -> None:
    fig = plots.mistakes_gallery(
        np.zeros((2, 48, 48), np.uint8), np.array([0, 1]), np.eye(2), ("a", "b"), np.array([], int)
    )
    assert [t.get_text() for t in fig.axes[0].texts] == ["no mistakes to show"]


def test_per_class_bars_name_each_class_with_its_face_count() -> None:
    """A rare class's bars rest on few faces; the figure says how few."""
    per_class = pd.DataFrame(
        {"precision": [0.9, 0.5], "recall": [0.8, 0.25], "f1": [0.85, 0.33], "support": [40, 4]},
        index=["happy", "disgust"],
    )
    ax = plots.per_class_bars(per_class, "Per class").axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["happy\n40 faces", "disgust\n4 faces"]
    heights = sorted(round(bar.get_height(), 2) for bar in ax.patches if bar.get_height())
    assert heights == [0.25, 0.33, 0.5, 0.8, 0.85, 0.9]
    assert ax.get_ylim() == (0, 1)


def test_pixel_statistics_print_as_rounded() -> None:
    """float32 means printed as 134.720001 however they were rounded."""
    from facial_emotion.data.prepared import LabelledImages, PreparedData

    faces = np.arange(3 * 48 * 48, dtype=np.uint64).reshape(3, 48, 48) % 251
    split = LabelledImages(faces.astype(np.uint8), np.array([0, 1, 0]))
    data = PreparedData(("a", "b"), {"train": split, "val": split})
    table = plots.pixel_statistics(data)
    assert all(len(repr(v).partition(".")[2]) <= 2 for v in table.loc["train"])


def test_reliability_diagram_draws_the_model_beside_the_diagonal() -> None:
    table = pd.DataFrame(
        {"from": [0.5, 0.9], "to": [0.6, 1.0], "faces": [2, 4], "confidence": [0.55, 0.95],
         "accuracy": [1.0, 0.5]}
    )  # fmt: skip
    ax = plots.reliability_diagram(table, "t").axes[0]
    diagonal, model = ax.get_lines()
    assert list(diagonal.get_xdata()) == [0, 1] and list(model.get_ydata()) == [1.0, 0.5]
    assert [t.get_text() for t in ax.texts] == ["2", "4"]  # each point's face count


def test_reliability_diagram_hides_no_point_under_its_legend() -> None:
    """The legend sat in the upper left, where a small group of unsure faces that were all read
    right lands: the default run's report hid its point (0.30, 1.0) and face count under it."""
    table = pd.DataFrame(
        {"from": [0.2, 0.3, 0.9], "to": [0.3, 0.4, 1.0], "faces": [1, 4, 196],
         "confidence": [0.298, 0.374, 0.975], "accuracy": [1.0, 0.5, 0.959]}
    )  # fmt: skip
    fig = plots.reliability_diagram(table, "t")
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    points = ax.transData.transform(table[["confidence", "accuracy"]].to_numpy())
    assert not any(legend.contains(x, y) for x, y in points)
    assert not any(legend.overlaps(t.get_window_extent()) for t in ax.texts)


def test_confusion_heatmap_names_the_true_classes_level_to_be_read() -> None:
    """seaborn turned the true classes' names on their side, each read with the head tilted,
    where the predicted ones across the foot read level."""
    classes = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
    matrix = pd.DataFrame(np.eye(7), index=classes, columns=classes)
    fig = plots.confusion_heatmap(matrix, "t")
    fig.canvas.draw()
    ax = fig.axes[0]
    names = ax.get_yticklabels()
    assert [t.get_text() for t in names] == classes
    assert all(t.get_rotation() == 0 for t in names)
    title = ax.yaxis.label.get_window_extent()
    assert not any(title.overlaps(t.get_window_extent()) for t in names)
    across = [t.get_window_extent() for t in ax.get_xticklabels()]
    assert not any(a.overlaps(b) for a, b in itertools.pairwise(across))


def test_faces_labelled_two_ways_show_each_face_beside_its_training_copy() -> None:
    faces = np.random.default_rng(0).integers(0, 256, (3, 48, 48), dtype=np.uint8)
    data = prepared.PreparedData(
        ("happy", "sad"),
        {
            "train": prepared.LabelledImages(faces[:2], np.array([0, 1])),
            "val": prepared.LabelledImages(faces[2:], np.array([1])),
        },
    )
    fig = plots.faces_labelled_two_ways(data, [("val", 0, 0), ("train", 1, 0)], limit=1, columns=2)
    drawn = [(ax.get_title(), ax.images[0].get_array().tolist()) for ax in fig.axes if ax.images]
    assert drawn == [("val: sad", faces[2].tolist()), ("train: happy", faces[0].tolist())]
    assert fig.get_suptitle() == "The same face under two labels (1 of 2 shown)"


def _told_apart_without_colour(ax) -> list[str]:
    """Each hue's hatch, bars and legend key alike; a red-green colour-blind reader (or a grey
    print) told the splits and metrics apart by nothing else."""
    hatches = [{bar.get_hatch() or "" for bar in bars} for bars in ax.containers]
    assert all(len(h) == 1 for h in hatches)
    keys = [key.get_hatch() or "" for key in ax.get_legend().legend_handles]
    assert keys == [h.pop() for h in hatches]
    assert len(set(keys)) == len(keys)
    return keys


def test_bars_by_split_or_metric_differ_in_more_than_colour() -> None:
    from facial_emotion.data.prepared import LabelledImages, PreparedData

    split = LabelledImages(np.zeros((2, 48, 48), np.uint8), np.array([0, 1]))
    data = PreparedData(("a", "b"), {"train": split, "val": split, "test": split})
    assert len(_told_apart_without_colour(plots.class_distribution(data).axes[0])) == 3
    per_class = pd.DataFrame(
        {"precision": [0.9, 0.5], "recall": [0.8, 0.25], "f1": [0.85, 0.33], "support": [40, 4]},
        index=["happy", "disgust"],
    )
    ax = plots.per_class_bars(per_class, "Per class").axes[0]
    assert len(_told_apart_without_colour(ax)) == 3
    lines = plots.intensity_histogram(data).axes[0].patches  # histtype="step": one per split
    assert len({line.get_linestyle() for line in lines}) == 3


def test_a_figure_describes_itself_for_its_alt_text() -> None:
    """The per-class bars have no x label (the classes name themselves): their alt text said
    "against position"."""
    per_class = pd.DataFrame(
        {"precision": [0.9, 0.5], "recall": [0.8, 0.25], "f1": [0.85, 0.33], "support": [40, 4]},
        index=["happy", "disgust"],
    )
    text = repr(plots.per_class_bars(per_class, "Per class"))
    assert text == (
        "Figure. Per class: share of faces (0 to 1) against happy 40 faces, disgust 4 faces; "
        "key: precision, recall, f1."
    )


def test_dvc_draws_the_classes_in_the_order_of_the_figures(tmp_path) -> None:
    """DVC's confusion template sorts classes alphabetically (angry, disgust, fear, happy, neutral,
    sad, surprise) and so did its bars: the PNG and tables read angry ... surprise, neutral."""
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    from facial_emotion.labels import EMOTIONS

    repo = Path(__file__).resolve().parents[1]
    plots_only = {"plots": yaml.safe_load((repo / "dvc.yaml").read_text())["plots"]}
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump(plots_only, sort_keys=False))
    dvc = [str(Path(sys.executable).with_name("dvc"))]
    subprocess.run([*dvc, "init", "--no-scm", "-q"], cwd=tmp_path, check=True)
    shutil.copytree(repo / ".dvc" / "plots", tmp_path / ".dvc" / "plots")
    (tmp_path / "reports" / "evaluate").mkdir(parents=True)
    (tmp_path / "reports" / "train").mkdir()
    (tmp_path / "reports/train/history.csv").write_text(
        "epoch,accuracy,val_accuracy,loss,val_loss\n"
    )
    pairs = "".join(f"{a},{p}\n" for a, p in itertools.product(sorted(EMOTIONS), repeat=2))
    (tmp_path / "reports/evaluate/confusion.csv").write_text("actual,predicted\n" + pairs)
    rows = "".join(f"{name},0.5,0.5,0.5\n" for name in sorted(EMOTIONS))
    (tmp_path / "reports/evaluate/per_class.csv").write_text("class,precision,recall,f1\n" + rows)
    shown = subprocess.run(
        [*dvc, "plots", "show", "--json"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    drawn = json.loads(shown.stdout)["data"]
    (confusion,) = drawn["Confusion matrix"]
    encoding = confusion["content"]["spec"]["encoding"]
    assert encoding["x"]["sort"] == encoding["y"]["sort"] == list(EMOTIONS)
    for title in ("Recall per class", "F1 per class"):
        (bars,) = drawn[title]
        assert bars["content"]["encoding"]["y"]["sort"] == list(EMOTIONS)


def test_the_data_source_reads_as_a_line_per_setting() -> None:
    """01_explore printed `source: {'name': 'synthetic', 'path': None, ...}`, a raw dict."""
    source = {
        "name": "ckplus",
        "path": "/data/CK+48",
        "format": "folders",
        "splits": "by subject, seeded and roughly stratified (seed 42, val 0.1, test 0.1)",
        "subjects": {"train": 90, "val": 12, "test": 11},
        "carving": {"seed": 42, "val_fraction": 0.1},
        "missing": None,
        # it read "test ['angry', 'sad']", a Python list
        "faceless_classes_by_split": {"val": ["fear"], "test": ["angry", "sad"]},
    }
    assert plots.source_summary(source).splitlines() == [
        "ckplus data from /data/CK+48 (folders)",
        "  splits: by subject, seeded and roughly stratified (seed 42, val 0.1, test 0.1)",
        "  subjects: train 90, val 12, test 11",
        "  carving: seed 42, val_fraction 0.1",
        "  faceless_classes_by_split: val (fear), test (angry, sad)",
    ]
    synthetic = {"name": "synthetic", "path": None, "format": "generated", "splits": "drawn"}
    assert plots.source_summary(synthetic) == "synthetic data (generated)\n  splits: drawn"


def test_data_prepared_without_a_manifest_is_not_named_none(tmp_path: Path) -> None:
    """Data prepared by an old version has no manifest: explore printed 'None data from ...'."""
    source = prepared.recorded_source(tmp_path)
    assert plots.source_summary(source) == f"Prepared data from {tmp_path}"
