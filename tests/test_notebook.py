"""Publishing an executed notebook as a report (real papermill, real Jupyter kernel)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

TENSORFLOW_START_UP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1795888303.653865    7966 port.cc:153] oneDNN custom operations are on.\n"
    "E0000 00:00:1795888307.287345    7966 node_def_util.cc:682] NodeDef mentions attribute "
    "use_unbounded_threadpool which is not in the op definition\n"
)


def test_report_and_stage_log_keep_warnings_but_not_tensorflow_start_up_log(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log.txt"  # read by the cell, so the report's code does not quote it
    log.write_text(TENSORFLOW_START_UP)
    code = (
        "import os, sys\n"
        f"sys.stderr.write(open({str(log)!r}).read())\n"  # as ipykernel forwards it
        f"os.write(2, open({str(log)!r}, 'rb').read())\n"  # as TensorFlow's C++ code writes it
        "sys.stderr.write('UserWarning: only 3 disgust faces\\n')\n"
        "sys.stderr.write('epoch 2/12: 2.0 min in; the last ' + 'took 2.7 min\\n')\n"
        "print('accuracy 0.5')"
    )
    notebook = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), notebook)
    command = [sys.executable, "-m", "facial_emotion.notebook", str(notebook), "report"]
    stage = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert stage.returncode == 0, stage.stderr
    reports = [((tmp_path / name).read_text(), name) for name in ("report.html", "report.ipynb")]
    for text, where in [*reports, (stage.stderr, "what dvc repro shows")]:
        assert "only 3 disgust faces" in text, where
        assert "oneDNN" not in text and "InitializeLog" not in text, where
        assert "use_unbounded_threadpool" not in text, where
    # training's per-minute progress: shown as it runs, left out of the report
    assert "epoch 2/12: 2.0 min in" in stage.stderr
    assert all("the last took" not in text for text, _ in reports)  # the code splits it
    assert "without encryption" not in stage.stderr  # the kernel's connection is encrypted
    for text, where in [*reports, (stage.stdout, "what dvc repro shows: training's progress")]:
        assert "accuracy 0.5" in text, where
    # the report's own name, not the temporary's absolute path on the machine that ran it
    report = nbformat.read(tmp_path / "report.ipynb", as_version=4)
    assert report.metadata.papermill.output_path == "report.ipynb"


def _slow_notebook(tmp_path: Path) -> tuple[Path, Path]:
    """A notebook whose one cell says it has started (a file ``started``) and sleeps two minutes,
    and an empty folder for its report."""
    notebook = tmp_path / "slow.ipynb"
    started = tmp_path / "started"
    cell = nbformat.v4.new_code_cell(
        f"import time\nopen({str(started)!r}, 'w').close()\ntime.sleep(120)"
    )
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), notebook)
    reports = tmp_path / "reports"
    reports.mkdir()
    return notebook, reports


def _wait_for_the_sleeping_cell(reports: Path) -> None:
    """Until the cell runs: a fixed 3 s after the report appeared was too short on a loaded
    machine, whose kernel was still starting when the signal came."""
    started = reports.parent / "started"
    deadline = time.monotonic() + 120
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert list(reports.iterdir()), "the report is written as the cell runs"


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGINT, "interrupted"), (signal.SIGTERM, "terminated")]
)
def test_a_stopped_stage_says_so_in_one_line_and_leaves_no_partial_report(
    tmp_path: Path, signum: int, said: str
) -> None:
    """Ctrl-C, and SIGTERM as `kill` or a CI timeout sends it."""
    notebook, reports = _slow_notebook(tmp_path)
    command = [sys.executable, "-m", "facial_emotion.notebook", str(notebook), str(reports / "r")]
    stage = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    _wait_for_the_sleeping_cell(reports)
    stage.send_signal(signum)
    _, err = stage.communicate(timeout=60)
    assert stage.returncode == 128 + signum, err
    assert err == f"{notebook}: {said}\n"  # not the dying kernel's tracebacks about its sockets
    assert list(reports.iterdir()) == []


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def test_a_stage_stops_when_the_dvc_that_started_it_is_killed(tmp_path: Path) -> None:
    """`kill` of dvc alone left the stage training unseen, then writing outputs no run records."""
    notebook, reports = _slow_notebook(tmp_path)
    stage = [sys.executable, "-m", "facial_emotion.notebook", str(notebook), str(reports / "r")]
    starts_stage = (
        "import subprocess, sys; s = subprocess.Popen(sys.argv[1:]); print(s.pid); s.wait()"
    )
    dvc = subprocess.Popen(
        [sys.executable, "-c", starts_stage, *stage],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    pid = int(dvc.stdout.readline())
    _wait_for_the_sleeping_cell(reports)
    dvc.kill()
    dvc.wait()
    deadline = time.monotonic() + 60
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(pid), "the stage outlived the dvc that started it"
    assert list(reports.iterdir()) == []


@pytest.mark.parametrize("path", sorted(Path("notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs_as_jupyter_saves_them(path: Path) -> None:
    """Saved unchanged from Jupyter, a notebook stored in another key order gave a 30-line diff,
    and DVC retrained because the file had changed."""
    notebook = nbformat.read(path, as_version=4)
    assert path.read_text() == nbformat.writes(notebook) + "\n"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_stage_tells_a_notebook_to_publish_only_where_it_asks(tmp_path: Path) -> None:
    """The stage writes the pipeline's outputs; the same notebook run by hand writes its own."""
    from facial_emotion.notebook import parameters_for

    params = tmp_path / "params.yaml"
    params.write_text("seed: 1\ntrain: {epochs: 2}\nevaluate: {tta: true}\n")
    for declared, expected in (
        (
            "seed = None\ntrain = None\npublish = False",
            {"seed": 1, "train": {"epochs": 2}, "publish": True},
        ),
        ("evaluate = None", {"evaluate": {"tta": True}}),
        ("params_file = 'params.yaml'", {"params_file": str(params)}),  # --params: its name
    ):
        cell = nbformat.v4.new_code_cell(declared, metadata={"tags": ["parameters"]})
        notebook = tmp_path / "n.ipynb"
        kernel = {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        }
        nbformat.write(nbformat.v4.new_notebook(cells=[cell], metadata=kernel), notebook)
        assert parameters_for(notebook, params) == expected


def test_a_stage_with_a_broken_params_file_or_no_notebook_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each gave a traceback of about fifty lines."""
    from facial_emotion.notebook import main

    broken = tmp_path / "params.yaml"
    broken.write_text("train: {epochs: 2\n")
    notebook = "notebooks/01_explore.ipynb"
    assert main([notebook, str(tmp_path / "r"), "--params", str(broken)]) == 2
    assert capsys.readouterr().err == (
        f"{notebook}: error: {broken}: not valid YAML (ParserError); fix it\n"
    )
    assert main(["notebooks/nope.ipynb", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("notebooks/nope.ipynb: error: ")
    assert not list(tmp_path.glob("r*"))


@pytest.mark.parametrize(
    ("notebook", "group", "said"),
    [
        ("02_train", "train:\n  architecture: nope\n", "unknown train.architecture 'nope'"),
        ("03_evaluate", "evaluate:\n  tta_shift: 30\n", "evaluate.tta_shift must be 0 to 23"),
    ],
    ids=["train", "evaluate"],
)
def test_a_stage_names_the_params_file_it_read_in_a_bad_values_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], notebook: str, group: str, said: str
) -> None:
    """`--params other.yaml`: the notebook read params.yaml for its settings, and train's and
    evaluate's value errors named params.yaml whatever file held the value."""
    from facial_emotion.notebook import main

    other = tmp_path / "other.yaml"
    other.write_text(group)
    path = f"notebooks/{notebook}.ipynb"
    assert main([path, str(tmp_path / "r"), "--params", str(other)]) == 2
    line = capsys.readouterr().err.splitlines()[-1]
    assert line.startswith(f"{path}: error: FacialEmotionError: {other}: {said}")
    if notebook == "02_train":  # every name, read from the registry a new one is added to
        from facial_emotion.models import ARCHITECTURES  # keras

        assert line.endswith(f"; choose one of {', '.join(ARCHITECTURES)}"), line
    assert not list(tmp_path.glob("r*")) + list(tmp_path.glob(".r*")), "nor a temporary"


def test_report_pictures_have_alt_text_that_describes_them(tmp_path: Path) -> None:
    """nbconvert gave every figure "No description has been provided for this image", all a
    screen reader said of it; the project's figures now describe themselves."""
    code = (
        "import matplotlib.pyplot as plt\n"
        "import pandas as pd\n"
        "from facial_emotion import plots\n"
        "table = pd.DataFrame({'confidence': [0.5], 'accuracy': [0.4], 'faces': [3]})\n"
        "plots.reliability_diagram(table, 'Calibration (val)');\n"
    )
    cells = [nbformat.v4.new_code_cell(code), nbformat.v4.new_code_cell("plt.plot([1, 2]);")]
    notebook = tmp_path / "figures.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook)
    command = [sys.executable, "-m", "facial_emotion.notebook", str(notebook), "report"]
    stage = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert stage.returncode == 0, stage.stderr
    from bs4 import BeautifulSoup

    page = BeautifulSoup((tmp_path / "report.html").read_text(), features="html.parser")
    alts = [img["alt"] for img in page.select("img")]
    assert len(alts) == 2
    assert alts[0].startswith("Figure. Calibration (val): share read right against confidence")
    assert "key: calibrated, model" in alts[0]
    assert alts[1] == "No description has been provided for this image"  # plain matplotlib's
    assert _remote_scripts(str(page)) == []  # and it opens at once without the internet


def _picture_output(png: bytes, text: str, **more: str) -> nbformat.NotebookNode:
    import base64

    data = {"image/png": base64.b64encode(png).decode() + "\n", "text/plain": text, **more}
    return nbformat.v4.new_output("display_data", data=data)


def test_alt_text_goes_to_its_own_picture_when_an_output_is_shown_as_something_else() -> None:
    """Alt texts were dealt to the pictures in order: an output with a picture that nbconvert
    shows in another form (LaTeX, Markdown) shifted every later description onto the wrong
    figure; and a picture with only Python's default text form got that as its alt text."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from facial_emotion.notebook import with_alt_text

    cells = [
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                _picture_output(b"formula", "x**2", **{"text/latex": "$x^2$"}),
                _picture_output(b"histogram", "Figure. Pixel intensity per split."),
            ],
        ),
        nbformat.v4.new_code_cell(
            "y", outputs=[_picture_output(b"photo", "<IPython.core.display.Image object>")]
        ),
    ]
    notebook = nbformat.v4.new_notebook(cells=cells)
    html, _ = HTMLExporter().from_notebook_node(notebook)
    page = BeautifulSoup(with_alt_text(html, notebook), features="html.parser")
    alts = [img["alt"] for img in page.select(".jp-RenderedImage img")]
    assert alts == [
        "Figure. Pixel intensity per split.",
        "No description has been provided for this image",
    ]


def _remote_scripts(html: str) -> list[str]:
    from bs4 import BeautifulSoup

    page = BeautifulSoup(html, features="html.parser")
    return [s["src"] for s in page.find_all("script", src=True) if "://" in s["src"]]


def test_a_report_loads_no_script_from_the_internet_unless_it_has_math_or_widgets() -> None:
    """nbconvert's page loaded require.js and MathJax from cdnjs in its head, which the reports
    never use: where the CDN did not answer, a report stayed blank for half a minute."""
    from nbconvert import HTMLExporter

    from facial_emotion.notebook import without_unused_remote_scripts

    def page(*cells: nbformat.NotebookNode) -> list[str]:
        notebook = nbformat.v4.new_notebook(cells=list(cells))
        html, _ = HTMLExporter().from_notebook_node(notebook)
        return _remote_scripts(without_unused_remote_scripts(html, notebook))

    text = nbformat.v4.new_markdown_cell("# Evaluate\nAccuracy (the share read right).")
    table = nbformat.v4.new_code_cell(
        "t", outputs=[nbformat.v4.new_output("execute_result", data={"text/plain": "0.82"})]
    )
    assert page(text, table) == []
    math = page(text, nbformat.v4.new_markdown_cell(r"F1 is $2PR/(P+R)$"))
    assert len(math) == 1 and "mathjax" in math[0]
    shown = {"application/javascript": "alert(1)", "text/plain": ""}
    script = nbformat.v4.new_code_cell(
        "j", outputs=[nbformat.v4.new_output("display_data", data=shown)]
    )
    assert [src.rsplit("/", 1)[1] for src in page(text, script)] == ["require.min.js"]


def test_a_report_whose_html_output_calls_require_keeps_require_js() -> None:
    """A chart shown as HTML that loads its library through require.js (Plotly's notebook
    output: ``require(["plotly"], ...)``) was left blank once require.js was taken out: only
    JavaScript and widget outputs counted as needing it."""
    from nbconvert import HTMLExporter

    from facial_emotion.notebook import without_unused_remote_scripts

    chart = '<div id="c"></div><script>require(["plotly"], function(Plotly) {})</script>'
    shown = {"text/html": chart, "text/plain": "Figure()"}
    cell = nbformat.v4.new_code_cell(
        "fig", outputs=[nbformat.v4.new_output("display_data", data=shown)]
    )
    notebook = nbformat.v4.new_notebook(cells=[cell])
    html, _ = HTMLExporter().from_notebook_node(notebook)
    kept = _remote_scripts(without_unused_remote_scripts(html, notebook))
    assert [src.rsplit("/", 1)[1] for src in kept] == ["require.min.js"]


def test_a_stage_with_stderr_closed_keeps_its_error_off_stdout(tmp_path: Path) -> None:
    """`python -m facial_emotion.notebook ... 2>&-`: with sys.stderr None, print(file=sys.stderr)
    wrote the error line to stdout, where the stage's report goes (audit CJ, fix CL)."""
    run = subprocess.run(
        [sys.executable, "-m", "facial_emotion.notebook", "notebooks/nope.ipynb", "r"],
        cwd=Path(__file__).parents[1],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: os.close(2),
    )
    assert run.returncode == 2
    assert run.stdout == ""


@pytest.mark.skipif(os.name != "posix", reason="Windows: the stage's parent is cmd.exe, never gone")
def test_a_stage_whose_parent_is_gone_stops(tmp_path: Path) -> None:
    """`kill` of `dvc repro` alone (a job runner signals only its own child) left the stage
    training for hours unseen, then writing outputs no DVC run records: it stops as `kill` would.
    The stage is a grandchild here, its parent exiting once it is under way, as dvc's does."""
    ready = tmp_path / "ready"
    stage = (
        "import os, sys, time\n"
        "from facial_emotion.notebook import stopped_with_parent\n"
        "with stopped_with_parent(poll_seconds=0.1):\n"
        "    open(sys.argv[1], 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)\n"
        "print('not stopped')\n"
    )
    parent = (
        "import os, subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {stage!r}, sys.argv[1]])\n"
        "while not (os.path.exists(sys.argv[1]) and os.path.getsize(sys.argv[1])):\n"
        "    time.sleep(0.05)\n"
        "os._exit(0)\n"
    )
    # the stage shares the pipe: its end is reached once the stage too is gone
    run = subprocess.Popen([sys.executable, "-c", parent, str(ready)], stdout=subprocess.PIPE)
    try:
        out, _ = run.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.kill(int(ready.read_text()), signal.SIGKILL)  # not stopped: end it, and fail
        raise
    assert out == b""  # "not stopped" was never printed
