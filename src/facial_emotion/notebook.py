"""Run a pipeline notebook with papermill and publish it as ``reports/<name>.ipynb`` and ``.html``.

Both files are written under temporary names and renamed only when the whole notebook succeeded, so
a failed or interrupted stage never leaves a half-written report. A failing cell is reported as one
line (its exception), not as a notebook traceback.

Usage (from the repository root, as ``dvc.yaml`` does): ``python -m facial_emotion.notebook
notebooks/02_train.ipynb reports/train``
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from facial_emotion.config import read_params_file
from facial_emotion.errors import (
    FacialEmotionError,
    closed_streams_opened,
    output_escapes_what_it_cannot_encode,
)
from facial_emotion.files import atomic_path
from facial_emotion.native_log import native_log_filtered, without_native_log
from facial_emotion.paths import run_on_repository_code
from facial_emotion.stops import interrupted_status, sigterm_as_interrupt


def parameters_for(notebook: Path, params_file: Path) -> dict:
    """The params file's groups the notebook declares in its ``parameters`` cell; ``publish =
    True`` where it declares that: the stage writes the pipeline's outputs, where the notebook
    run by hand writes its own (``paths.output_root``); and ``params_file`` where it declares
    that, so the notebook reads and names the file given (``--params``): it read params.yaml,
    and a bad train value in other.yaml was blamed on params.yaml."""
    import papermill

    groups = read_params_file(params_file) if params_file.is_file() else {}
    if not isinstance(groups, dict):  # the notebook refuses it (and a missing file) in one line
        groups = {}
    declared = papermill.inspect_notebook(str(notebook))
    chosen = {name: value for name, value in groups.items() if name in declared}
    stage = {"publish": True, "params_file": str(params_file)}
    return {**chosen, **{name: value for name, value in stage.items() if name in declared}}


# training_callbacks.EpochHeartbeat's lines: progress for whoever watches the run, noise in its
# report (about 150 of them for the FER2013 recipe), where each epoch's own line says it all
_HEARTBEAT = re.compile(
    r"^epoch \d+/\d+: [\d.]+ (?:s|min) in(?:; the last took [\d.]+ (?:s|min))?\n", re.M
)


def without_log_noise(notebook: Any) -> Any:
    """The executed notebook with TensorFlow's C++ log lines taken out of its stderr outputs: they
    read like errors in a report (a harmless "E0000" about a newer graph attribute among them);
    and without training's per-minute progress lines."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            if output.get("name") == "stderr":
                output["text"] = _HEARTBEAT.sub("", without_native_log(output["text"]))
                if not output["text"].strip():
                    continue
            kept.append(output)
        cell.outputs = kept
    return notebook


def with_alt_text(html: str, notebook: Any) -> str:
    """The report's page with each output picture's alt text set to the output's text form,
    which ``plots.describe`` writes for the project's figures. nbconvert gave every picture
    "No description has been provided for this image", all a screen reader could say of it.

    Each picture is matched to its output by its data, not by its place: an output that nbconvert
    shows in another form (LaTeX, Markdown, HTML) would move every later text onto the wrong
    picture. Python's default text form (``<Figure size ...>``, ``<... Image object>``) says
    nothing, so such a picture keeps nbconvert's words."""
    from bs4 import BeautifulSoup

    texts = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = "".join(data.get("text/plain", ""))
            if not text or (text.startswith("<") and text.endswith(">")):
                continue
            for kind in ("image/png", "image/jpeg"):
                if kind in data:
                    texts[_data_url(kind, "".join(data[kind]))] = text
    page = BeautifulSoup(html, features="html.parser")
    for picture in page.select(".jp-RenderedImage img"):
        src = picture.get("src")  # one string: src is no multi-valued attribute, as class is
        if isinstance(src, str) and (alt := texts.get("".join(src.split()))):
            picture["alt"] = alt
    return str(page)


# Where a notebook needs the scripts nbconvert's page loads from a CDN: MathJax typesets LaTeX
# (in Markdown cells and outputs), require.js runs widgets and JavaScript outputs.
_MATH = re.compile(r"\$|\\\(|\\\[")
_MATH_KINDS = ("text/markdown", "text/latex")
_SCRIPT_KINDS = ("application/javascript", "application/vnd.jupyter.widget-view+json")
# an HTML output's script that loads its library through require.js (Plotly's notebook charts)
_REQUIRE = re.compile(r"<script[^>]*>[^<]*\brequire(?:js)?\s*[.(]", re.S)


def without_unused_remote_scripts(html: str, notebook: Any) -> str:
    """The report's page without the scripts that nbconvert links from cdnjs and the notebook
    does not use: require.js and MathJax, which the reports (no LaTeX, no widgets) never need.
    Both sat in the page's head and held it blank until their request ended: where the CDN does
    not answer (a captive portal, a firewall that drops packets) the report stayed blank for
    half a minute; and each opening told cdnjs that a report was read."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    outputs = [o.get("data", {}) for c in notebook.cells for o in c.get("outputs", [])]
    math = any(
        _MATH.search("".join(text))
        for text in [c.source for c in notebook.cells if c.cell_type == "markdown"]
        + [data[kind] for data in outputs for kind in _MATH_KINDS if kind in data]
    )
    scripts = (
        "widgets" in notebook.metadata
        or any(kind in data for data in outputs for kind in _SCRIPT_KINDS)
        or any(_REQUIRE.search("".join(data.get("text/html", ""))) for data in outputs)
    )
    defaults = HTMLExporter.class_traits()
    unused = [
        defaults[name].default_value
        for name, needed in (("require_js_url", scripts), ("mathjax_url", math))
        if not needed
    ]
    page = BeautifulSoup(html, features="html.parser")
    for script in page.find_all("script", src=True):
        if script["src"] in unused:
            script.decompose()
    return str(page)


def _data_url(kind: str, encoded: str) -> str:
    """A picture's ``src`` as nbconvert writes it inline, without its line breaks."""
    return f"data:{kind};base64," + "".join(encoded.split())


def kernel_config() -> Any:
    """Encrypt the kernel's local connection where the kernel supports it (ipykernel does), which
    also spares every stage log ipykernel's warning that it runs "over TCP without encryption"."""
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport_encryption = "auto"
    return config


def execute(notebook: Path, report: Path, params_file: Path = Path("params.yaml")) -> None:
    import nbformat
    import papermill
    from nbconvert import HTMLExporter

    with atomic_path(report.with_suffix(".ipynb")) as tmp_nb:
        executed = papermill.execute_notebook(
            str(notebook),
            str(tmp_nb),
            parameters=parameters_for(notebook, params_file),
            kernel_name="python3",
            # stderr reaches the stage log as papermill's warnings; stdout, where Keras prints
            # each epoch, only through stdout_file: without it a long training shows nothing
            log_output=True,
            stdout_file=sys.stdout,
            progress_bar=False,
            cwd=os.getcwd(),
            config=kernel_config(),
        )
        executed = without_log_noise(executed)
        # papermill records where it wrote: the temporary's absolute path on this machine
        executed.metadata.papermill["output_path"] = str(report.with_suffix(".ipynb"))
        nbformat.write(executed, tmp_nb)
        # the page's title (the browser tab): "Notebook" without it
        named = {"metadata": {"name": report.stem}}
        html, _ = HTMLExporter().from_notebook_node(executed, resources=named)
        html = without_unused_remote_scripts(with_alt_text(html, executed), executed)
        with atomic_path(report.with_suffix(".html")) as tmp_html:
            tmp_html.write_text(html, encoding="utf-8")


@contextlib.contextmanager
def stopped_with_parent(poll_seconds: float = 1.0) -> Iterator[None]:
    """Stop, as ``kill`` would, when the process that started the stage is gone: ``kill`` of
    ``dvc repro`` alone (a job runner signals only its own child) left the stage training for
    hours unseen, then writing outputs that no DVC run records. Not on Windows: there dvc runs
    the stage under cmd.exe, which outlives dvc, and a process's parent id stays that of the
    process that started it, so nothing in the standard library tells the stage dvc is gone
    (the README's Windows paragraph says to end the stage by hand)."""
    parent, done = os.getppid(), threading.Event()

    def watch() -> None:
        while not done.wait(poll_seconds):
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                return

    watcher = threading.Thread(target=watch, name="parent-watch", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()


def main(argv: list[str] | None = None) -> int:
    # its stdout is a report, not results a program reads: a closed one is dropped
    closed_streams_opened(results_on_stdout=False)
    output_escapes_what_it_cannot_encode()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "notebook", type=Path, help="notebook to run, e.g. notebooks/02_train.ipynb"
    )
    parser.add_argument("report", type=Path, help="report path without suffix, e.g. reports/train")
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    args = parser.parse_args(argv)
    from papermill.exceptions import PapermillExecutionError

    try:
        with (
            native_log_filtered() as drop_the_rest,
            sigterm_as_interrupt(drop_the_rest),
            stopped_with_parent(),
        ):
            execute(args.notebook, args.report, args.params)
    except PapermillExecutionError as exc:
        message = str(exc.evalue).splitlines()[0] if exc.evalue else ""
        print(f"{args.notebook}: error: {exc.ename}: {message}", file=sys.stderr)
        return 2
    except (FacialEmotionError, OSError) as exc:  # a broken params file, a missing notebook
        print(f"{args.notebook}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        return interrupted_status(str(args.notebook), exc)
    print(f"{args.notebook} → {args.report}.ipynb, {args.report}.html")
    return 0


if __name__ == "__main__":
    run_on_repository_code("facial_emotion.notebook")
    sys.exit(main())
