"""Safe writes: an output lands whole where it is named."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from facial_emotion.errors import FacialEmotionError
from facial_emotion.files import (
    atomic_path,
    require_writable,
    write_json,
    write_text,
)


def test_a_link_is_written_through_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_json(link, {"a": 1})
    assert link.is_symlink() and json.loads(real.read_text()) == {"a": 1}


def test_another_users_link_in_a_shared_folder_is_refused(tmp_path: Path) -> None:
    """Planted in /tmp by another user, a link made `predict -o /tmp/faces.json` replace the
    file it named, a private one of root's, with results."""
    if os.geteuid() != 0:
        pytest.skip("giving a link another owner needs root (CI runs as root)")
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    victim = tmp_path / "precious.rc"
    victim.write_text("export PATH=/usr/bin\n")
    link = shared / "faces.json"
    link.symlink_to(victim)
    os.lchown(link, 12345, 12345)
    with pytest.raises(FacialEmotionError, match="is another user's link in a shared folder"):
        write_json(link, {"a": 1})
    assert victim.read_text() == "export PATH=/usr/bin\n"
    os.lchown(link, 0, 0)  # the writer's own link is followed
    write_json(link, {"a": 1})
    assert json.loads(victim.read_text()) == {"a": 1}


def test_a_replaced_file_keeps_its_permissions(tmp_path: Path) -> None:
    """Results are personal data: a private 0600 file became 0644 when written again."""
    private = tmp_path / "faces.json"
    private.write_text("{}")
    private.chmod(0o600)
    write_json(private, {"a": 1})
    assert private.stat().st_mode & 0o777 == 0o600


def test_a_pipe_is_written_to_not_replaced(tmp_path: Path) -> None:
    """Renamed over, `--csv /dev/stdout` (run as root) turned the machine's stdout into a file."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    require_writable(fifo)
    write_text(fifo, "file,emotion\n")
    reader.join(timeout=10)
    assert received == ["file,emotion\n"] and fifo.is_fifo()


def test_dev_stdout_into_a_pipe_is_written() -> None:
    """`--csv /dev/stdout | program`: /dev/stdout resolved to /proc/<pid>/fd/pipe:[N], which
    names nothing, and the write failed with "No such file or directory"."""
    code = "from facial_emotion.files import write_text; write_text('/dev/stdout', 'a,b\\n')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, "a,b\n"), done.stderr


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_a_standard_stream_into_a_file_is_appended_to_with_the_shell(
    tmp_path: Path, stream: str
) -> None:
    """`predict -o /dev/stdout >> log.json`: /dev/stdout was opened again, which wrote from the
    file's first byte, so what `>>` was to keep was lost (review BB); `video --csv /dev/stderr
    2>> log`: /dev/stderr, a plain file to the path's eyes, was renamed over. Each is now
    written through its own descriptor."""
    log = tmp_path / "log.txt"
    log.write_text("kept\n")
    code = f"from facial_emotion.files import write_text; write_text('/dev/{stream}', 'added\\n')"
    with log.open("ab") as appended:
        done = subprocess.run([sys.executable, "-c", code], **{stream: appended}, check=False)
    assert done.returncode == 0 and log.read_text() == "kept\nadded\n"


def test_the_longest_legal_name_can_be_written(tmp_path: Path) -> None:
    """The temporary name added 18 bytes to the target's: a 240-byte name could not be written."""
    target = tmp_path / ("顔" * 83 + ".txt")  # 253 bytes
    write_text(target, "x")
    assert target.read_text() == "x" and [p.name for p in tmp_path.iterdir()] == [target.name]


def test_a_dash_is_refused_as_a_file_name() -> None:
    """`video --csv -` said only to name a file, where /dev/stdout writes to stdout (and a pipe
    from there gets a video's rows as they are read)."""
    with pytest.raises(FacialEmotionError, match="a file named '-', not stdout.*or /dev/stdout"):
        require_writable("-")


def test_a_read_only_file_is_replaced_and_stays_read_only(tmp_path: Path) -> None:
    """A published report is read-only; its temporary copy took that mode before it was written,
    which only root could then write."""
    target = tmp_path / "report.ipynb"
    target.write_text("old")
    target.chmod(0o444)
    with atomic_path(target) as tmp:
        assert tmp.stat().st_mode & stat.S_IWUSR  # writable by its owner while written
        tmp.write_text("new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o444


def test_a_read_only_output_windows_will_not_replace_is_kept_under_its_partial_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows replaces no read-only file and deletes none: the temporary copy, made read-only
    to match, stayed behind, and its PermissionError replaced the one-line message. What was
    written is now kept, writable, under the partial name the message gives."""
    real_replace, real_unlink = os.replace, Path.unlink

    def windows_replace(src, dst):
        if Path(dst).exists() and not Path(dst).stat().st_mode & stat.S_IWUSR:
            raise PermissionError(13, "Access is denied", str(dst))
        real_replace(src, dst)

    def windows_unlink(path: Path, missing_ok: bool = False) -> None:
        if path.exists() and not path.stat().st_mode & stat.S_IWUSR:
            raise PermissionError(13, "Access is denied", str(path))
        real_unlink(path, missing_ok=missing_ok)

    monkeypatch.setattr(os, "replace", windows_replace)
    monkeypatch.setattr(Path, "unlink", windows_unlink)
    target = tmp_path / "report.html"
    target.write_text("old")
    target.chmod(0o444)
    with pytest.raises(FacialEmotionError) as refused, atomic_path(target) as tmp:
        tmp.write_text("new")
    assert str(refused.value) == (
        f"{target}: could not be replaced (Access is denied), so what the run wrote is kept in "
        f"{tmp_path / 'report.partial.html'}; close report.html where it is open (Excel?) or "
        "make it writable, then rename report.partial.html to report.html"
    )
    assert target.read_text() == "old"
    kept = tmp_path / "report.partial.html"
    assert sorted(tmp_path.iterdir()) == [target, kept], "a temporary stayed behind"
    assert kept.read_text() == "new" and kept.stat().st_mode & stat.S_IWUSR


def test_an_output_another_program_holds_open_on_windows_is_refused_before_the_work(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows replaces no file another program holds open, and Excel holds a CSV it shows:
    `predict photos/ -o faces.csv` read every photo, then lost the results to "Access is
    denied" as it put them in place. Excel's lock is emulated: no open for writing, no replace."""
    import matplotlib.cbook

    from facial_emotion.cli import main

    shown = tmp_path / "faces.csv"
    shown.write_text("file,emotion\n", encoding="utf-8")
    real_open, real_replace = os.open, os.replace

    def locked(path: object) -> bool:
        return os.path.exists(path) and os.path.samefile(path, shown)

    def excel_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR) and locked(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    def excel_replace(src, dst):
        if locked(dst):
            raise PermissionError(13, "Access is denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "open", excel_open)
    monkeypatch.setattr(os, "replace", excel_replace)
    photo = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    code = main(["predict", str(photo), "--csv", "-o", str(shown), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "faces.csv: is open in another program (Excel?)" in err, err
    assert shown.read_text(encoding="utf-8") == "file,emotion\n"


def opened_during_the_run(monkeypatch: pytest.MonkeyPatch, *shown: Path) -> None:
    """Emulate Windows with ``shown`` opened in Excel once the run has begun, after
    ``require_writable`` found them closed: no file another program holds is replaced."""
    real_replace = os.replace

    def windows_replace(src, dst):
        if any(os.path.exists(dst) and os.path.samefile(dst, path) for path in shown):
            raise PermissionError(13, "Access is denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "replace", windows_replace)


def test_results_whose_output_was_opened_during_the_run_are_kept_for_resume(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`predict photos/ -o faces.csv`, faces.csv opened in Excel while the photos were read:
    Windows would not replace it, and every result was deleted with the temporary file. They are
    kept as faces.partial.csv, which the one-line error names, and which --resume goes on from
    once Excel has closed the file."""
    import matplotlib.cbook

    from facial_emotion.cli import main

    shown = tmp_path / "faces.csv"
    shown.write_text("file,emotion\n", encoding="utf-8")
    kept = tmp_path / "faces.partial.csv"
    photo = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    argv = ["predict", str(photo), "--csv", "-o", str(shown), "--no-progress"]
    with monkeypatch.context() as windows:
        opened_during_the_run(windows, shown)
        code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.splitlines()[-1] == (
        f"facial-emotion predict: error: {shown}: could not be replaced (Access is denied), so "
        f"what the run wrote is kept in {kept}; close faces.csv where it is open (Excel?) or make "
        "it writable, then rename faces.partial.csv to faces.csv"
    )
    assert shown.read_text(encoding="utf-8") == "file,emotion\n"
    assert sorted(tmp_path.iterdir()) == [shown, kept], "a temporary stayed behind"
    rows = kept.read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("file,") and rows[1].startswith(f"{photo},")

    assert main([*argv, "--resume"]) == 0  # Excel closed: nothing is read again
    assert "reading the 0 it does not list" in capsys.readouterr().err
    assert shown.read_text(encoding="utf-8").splitlines() == rows
    assert sorted(tmp_path.iterdir()) == [shown]


def test_resume_whose_partial_file_is_open_in_excel_ends_with_the_results_written(
    capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The error says the results are kept in faces.partial.csv, which a user then opens in
    Excel to look at; `--resume` wrote faces.csv whole, then Windows would not delete the
    open partial file: exit status 2 and "[Errno 13] Access is denied" for a run whose output
    was written. It ends 0, saying the partial file is left to delete."""
    import matplotlib.cbook

    from facial_emotion.cli import main

    output, kept = tmp_path / "faces.csv", tmp_path / "faces.partial.csv"
    photo = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    argv = ["predict", str(photo), "--csv", "-o", str(output), "--no-progress"]
    assert main(argv) == 0
    output.rename(kept)  # as a stop, or an output refused at the end, leaves it
    rows = kept.read_text(encoding="utf-8").splitlines()
    capsys.readouterr()
    real_unlink = Path.unlink

    def windows_unlink(path: Path, missing_ok: bool = False) -> None:
        if path.exists() and path.samefile(kept):  # open in Excel
            raise PermissionError(13, "Access is denied", str(path))
        real_unlink(path, missing_ok=missing_ok)

    with monkeypatch.context() as windows:
        windows.setattr(sys, "platform", "win32")
        windows.setattr(Path, "unlink", windows_unlink)
        code = main([*argv, "--resume"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert output.read_text(encoding="utf-8").splitlines() == rows
    assert err.splitlines()[-1] == (
        f"facial-emotion predict: note: {kept}: could not be deleted (Access is denied); "
        f"{output} holds its results now: delete it once it is closed"
    )
    assert kept.read_text(encoding="utf-8").splitlines() == rows


def test_a_model_whose_file_was_opened_while_it_trained_is_kept_with_its_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tiny_model_path
) -> None:
    """A model and its card are put in place both or neither: the model kept alone under its
    partial name, renamed as told, would have gone with the old card, whose classes may be in
    another order. Both are kept, and the message names both renames."""
    from facial_emotion.modelfile import card_path, save_keras
    from facial_emotion.models import build

    model = tmp_path / "model.keras"
    for source in (tiny_model_path, card_path(tiny_model_path)):
        shutil.copy(source, model.with_suffix(source.suffix))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    opened_during_the_run(monkeypatch, model)
    with pytest.raises(FacialEmotionError) as refused:
        save_keras(build("tiny", 2), model, ("happy", "sad"))
    assert str(refused.value).endswith(
        "rename model.partial.keras to model.keras and model.partial.json to model.json"
    )
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(after) == [
        "model.json",
        "model.keras",
        "model.partial.json",
        "model.partial.keras",
    ]
    assert {name: after[name] for name in before} == before
    assert json.loads(after["model.partial.json"])["classes"] == ["happy", "sad"]


def test_a_models_card_held_open_on_windows_is_refused_as_the_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card read-only (DVC's linked cache) or open in an editor is still a card: told "close it
    there", one closed it only to be told on the next run it was never to be written over."""
    card = tmp_path / "model.json"
    card.write_text('{"classes": ["a", "b"]}', encoding="utf-8")
    (tmp_path / "model.keras").write_bytes(b"a model")
    real_open = os.open

    def held_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR) and os.path.samefile(path, card):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "open", held_open)
    with pytest.raises(FacialEmotionError, match=r"is the card of .*model\.keras"):
        require_writable(card, suffix=".json")


def test_every_text_file_the_package_opens_names_its_encoding() -> None:
    """Windows reads and writes text in its locale's encoding (cp1252) by default: the train
    report's box characters failed the stage after the whole training, and a data.path with an
    accent read from params.yaml as mojibake."""
    import subprocess
    import sys

    package = Path(__file__).resolve().parents[1] / "src"
    rule = ["--preview", "--select", "PLW1514", "--output-format", "concise", str(package)]
    checked = subprocess.run([sys.executable, "-m", "ruff", "check", *rule], capture_output=True)
    assert checked.returncode == 0, checked.stdout.decode()


def test_an_input_named_otherwise_on_a_disk_that_ignores_case_is_not_replaced(tmp_path) -> None:
    """On macOS's disks `video clip.mp4 -o Clip.mp4` names the source video: it was replaced."""
    from facial_emotion.files import refuse_overwrite

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"the user's video")
    other_name = tmp_path / "Clip.mp4"
    os.link(video, other_name)  # one file under two names, as such a disk sees them
    with pytest.raises(FacialEmotionError, match="Clip.mp4: is an input, and an output would"):
        refuse_overwrite([video], [other_name])


def test_a_model_and_its_card_are_saved_both_or_neither(tmp_path: Path, tiny_model_path) -> None:
    """Saved one after the other, a stop in between paired a new model with the old card, whose
    classes may be in another order (a CK+ model's seven are not FER2013's)."""
    from facial_emotion.modelfile import card_path, save_keras
    from facial_emotion.models import build

    model = tmp_path / "model.keras"
    for source in (tiny_model_path, card_path(tiny_model_path)):
        shutil.copy(source, model.with_suffix(source.suffix))
    kept = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(TypeError):  # the card fails once the model is saved
        save_keras(build("tiny", 2), model, ("happy", "sad"), stopped=object())
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == kept


def test_a_models_card_records_the_commit_of_the_code_that_saved_it(
    tmp_path: Path, tiny_model_path
) -> None:
    """Settings alone did not say which code trained a model: the same settings trained
    differently once each augmentation layer drew from its own seed."""
    import facial_emotion
    from facial_emotion.modelfile import card_path, code_version, save_keras
    from facial_emotion.models import build

    package = Path(facial_emotion.__file__).parent
    git = ["git", "-C", str(package)]
    if (
        shutil.which("git") is None
        or subprocess.run(
            [*git, "ls-files", "--error-unmatch", "__init__.py"], capture_output=True
        ).returncode
    ):
        pytest.skip("no git, or the package is not a git checkout here (an installed copy)")
    head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    model = tmp_path / "model.keras"
    save_keras(build("tiny", 2), model, ("happy", "sad"))
    code = json.loads(card_path(model).read_text())["code"]
    assert code["commit"] == head.strip() and isinstance(code["changed"], list)

    repo = tmp_path / "repo"  # a checkout with a change not yet committed
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "pkg"]):
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args])
    assert code_version(repo / "pkg")["changed"] == []
    (repo / "pkg" / "__init__.py").write_text("VERSION = 2\n")
    (repo / "pkg" / "new module.py").write_text("")  # not yet added, and with a space
    assert code_version(repo / "pkg")["changed"] == ["pkg/__init__.py", "pkg/new module.py"]
    (tmp_path / "installed").mkdir()
    assert code_version(tmp_path / "installed") is None  # not a checkout: nothing to record


def test_stdout_into_a_file_needs_no_writable_dev(tmp_path: Path) -> None:
    """`--csv /dev/stdout > log.csv`: stdout is a file, so /dev/stdout was checked as a file to
    replace, by creating one in /dev, which only root may: anyone else was refused."""
    code = (
        "import tempfile\n"
        "from facial_emotion import files\n"
        "def refused(*args, dir=None, **kwargs):\n"
        "    raise PermissionError(13, 'Permission denied')\n"
        "tempfile.TemporaryFile = refused  # /dev, as a user other than root finds it\n"
        "files.require_writable('/dev/stdout')\n"
    )
    with (tmp_path / "log.csv").open("w") as out:
        done = subprocess.run(
            [sys.executable, "-c", code], stdout=out, stderr=subprocess.PIPE, text=True, check=False
        )
    assert done.returncode == 0, done.stderr
