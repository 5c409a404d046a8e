"""A plain `pip install` reads faces without TensorFlow; what needs it says how to add it.

The training stack (TensorFlow, Keras, pandas, scikit-learn, matplotlib, seaborn) is about 2 GB
of a 2.3 GB install that `predict`, `video` and the Python API never load. Here it is made
unimportable in a fresh interpreter, as it is where only the package's own dependencies are in.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import matplotlib.cbook

import facial_emotion

HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
TRAINING_STACK = ("tensorflow", "keras", "pandas", "sklearn", "matplotlib", "seaborn", "mtcnn")
WITHOUT_TRAINING_STACK = (
    "import sys\n"
    f"for name in {TRAINING_STACK!r}:\n"
    "    sys.modules[name] = None  # import fails, as where it is not installed\n"
    "from facial_emotion.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _run(*argv: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TRAINING_STACK, *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_package_itself_depends_on_no_training_stack() -> None:
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    names = {dep.split(">")[0].split("=")[0].split("<")[0] for dep in project["dependencies"]}
    stack = {"tensorflow-cpu", "tensorflow", "keras", "mtcnn", "pandas", "scikit-learn"}
    assert names.isdisjoint(stack | {"matplotlib", "seaborn"})
    train = project["optional-dependencies"]["train"]
    # each platform gets a TensorFlow with wheels for it: tensorflow-cpu has none for macOS
    assert "tensorflow-cpu>=2.16; sys_platform != 'darwin'" in train
    assert "tensorflow>=2.16; sys_platform == 'darwin'" in train


def test_predict_reads_faces_with_the_shipped_model_and_no_tensorflow() -> None:
    result = _run("predict", HOPPER, "--csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith(f"{HOPPER},1,")


def test_what_needs_tensorflow_says_how_to_add_it(tiny_model_path: Path, tmp_path: Path) -> None:
    fix = "needs TensorFlow, which is not installed: pip install 'facial-emotion[train]'"
    for argv, needs in (
        (["predict", HOPPER, "--model", tiny_model_path], f"{tiny_model_path}: a Keras model"),
        (["evaluate", "--data", tmp_path], "evaluate"),
        (
            # a prepared folder that is there: a missing one is refused before TensorFlow is needed
            [
                "export",
                "--model",
                tiny_model_path,
                "--prepared",
                tmp_path,
                "--out-dir",
                tmp_path / "o",
            ],
            "export",
        ),
    ):
        result = _run(*argv)
        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            f"facial-emotion {argv[0]}: error: {needs} {fix} (or pip install -r requirements.txt "
            "in a clone)"
        ]
    result = _run("predict", HOPPER, "--detector", "mtcnn")
    assert result.returncode == 2
    assert "pip install 'facial-emotion[mtcnn]', or use --detector haar" in result.stderr


def _fresh(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )


def test_a_checkout_pip_did_not_install_imports_and_says_so() -> None:
    # PYTHONPATH=src, or a copy of the package in an app: no distribution metadata to read
    not_installed = (
        "import importlib.metadata as m\n"
        "def version(name):\n"
        "    raise m.PackageNotFoundError(name)\n"
        "m.version = version\n"
        "import facial_emotion\n"
        "print(facial_emotion.__version__)\n"
        "from facial_emotion.cli import main\n"
        "main(['--version'])\n"
    )
    assert _fresh(not_installed).stdout.splitlines() == [
        "(not installed)",
        "facial-emotion (not installed)",
    ]


def test_import_and_help_read_no_distribution_metadata() -> None:
    # importing importlib.metadata was 0.07-0.1 s of the 0.1 s `import facial_emotion` took
    loads = (
        "import sys\n"
        "import facial_emotion\n"
        "from facial_emotion.cli import build_parser\n"
        "build_parser()\n"
        "print('importlib.metadata' in sys.modules)\n"
        "print(facial_emotion.__version__)\n"
    )
    assert _fresh(loads).stdout.splitlines() == ["False", facial_emotion.__version__]
