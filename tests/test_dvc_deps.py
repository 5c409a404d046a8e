"""dvc.yaml lists every source file a stage runs, so `dvc repro` re-runs a stage whose code changed.

A missing dependency is silent: DVC reports the stage up to date and the user's metrics come from
the old code. This test follows each stage's imports through the package to catch it.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
STAGES = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
SUBCOMMAND = re.compile(r"\bmain\(\[\s*\"(\w+)\"")


def _module_file(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(source: str, package: str) -> set[str]:
    """Names of facial_emotion modules that ``source`` imports (absolute or relative)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names}
            submodules = {name for name in submodules if _module_file(name)}
            found |= submodules if len(submodules) == len(node.names) else submodules | {base}
    return {name for name in found if name.split(".")[0] == "facial_emotion" and _module_file(name)}


def _closure(entry_sources: list[str]) -> set[Path]:
    """Every module file reached from the entry sources.

    Package ``__init__`` files are neither listed nor followed: they hold only package glue (the
    top package's lazy ``EmotionRecognizer``, the CLI's parser). The CLI imports its subcommands by
    name at run time, which no import walk sees, so a module that runs ``main(["export", ...])``
    is taken to run ``facial_emotion.cli.export``.
    """
    pending = set().union(*(_imported_modules(src, "facial_emotion") for src in entry_sources))
    seen: set[str] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(module)
        if path.name != "__init__.py":
            text = path.read_text()
            pending |= _imported_modules(text, module.rpartition(".")[0]) - seen
            pending |= {f"facial_emotion.cli.{name}" for name in SUBCOMMAND.findall(text)} - seen
    files = {_module_file(module) for module in seen}
    return {path.relative_to(REPO) for path in files if path.name != "__init__.py"}


def _entry_sources(cmd: str) -> list[str]:
    sources = [f"import {module}" for module in re.findall(r"python -m ([\w.]+)", cmd)]
    for notebook in re.findall(r"notebooks/\S+\.ipynb", cmd):
        cells = json.loads((REPO / notebook).read_text())["cells"]
        sources += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    return sources


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_lists_every_module_it_runs(stage: str) -> None:
    spec = STAGES[stage]
    deps = [Path(dep) for dep in spec.get("deps", [])]
    needed = _closure(_entry_sources(spec["cmd"]))
    assert needed, f"{stage}: no facial_emotion module found in {spec['cmd']!r}"
    missing = sorted(str(f) for f in needed if not any(f == d or d in f.parents for d in deps))
    assert not missing, (
        f"dvc.yaml stage {stage!r} runs these files but does not list them: {missing}"
    )
    # a file listed but never run re-runs the stage whenever it changes (a training callback
    # re-ran the export)
    unused = sorted(str(d) for d in deps if d.suffix == ".py" and d not in needed)
    assert not unused, f"dvc.yaml stage {stage!r} lists files it does not run: {unused}"


@pytest.mark.skipif(not (REPO / ".git").exists(), reason="needs the project's Git repository")
def test_a_crlf_checkout_keeps_the_bytes_dvc_hashes(tmp_path: Path) -> None:
    """Git for Windows turns LF into CRLF on checkout; DVC would then re-run every stage."""
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "-c", "core.autocrlf=true", "clone", "-q", str(REPO), str(clone)], check=True
    )
    sources = [clone / "dvc.yaml", clone / "params.yaml", *sorted((clone / "src").rglob("*.py"))]
    sources += sorted((clone / "notebooks").glob("*.ipynb"))
    converted = [str(path.relative_to(clone)) for path in sources if b"\r\n" in path.read_bytes()]
    assert not converted, f"a CRLF checkout changed these files: {converted[:5]}"
