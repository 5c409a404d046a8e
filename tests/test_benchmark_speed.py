"""The speed benchmarks' output says the host it was measured on."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def test_the_host_gives_the_cpu_and_its_speed_flags_or_unknown_without_cpuinfo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A committed speed figure could not be matched to a row of the speed table: an AMD EPYC
    with AVX-512 and bfloat16 and one with AVX2 only have the same name in a VM."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    from timing import speed_host

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(
        "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f avx512_bf16 xsave\n"
    )
    found = speed_host(cpuinfo)
    assert found["cpu"] == "AMD EPYC" and found["cpus"] >= 1
    assert (found["avx512f"], found["avx512_bf16"], found["amx_bf16"]) == (True, True, False)

    elsewhere = speed_host(tmp_path / "none")  # macOS, Windows: no crash, and no guess
    assert elsewhere["cpu"]
    assert {elsewhere[flag] for flag in ("avx512f", "avx512_bf16", "amx_bf16")} == {"unknown"}


def test_the_inference_json_line_says_the_host(
    tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, load_benchmark
) -> None:
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports timing beside it
    inference = load_benchmark("inference")
    args = ["inference.py", "--model", str(tiny_model_path), "--frames", "3", "--repeats", "1"]
    monkeypatch.setattr(sys, "argv", args)
    monkeypatch.delattr(os, "getloadavg")  # as on Windows: the run ended in an AttributeError

    inference.main()

    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["load_average_1min"] is None
    assert figures["tflite_int8_ms_per_face_batch1"] > 0
    assert figures["host"]["cpu"] and figures["host"]["cpus"] >= 1
    assert {"avx512f", "avx512_bf16", "amx_bf16"} <= set(figures["host"])
