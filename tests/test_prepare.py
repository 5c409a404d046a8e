"""The prepare stage as a user runs it: one clear line and no output on bad params."""

import subprocess
import sys
from pathlib import Path


def _prepare(tmp_path: Path, params: str) -> subprocess.CompletedProcess:
    (tmp_path / "params.yaml").write_text(params)
    return subprocess.run(
        [sys.executable, "-m", "facial_emotion.prepare", "--out", "prepared"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_prepare_writes_every_split_and_a_manifest(tmp_path: Path) -> None:
    result = _prepare(tmp_path, "data:\n  synthetic_samples: 210\n")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "prepared").iterdir()) == [
        "manifest.json",
        "test.npz",
        "train.npz",
        "val.npz",
    ]


def test_wrong_type_in_params_is_one_line(tmp_path: Path) -> None:
    result = _prepare(tmp_path, "data:\n  val_fraction: a tenth\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "prepare: error: params.yaml: data.val_fraction must be float, got 'a tenth'; "
        "fix the value in params.yaml"
    ]
    assert not (tmp_path / "prepared").exists()


def test_unknown_source_is_one_line(tmp_path: Path) -> None:
    result = _prepare(tmp_path, "data:\n  source: imagenet\n")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "imagenet" in result.stderr and "fer2013" in result.stderr
