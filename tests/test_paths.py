"""Where notebooks run from: opened by hand in notebooks/, they must resolve the root's paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from facial_emotion.paths import enter_repo_root


def test_a_notebook_opened_in_a_subfolder_runs_from_the_repository_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    monkeypatch.chdir(notebooks)
    assert enter_repo_root() == tmp_path.resolve()
    assert Path.cwd() == tmp_path.resolve()


def test_outside_a_repository_the_notebook_is_told_to_open_inside_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="open the notebook inside the repository"):
        enter_repo_root()
    assert Path.cwd() == tmp_path
