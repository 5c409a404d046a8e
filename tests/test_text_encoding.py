"""Text the package reads and writes is UTF-8 on every system. Without ``encoding=``, Python
uses the locale's encoding, cp1252 on most Windows machines: names such as "Zoë" came out
mangled, and a letter cp1252 lacks ("Á" is 0xC3 0x81 in UTF-8; 0x81 is no cp1252 character)
ended the command with a traceback. Linux and macOS default to UTF-8, so these tests make the
difference show here: EncodingWarning (``-X warn_default_encoding``) marks every text opened in
the locale's encoding, and Windows' encoding is put in where it can be."""

from __future__ import annotations

import ast
import json
import locale
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import matplotlib.cbook
import pytest
import yaml
from data_fixtures import class_tree

from facial_emotion.labels import EMOTIONS
from facial_emotion.modelfile import code_version

HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "facial_emotion"


def _package_with_changed_files(tmp_path: Path) -> tuple[Path, list[str]]:
    """A git checkout's package with files named "Zoë Á.py" and, where the disk allows, the
    Latin-1 bytes of "café.py" added since its commit; and the names its card should give."""
    if shutil.which("git") is None:
        pytest.skip("no git")
    package = tmp_path / "repo" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("", encoding="utf-8")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "pkg"]):
        git = ["git", "-C", str(package.parent), "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run([*git, *args], check=True)
    (package / "Zoë Á.py").write_text("", encoding="utf-8")
    names = ["pkg/Zoë Á.py"]
    try:  # Latin-1 "café.py", which Linux keeps as it is; macOS's disks refuse such a name
        (package / os.fsdecode(b"caf\xe9.py")).write_text("", encoding="utf-8")
        names.append("pkg/caf\\xe9.py")  # its byte as text, as `ls -b` shows it
    except (OSError, UnicodeEncodeError):
        pass
    return package, sorted(names)


def test_a_models_card_names_changed_files_as_git_wrote_them(monkeypatch, tmp_path) -> None:
    """git writes file names as UTF-8 (on Linux, as the bytes they are): read in the locale's
    encoding, a changed file "Á.py" under the package stopped training on Windows with a
    UnicodeDecodeError, and a Linux name not in UTF-8 stopped it everywhere."""
    package, names = _package_with_changed_files(tmp_path)
    monkeypatch.setattr(locale, "getencoding", lambda: "cp1252")  # Windows' (no UTF-8 mode)
    assert code_version(package)["changed"] == names


def test_a_card_naming_a_file_not_in_utf8_goes_into_the_tflite_export(tmp_path) -> None:
    """Kept as a surrogate, a Linux name not in UTF-8 let training finish, then stopped
    `export` with a UnicodeEncodeError as it stored the card inside the .tflite."""
    from facial_emotion.predict import default_serving_path
    from facial_emotion.tflite_card import embedded_card, with_card

    package, names = _package_with_changed_files(tmp_path)
    shipped = default_serving_path()
    card = {"classes": list(EMOTIONS), "code": code_version(package)}
    card = json.loads(json.dumps(card))  # as training's model.json gives it to export
    exported = with_card(shipped.read_bytes(), card)
    assert embedded_card(exported, shipped)["code"]["changed"] == names


def test_no_subprocess_output_is_decoded_in_the_locales_encoding() -> None:
    """``text=True`` decodes a program's output in the locale's encoding, which the ruff rule
    guarding ``open`` (test_files.py, PLW1514) does not check: each call names its own."""
    unnamed = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in {
                "run",
                "Popen",
                "check_output",
            }:
                keywords = {k.arg for k in node.keywords}
                if keywords & {"text", "universal_newlines"} and "encoding" not in keywords:
                    unnamed.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not unnamed, unnamed


def test_the_commands_read_and_write_no_text_in_the_locales_encoding(
    tiny_model_path, tmp_path
) -> None:
    """predict, video, evaluate, and the pipeline's check and prepare stages, on names with
    accents and an emoji, in a Python that makes an EncodingWarning of the package's own an
    error: each text it opened in the locale's encoding would be cp1252 on Windows."""
    root = tmp_path / "Zoë"
    photos = root / "photos"
    photos.mkdir(parents=True)
    shutil.copy(HOPPER, photos / "Zoë 😀.jpg")
    shutil.copy(HOPPER, photos / "café–Á.jpg")
    model = root / "mödel.keras"
    shutil.copy(tiny_model_path, model)
    shutil.copy(tiny_model_path.with_suffix(".json"), model.with_suffix(".json"))
    faces = class_tree(root / "faces", dict.fromkeys(EMOTIONS, 10))
    frame = cv2.resize(cv2.imread(str(HOPPER)), (320, 240))
    clip = root / "clip Zoë.mp4"
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 240))
    for _ in range(3):
        writer.write(frame)
    writer.release()
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["data"].update(source="folder", path=str(faces))
    params_file = root / "params ≥.yaml"
    params_file.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    quiet = "--no-progress"
    cli, stage, read = "facial_emotion.cli", "facial_emotion.", ["predict", str(photos)]
    commands = [
        [cli, *read, "--json", "-o", str(root / "faces ≥.json"), quiet],
        [cli, *read, "--csv", "-o", str(root / "faces.csv"), quiet],
        [cli, *read, "--csv", "-o", str(root / "faces.csv"), "--resume", quiet],
        [cli, *read, "--model", str(model), "--annotate", str(root / "ann"), quiet],
        [cli, "video", str(clip), "-o", str(root / "out.mp4"), "--csv", str(root / "v.csv"), quiet],
        [cli, "evaluate", "--model", str(model), "--data", str(faces), "--split", "all", quiet],
        [stage + "check_params", str(params_file)],
        [stage + "prepare", "--params", str(params_file), "--out", str(root / "prepared")],
    ]
    code = (
        "import importlib, json, sys, warnings\n"
        "warnings.filterwarnings('ignore', category=EncodingWarning)  # other packages'\n"
        "warnings.filterwarnings('error', category=EncodingWarning, module='facial_emotion')\n"
        "for module, *argv in json.loads(sys.argv[1]):\n"
        "    if importlib.import_module(module).main(argv):\n"
        "        sys.exit(f'{module} {argv[0]} failed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "warn_default_encoding", "-c", code, json.dumps(commands)],
        capture_output=True,
        timeout=600,
    )
    err = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 0 and "EncodingWarning" not in err, err[-3000:]
    written = json.loads((root / "faces ≥.json").read_text(encoding="utf-8"))
    assert "Zoë 😀.jpg" in json.dumps(written, ensure_ascii=False)
    assert "café–Á.jpg" in (root / "faces.csv").read_text(encoding="utf-8")
    assert (root / "v.csv").read_text(encoding="utf-8").startswith("time,frame,face")
    manifest = json.loads((root / "prepared" / "manifest.json").read_text(encoding="utf-8"))
    assert "Zoë" in json.dumps(manifest, ensure_ascii=False)
