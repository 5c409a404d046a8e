"""``benchmarks/fer2013.py``: one JSON line a paper can cite, on a tiny CSV of its own."""

import json
from pathlib import Path

import pytest
from data_fixtures import labelled_rows, pixel_csv

from facial_emotion.machine import host

REPO = Path(__file__).resolve().parents[1]


def test_the_json_line_says_the_seed_and_the_machine(
    tmp_path: Path, capsys, load_benchmark
) -> None:
    """Training minutes and images/s mean nothing without the CPU they were measured on, nor a
    figure without its seed: the line gave neither."""
    csv = pixel_csv(tmp_path / "fer2013.csv", labelled_rows({"Training": 4, "PublicTest": 2}, 7))
    args = ["--data", str(csv), "--architecture", "tiny", "--epochs", "1"]
    args += ["--params", str(REPO / "params.yaml"), "--run-dir", str(tmp_path / "runs")]
    args += ["--set", "train.batch_size=8", "--set", "seed=7"]

    assert load_benchmark("fer2013").main(args) == 0

    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["seed"] == 7
    assert figures["host"]["cpu"] and figures["host"]["cpus"] >= 1
    assert figures["host"]["tensorflow"].count(".") >= 1
    assert not any(key.startswith("test") for key in figures)  # val only: nothing held out read


def test_the_cpu_is_read_from_cpuinfo(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Made-up CPU @ 2.0GHz\nflags\t: sse\n")
    assert host(cpuinfo)["cpu"] == "Made-up CPU @ 2.0GHz"
    assert host(tmp_path / "none")["cpu"]  # no such file: platform's name, not a crash


def test_help_lists_every_architecture(capsys, load_benchmark) -> None:
    """--help stopped importing TensorFlow, and with it stopped listing the architectures, whose
    registry is Keras: the script names them itself, as the registry does."""
    from facial_emotion import models

    benchmark = load_benchmark("fer2013")
    assert benchmark.ARCHITECTURES == tuple(sorted(models.ARCHITECTURES))
    with pytest.raises(SystemExit):
        benchmark.main(["--help"])
    shown = capsys.readouterr().out
    assert f"{{{','.join(sorted(models.ARCHITECTURES))}}}" in shown, shown
