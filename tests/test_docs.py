"""The commands, settings and links that README.md, BENCHMARKS.md, data.md and the model card show
still exist: these documents had grown over many sessions, each change checked by hand against
the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from facial_emotion.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "BENCHMARKS.md", "data.md", "src/facial_emotion/weights/fer2013.md")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
# a program and the rest of its command line, up to a shell comment
COMMAND = re.compile(
    r"(?:facial-emotion (?P<cli>\w+)|(?P<script>\w+)\.py|-m facial_emotion\.(?P<module>\w+))"
    r"(?P<rest>[^#]*)"
)

# every script's --help in one interpreter, printed as JSON {path: help}
HELP_OF_EACH = """
import contextlib, io, json, runpy, sys
helps = {}
for script in sys.argv[1:]:
    sys.path.insert(0, script.rpartition("/")[0])  # its folder's helper modules
    sys.argv = [script, "--help"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        runpy.run_path(script, run_name="__main__")
    helps[script] = out.getvalue()
print(json.dumps(helps))
"""


def code_in(text: str) -> list[str]:
    """The document's code: indented and fenced blocks, a command continued with ``\\`` joined
    into one line, and inline code spans, which may run across a line break."""
    code, prose, command, fenced = [], [], "", False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced or line.startswith("    "):
            command += " " + line.strip().removesuffix("\\")
            if not line.rstrip().endswith("\\"):
                code.append(command)
                command = ""
        else:
            prose.append(line)
    return code + re.findall(r"`([^`]+)`", " ".join(prose))


def script_helps() -> dict[str, str]:
    """``--help`` of every benchmark and example script and of the package's ``-m`` modules
    with a command line, by the name the documents call them."""
    scripts = sorted(str(p) for p in [*REPO.glob("benchmarks/*.py"), *REPO.glob("examples/*.py")])
    done = subprocess.run(
        [sys.executable, "-c", HELP_OF_EACH, *scripts],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    helps = {Path(path).stem: text for path, text in json.loads(done.stdout).items()}
    for module in ("prepare", "check_params"):
        helps[f"-m {module}"] = subprocess.run(
            [sys.executable, "-m", f"facial_emotion.{module}", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=REPO,
        ).stdout
    return helps


def cli_options() -> dict[str, set[str]]:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    return {
        name: {option for action in sub._actions for option in action.option_strings}
        for name, sub in commands.items()
    }


def test_every_option_the_documents_show_exists() -> None:
    """`facial-emotion X --opt`, `benchmarks/Y.py --opt` and `python -m facial_emotion.Z --opt`
    in the documents name options their parsers take: a renamed or removed option fails here."""
    cli, helps = cli_options(), script_helps()
    wrong = []
    for doc in DOCS:
        for code in code_in((REPO / doc).read_text(encoding="utf-8")):
            for match in COMMAND.finditer(code):
                options = OPTION.findall(match["rest"])
                if match["cli"]:
                    known = cli.get(match["cli"])
                    if known is None:
                        wrong.append(f"{doc}: facial-emotion {match['cli']}: no such command")
                        continue
                    wrong += [
                        f"{doc}: facial-emotion {match['cli']} {o}"
                        for o in options
                        if o not in known
                    ]
                    continue
                name = match["script"] or f"-m {match['module']}"
                if name not in helps:  # a file of another program (setup.py, a user's script)
                    continue
                wrong += [
                    f"{doc}: {name} {o}"
                    for o in options
                    if not re.search(re.escape(o) + r"(?![\w-])", helps[name])
                ]
    assert not wrong, "options the documents show that the programs do not take:\n" + "\n".join(
        wrong
    )


def test_every_setting_the_documents_set_is_a_params_key() -> None:
    """`-S key=value` (dvc exp run) and `--set key=value` (the benchmarks) name params.yaml keys."""
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    wrong = []
    for doc in DOCS:
        for code in code_in((REPO / doc).read_text(encoding="utf-8")):
            keys = re.findall(r"(?:-S|--set) +['\"]?([a-z_][\w.]*)=", code)
            wrong += [f"{doc}: {key}" for key in keys if not _has_key(params, key)]
    assert not wrong, "settings the documents set that params.yaml lacks:\n" + "\n".join(wrong)


def test_commands_the_documents_show_give_the_required_options() -> None:
    """`facial-emotion X --opt ...` in the documents gives every option X requires: the card's
    `facial-emotion evaluate --split val` stopped with "the following arguments are required:
    --data". A bare `facial-emotion X`, with no options, names the command in prose."""
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    required = {
        name: {o for action in sub._actions if action.required for o in action.option_strings}
        for name, sub in commands.items()
    }
    wrong = []
    for doc in DOCS:
        for code in code_in((REPO / doc).read_text(encoding="utf-8")):
            for match in COMMAND.finditer(code):
                options = set(OPTION.findall(match["rest"]))
                missing = required.get(match["cli"] or "", set()) - options
                if match["cli"] and options and missing:
                    wrong.append(f"{doc}: facial-emotion {match['cli']}: {', '.join(missing)}")
    assert not wrong, "commands lacking a required option:\n" + "\n".join(wrong)


SHIPPED = REPO / "src/facial_emotion/weights"


def test_shipped_models_the_documents_pass_are_paths_from_the_root() -> None:
    """A command that passes a shipped model (`--model`, `train.init_weights=`) names it by its
    path from the repository root: the card's `--model fer2013.keras` stopped with "model not
    found" from the root, where every other command in the documents is run."""
    shipped = {p.name for p in SHIPPED.iterdir()}
    wrong = []
    for doc in DOCS:
        for code in code_in((REPO / doc).read_text(encoding="utf-8")):
            for value in re.findall(r"(?:--model[ =]|init_weights=)([^\s\]`'\"]+)", code):
                for path in value.split("+"):  # compare.py's a.keras+b.keras
                    if Path(path).name in shipped and not (REPO / path).is_file():
                        wrong.append(f"{doc}: {value}")
    assert not wrong, "shipped models named by a path that is not the root's:\n" + "\n".join(wrong)


def _has_key(params: dict, key: str) -> bool:
    """Whether the dotted ``key`` (``train.augment.rotation``) is in ``params``."""
    node: object = params
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def headings(path: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return [anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.M)]


@pytest.mark.parametrize("doc", DOCS)
def test_links_to_sections_and_files_resolve(doc: str) -> None:
    path = REPO / doc
    text = path.read_text(encoding="utf-8")
    wrong = []
    for target, section in re.findall(r"\]\(([^)#\s:]*)(?:#([^)\s]+))?\)", text):
        linked = (path.parent / target) if target else path
        if not linked.exists():
            wrong.append(f"({target}): no such file")
        elif section and section not in headings(linked):
            wrong.append(f"({target}#{section}): no such section")
    assert not wrong, f"{doc}: " + "; ".join(wrong)


def test_readme_contents_lists_every_section() -> None:
    """The Contents line at the top names every ``##`` section, in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    contents = text.partition("\nContents:")[2].partition("\n\n")[0]
    linked = re.findall(r"\]\(#([^)]+)\)", contents)
    sections = [anchor(h) for h in re.findall(r"^## (.+)$", text, flags=re.M)]
    assert linked == sections, f"README.md Contents: {linked}, sections: {sections}"
