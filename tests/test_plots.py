"""Figures a user reads in reports/: what they must show."""

import matplotlib

matplotlib.use("Agg")

import pandas as pd

from facial_emotion import plots


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
