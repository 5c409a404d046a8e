"""Figures shared by the notebooks and reports (seaborn/matplotlib); each returns its Figure."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from facial_emotion.data.prepared import PreparedData
from facial_emotion.files import atomic_path

# Okabe-Ito-like colours that stay apart for colour-blind readers (matplotlib's default orange and
# green look alike to a red-green colour-blind eye), and a second cue beside each colour, so a
# split or metric is also told in grey print: a hatch per group of bars, a dash per line.
PALETTE = "colorblind"
HATCHES = ("", "//", "..", "xx", "\\\\", "++", "oo", "--")
LINESTYLES = ("-", "--", ":", "-.")


class DescribedFigure(plt.Figure):
    """A figure whose text form (Jupyter's ``text/plain`` beside the picture) describes it, so
    the HTML reports can give each picture that description as its alt text."""

    def __repr__(self) -> str:
        return describe(self)


def _subplots(*args: Any, **kwargs: Any) -> tuple[DescribedFigure, Any]:
    """``plt.subplots`` making a :class:`DescribedFigure`, so every figure here has alt text."""
    return plt.subplots(*args, FigureClass=DescribedFigure, **kwargs)


def describe(fig: plt.Figure, most: int = 24) -> str:
    """A figure in words, from its own text: its title, and each plot's title, axes and legend,
    or the captions of a grid of pictures (the first ``most`` of them)."""
    parts = [f"Figure: {fig.get_suptitle()}"] if fig.get_suptitle() else ["Figure"]
    captions = []
    for ax in fig.axes:
        if not ax.axison:  # a picture: its caption says what it is
            captions += [ax.get_title(loc) for loc in ("left", "center") if ax.get_title(loc)]
            continue
        ticks = ", ".join(t.get_text().replace("\n", " ") for t in ax.get_xticklabels())
        axes = f"{ax.get_ylabel() or 'values'} against {ax.get_xlabel() or ticks}"
        legend = ax.get_legend()
        keys = f"; key: {', '.join(t.get_text() for t in legend.get_texts())}" if legend else ""
        parts.append(f"{ax.get_title() or 'plot'}: {axes}{keys}")
    if captions:
        more = f" and {len(captions) - most} more" if len(captions) > most else ""
        shown = ", ".join(c.replace("\n", " ") for c in captions[:most])
        parts.append(f"pictures captioned {shown}{more}")
    return ". ".join(parts) + "."


def _hatch_by_hue(ax: plt.Axes) -> None:
    """Hatch each hue's bars and its legend key its own way: seaborn tells them by colour alone."""
    keys = legend.legend_handles if (legend := ax.get_legend()) else []
    for k, bars in enumerate(ax.containers):
        hatch = HATCHES[k % len(HATCHES)]
        for patch in [*bars, *keys[k : k + 1]]:
            patch.set_hatch(hatch)
            patch.set_edgecolor("white")  # the hatch's colour: white lines over the fill


def class_distribution(data: PreparedData) -> plt.Figure:
    counts = pd.DataFrame(data.counts()).rename_axis("emotion").reset_index()
    long = counts.melt("emotion", var_name="split", value_name="images")
    fig, ax = _subplots(figsize=(8, 4))
    sns.barplot(long, x="emotion", y="images", hue="split", palette=PALETTE, ax=ax)
    _hatch_by_hue(ax)
    ax.set_title("Images per class and split")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1, 1))  # not over a bar
    fig.tight_layout()
    return fig


def sample_grid(
    images: np.ndarray, labels: np.ndarray, classes: tuple[str, ...], per_class: int, seed: int = 0
) -> plt.Figure:
    """``per_class`` random faces for each class, one row per class: a look at what each label
    holds before trusting any figure computed on it. Seeded, so a report shows the same faces."""
    rng = np.random.default_rng(seed)
    fig, axes = _subplots(
        len(classes), per_class, figsize=(per_class * 1.1, len(classes) * 1.2), squeeze=False
    )
    for row, name in enumerate(classes):
        idx = np.flatnonzero(labels == row)
        chosen: np.ndarray | list[int] = (
            rng.choice(idx, min(per_class, len(idx)), replace=False) if len(idx) else []
        )
        for col, ax in enumerate(axes[row]):
            ax.axis("off")
            if col < len(chosen):
                ax.imshow(images[chosen[col]], cmap="gray", vmin=0, vmax=255)
        axes[row][0].set_title(name, loc="left", fontsize=9)
    fig.suptitle("Random faces, one row per class", fontsize=10)
    fig.tight_layout()
    return fig


def source_summary(source: dict[str, Any]) -> str:
    """Where the prepared faces came from (``PreparedData.source``), a line per setting under
    the data's name, where a printed dict ran on as one line; a nested setting (``carving``,
    ``subjects``) reads ``seed 42, val_fraction 0.1``, a list or dict in one
    (``faceless_classes_by_split``, ``faceless_by_class_by_split``) ``test (angry, sad)`` or
    ``val (sad 2)``, and an unset one is left out. Text, not a table: pandas cuts a cell at 50
    characters, and ``splits`` says how in more."""

    def worded(value: Any, nested: bool = False) -> str:
        if isinstance(value, dict):
            listed = ", ".join(f"{key} {worded(item, nested=True)}" for key, item in value.items())
            return f"({listed})" if nested else listed
        if isinstance(value, list):  # in brackets within a dict, whose items commas part
            listed = ", ".join(map(str, value))
            return f"({listed})" if nested else listed
        return str(value)

    where = f" from {source['path']}" if source.get("path") else ""
    kind = f" ({source['format']})" if source.get("format") else ""
    rest = {k: v for k, v in source.items() if k not in ("name", "path", "format")}
    # data prepared by an old version has no manifest, so no name: "Prepared data", not "None data"
    name = f"{source['name']} data" if source.get("name") else "Prepared data"
    lines = [f"{name}{where}{kind}"]
    lines += [f"  {key}: {worded(value)}" for key, value in rest.items() if value is not None]
    return "\n".join(lines)


def pixel_statistics(data: PreparedData) -> pd.DataFrame:
    """Mean, spread and extremes of pixel intensity per split: lighting and contrast at a glance."""
    rows = []
    for name, split in data.splits.items():
        # float64: float32's means printed as 134.720001 however they were rounded
        per_image = split.x.reshape(len(split.x), -1).astype(np.float64)
        rows.append(
            {
                "split": name,
                "images": len(split.x),
                "mean": per_image.mean(),
                "std": per_image.std(),
                "mean_image_contrast": per_image.std(axis=1).mean(),
                "dark_images_%": 100 * (per_image.mean(axis=1) < 40).mean(),
                "flat_images_%": 100 * (per_image.std(axis=1) < 5).mean(),
            }
        )
    return pd.DataFrame(rows).set_index("split").round(2)


def intensity_histogram(data: PreparedData) -> plt.Figure:
    fig, ax = _subplots(figsize=(7, 3.5))
    colours = sns.color_palette(PALETTE)
    for k, (name, split) in enumerate(data.splits.items()):
        sample = split.x[:2000].ravel()
        ax.hist(
            sample,
            bins=64,
            range=(0, 255),
            density=True,
            histtype="step",
            label=name,
            color=colours[k % len(colours)],
            linestyle=LINESTYLES[k % len(LINESTYLES)],
            linewidth=1.5,
        )
    ax.set(xlabel="pixel intensity", ylabel="density", title="Pixel intensity per split")
    ax.legend()
    fig.tight_layout()
    return fig


def learning_curves(
    history: pd.DataFrame,
    best_epoch: int | list[int] | None = None,
    data: str = "",
    loss: str = "cross-entropy loss",
) -> plt.Figure:
    """Train and val curves; an ensemble's history (a ``member`` column) gets a pair per member.
    ``best_epoch`` (counted from 1; one per member) marks the epoch the saved model is from;
    ``data`` names the data set in the title, so a saved figure says what it shows; ``loss``
    (``training.loss_name``) names the loss on its axis."""
    fig, axes = _subplots(1, 2, figsize=(10, 3.8))
    if data:
        fig.suptitle(f"Learning curves on {data} data")
    kept = [best_epoch] if isinstance(best_epoch, int) else list(best_epoch or [])
    for ax in axes:
        for k, epoch in enumerate(kept):
            label = f"kept: epoch {epoch}" if len(kept) == 1 else f"kept: member {k + 1}"
            ax.axvline(epoch, color="grey", linestyle=":", linewidth=1, label=label)
    runs = history.groupby("member") if "member" in history else [(None, history)]
    for member, run in runs:
        suffix = "" if member is None else f" (member {member})"
        for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
            ax.plot(run["epoch"] + 1, run[metric], label=f"train{suffix}")
            ax.plot(run["epoch"] + 1, run[f"val_{metric}"], "--", label=f"val{suffix}")
    for ax, metric, label in zip(axes, ("loss", "accuracy"), (loss, "accuracy"), strict=True):
        ax.set(xlabel="epoch", ylabel=label, title=metric.capitalize())
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 1.5 on a short run
        ax.legend()
    axes[1].set_ylim(0, 1)  # fixed, so two runs' figures compare at a glance
    fig.tight_layout()
    return fig


def per_class_bars(per_class: pd.DataFrame, title: str) -> plt.Figure:
    """Precision, recall and F1 side by side per class, each class labelled with its face count:
    a rare class's bars rest on few faces. Classes with no faces show no bars."""
    long = per_class[["precision", "recall", "f1"]].rename_axis("class").reset_index()
    long = long.melt("class", var_name="metric", value_name="value")
    fig, ax = _subplots(figsize=(9, 4))
    sns.barplot(long, x="class", y="value", hue="metric", palette=PALETTE, ax=ax)
    _hatch_by_hue(ax)
    ax.set_xticks(
        range(len(per_class)),
        [f"{name}\n{int(n)} faces" for name, n in per_class["support"].items()],
    )
    ax.set(xlabel="", ylabel="share of faces (0 to 1)", ylim=(0, 1), title=title)
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1, 1))  # not over a bar
    fig.tight_layout()
    return fig


def confusion_heatmap(matrix: pd.DataFrame, title: str, fmt: str = ".2f") -> plt.Figure:
    fig, ax = _subplots(figsize=(7, 6))
    sns.heatmap(matrix, annot=True, fmt=fmt, cmap="Blues", square=True, cbar=False, ax=ax)
    ax.tick_params(axis="y", labelrotation=0)  # seaborn stands the true classes on their side
    ax.set(xlabel="predicted", ylabel="true", title=title)
    fig.tight_layout()
    return fig


def reliability_diagram(calibration: pd.DataFrame, title: str) -> plt.Figure:
    """Accuracy against confidence per group of faces (``Evaluation.calibration``), beside the
    diagonal a calibrated model would follow; each point is labelled with its face count."""
    fig, ax = _subplots(figsize=(5, 5.6))  # taller by the legend, under the square plot
    ax.plot([0, 1], [0, 1], linestyle="--", color="gray", label="calibrated")
    ax.plot(calibration["confidence"], calibration["accuracy"], marker="o", label="model")
    for row in calibration.itertuples():
        ax.annotate(f"{row.faces}", (row.confidence, row.accuracy), textcoords="offset points",
                    xytext=(4, -10), fontsize=7)  # fmt: skip
    ax.set(
        xlabel="confidence (top probability)",
        ylabel="share read right",
        xlim=(0, 1),
        ylim=(0, 1),
        title=title,
    )
    # under the plot, not over a point: every corner can hold one (a small group of unsure
    # faces all read right lands in the upper left), and a count can stand past the right edge
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncols=2, frameon=False)
    fig.tight_layout()
    return fig


def mistakes_gallery(
    images: np.ndarray,
    y_true: np.ndarray,
    probs: np.ndarray,
    classes: tuple[str, ...],
    indices: np.ndarray,
    columns: int = 8,
) -> plt.Figure:
    """The most confident mistakes: true label, predicted label and its probability."""
    rows = max(1, int(np.ceil(len(indices) / columns)))
    # constrained layout sizes each row for its two-line titles, which tight_layout drew over
    # the faces of the row above
    fig, axes = _subplots(
        rows, columns, figsize=(columns * 1.5, rows * 2.0), squeeze=False, layout="constrained"
    )
    for ax in axes.ravel():
        ax.axis("off")
    for ax, i in zip(axes.ravel(), indices, strict=False):
        pred = int(probs[i].argmax())
        ax.imshow(images[i], cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{classes[y_true[i]]}→{classes[pred]}\n{probs[i, pred]:.0%}", fontsize=8)
    if not len(indices):
        axes[0, 0].text(0, 0.5, "no mistakes to show", fontsize=11)
    fig.suptitle("Most confident mistakes (true → predicted, its probability)")
    return fig


def faces_labelled_two_ways(
    data: PreparedData, pairs: Sequence[tuple[str, int, int]], limit: int = 12, columns: int = 4
) -> plt.Figure:
    """Up to ``limit`` of ``overlap.labelled_two_ways``'s pairs: each face beside the training
    face it repeats, with both labels, so the label noise can be judged by eye."""
    shown = pairs[:limit]
    rows = max(1, int(np.ceil(len(shown) / columns)))
    fig, axes = _subplots(
        rows, 2 * columns, figsize=(columns * 2.6, rows * 1.6), squeeze=False, layout="constrained"
    )
    for ax in axes.ravel():
        ax.axis("off")
    train = data.splits["train"]
    for k, (split, index, other) in enumerate(shown):
        row, col = divmod(k, columns)
        for ax, (name, part, i) in zip(
            axes[row, 2 * col : 2 * col + 2],
            ((split, data.splits[split], index), ("train", train, other)),
            strict=True,
        ):
            ax.imshow(part.x[i], cmap="gray", vmin=0, vmax=255)
            ax.set_title(f"{name}: {data.classes[part.y[i]]}", fontsize=8)
    if not shown:
        axes[0, 0].text(0, 0.5, "no face is held under two labels", fontsize=11)
    fig.suptitle(f"The same face under two labels ({len(shown)} of {len(pairs)} shown)")
    return fig


def save_figure(fig: plt.Figure, path: str | Path, dpi: int = 120) -> None:
    """Save atomically, so a report never points at a half-written image."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=Path(path).suffix.lstrip("."))


def accuracy_vs_time(curves: pd.DataFrame) -> plt.Figure:
    """Validation accuracy against cumulative training minutes, one line per training run."""
    fig, ax = _subplots(figsize=(7, 4))
    sns.lineplot(
        curves,
        x="train_minutes",
        y="val_accuracy",
        hue="run",
        style="run",
        markers=True,
        palette=PALETTE,
        ax=ax,
    )
    ax.set(
        xlabel="training minutes (2-core CPU)",
        ylabel="val accuracy",
        title="FER2013: validation accuracy per training time",
    )
    fig.tight_layout()
    return fig


def ablation_bars(results: pd.DataFrame, references: Sequence[str]) -> plt.Figure:
    """Val accuracy (flip TTA) per recipe variant, with the reference variants as vertical lines
    so a bar is read against the recipe and its seed-to-seed noise."""
    fig, ax = _subplots(figsize=(8.5, 0.4 * len(results) + 1.2))
    sns.barplot(results, y="variant", x="val_accuracy_tta", color="tab:blue", ax=ax)
    for name, style in zip(references, itertools.cycle(("-", ":", "--")), strict=False):
        for value in results.loc[results["variant"] == name, "val_accuracy_tta"]:
            ax.axvline(value, color="black", linestyle=style, label=name)
    low = results["val_accuracy_tta"].min()
    ax.set(
        xlim=(max(low - 0.05, 0), None),
        xlabel="val accuracy with flip TTA",
        ylabel="",
        title=f"FER2013 recipe ablation ({int(results['epochs'].max())} epochs per variant)",
    )
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)  # clear of the bars
    fig.tight_layout()
    return fig
