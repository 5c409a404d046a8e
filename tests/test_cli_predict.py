"""`facial-emotion predict` end to end: real files, folders, globs, bad inputs and outputs."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import matplotlib.cbook
import numpy as np
import pytest
from PIL import Image

from facial_emotion.cli import main, predict_output
from facial_emotion.cli import predict as predict_cli
from facial_emotion.labels import EMOTIONS
from facial_emotion.stops import Terminated

HOPPER = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """photos/a.jpg (a face), photos/sub/b.jpg (a face), photos/sub/c.png (a 48x48 face crop),
    photos/empty.png (no face) and photos/notes.txt (not an image, ignored in a folder)."""
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    shutil.copy(HOPPER, root / "a.jpg")
    shutil.copy(HOPPER, root / "sub" / "b.jpg")
    Image.open(HOPPER).convert("L").crop((158, 107, 375, 324)).resize((48, 48)).save(
        root / "sub" / "c.png"
    )
    Image.new("RGB", (320, 240), (90, 120, 90)).save(root / "empty.png")
    (root / "notes.txt").write_text("not a photo\n")
    return root


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["predict", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("fmt", "photos", "rest"),
    [
        ("--csv", 13, "3 more images had no face found; the output lists them"),
        # not "1 more image had no face found; the output lists them"
        ("--json", 11, "1 more image had no face found; the output lists it"),
    ],
)
def test_faceless_photos_are_named_up_to_ten_then_counted(
    capsys, tiny_model_path, tmp_path, fmt, photos, rest
):
    """Each faceless photo had its own stderr line with --csv or --json: 6,000 of them for a
    library of 20,000 photos, burying the files that could not be read (audit BS)."""
    folder = tmp_path / "plain"
    folder.mkdir()
    for i in range(photos):
        Image.new("RGB", (160, 120), (90 + i, 120, 90)).save(folder / f"p{i:02}.png")
    code, out, err = run(capsys, folder, "--model", tiny_model_path, fmt)
    assert code == 0, err
    named = [line for line in err.splitlines() if line.endswith(": no face found")]
    assert named == [
        f"facial-emotion predict: {folder / f'p{i:02}.png'}: no face found" for i in range(10)
    ]
    assert err.splitlines()[-1] == f"facial-emotion predict: {rest} with no faces"
    assert out.count(f"p{photos - 1}.png") == 1  # listed, with no face


def test_links_that_point_at_each_other_are_skipped_and_the_rest_read(capsys, photos) -> None:
    """l1 -> l2 -> l1 in a folder ended the run at once: "error: [Errno 40] Too many levels of
    symbolic links: 'photos/l1'", no photo read and no fix named (audit CJ)."""
    (photos / "l1").symlink_to("l2")
    (photos / "l2").symlink_to("l1")
    code, out, err = run(capsys, photos, "--csv")
    assert code == 0, err
    assert f"skipped {photos}: 1 file that is not an image Pillow reads" in err
    assert str(photos / "a.jpg") in out
    # told to "convert any that are photos to JPEG or PNG", which no link loop needs
    assert (
        f"facial-emotion predict: skipped {photos}: 2 links that lead to no file (such as l1, "
        "in a loop of links); remove them or point them at the photos"
    ) in err.splitlines()


def test_an_empty_path_is_refused_not_read_as_this_folder(capsys, monkeypatch, photos) -> None:
    """`predict "$PHOTOS"` with PHOTOS unset passed "", which Path reads as ".": every image under
    the working folder was read, a home folder's thousands, with no word."""
    monkeypatch.chdir(photos)
    code, out, err = run(capsys, "", "--csv")
    assert code == 2 and out == ""
    assert err.splitlines() == [
        'facial-emotion predict: error: "": an empty path (an unset variable?); name . for this '
        "folder; pass image files, folders or globs"
    ]


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("--annotate", '"": an empty folder name (an unset variable?); name . for this folder'),
        ("-o", '"": an empty file name (an unset variable?); name the file, or - for stdout'),
    ],
)
def test_an_empty_output_name_is_refused_not_read_as_this_folder(
    capsys, monkeypatch, tiny_model_path, tmp_path, option, said
) -> None:
    """`--annotate "$OUT"` with OUT unset wrote the marked copies into the working folder
    ("" is "."), and `-o "$OUT"` said ".: is a folder", a name the user never typed."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(["predict", str(HOPPER), "--model", str(tiny_model_path), option, ""])
    assert stop.value.code == 2 and list(tmp_path.iterdir()) == []
    assert capsys.readouterr().err.splitlines()[-1].endswith(said)


@pytest.mark.parametrize(
    "argv",
    [
        ["predict", str(HOPPER)],
        ["video", "clip.mp4"],
        ["evaluate", "--data", "faces"],
        ["app"],
        ["export"],
    ],
    ids=lambda argv: argv[0],
)
def test_an_empty_model_name_is_refused_as_such(capsys, monkeypatch, tmp_path, argv) -> None:
    """`--model "$MODEL"` with MODEL unset: predict, video, the app and export said ".: is a
    folder" ("" is "."), and evaluate took it for no --model and scored the shipped model."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main([*argv, "--model", ""])
    assert stop.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"facial-emotion {argv[0]}: error: argument --model: "
        '"": an empty file name (an unset variable?); name the model file, or leave out '
        "--model for the default"
    )


def test_table_lists_each_face_with_box_emotion_and_probabilities(capsys, tiny_model_path):
    code, out, err = run(capsys, HOPPER, "--model", tiny_model_path)
    assert code == 0, err
    header, row = out.splitlines()
    assert header.split()[:5] == ["file", "face", "box", "x,y,w,h", "emotion"]
    assert header.split()[-7:] == list(EMOTIONS)
    cells = row.split()
    assert cells[0] == str(HOPPER) and cells[1] == "1" and cells[3] in EMOTIONS
    assert len(cells) == 5 + len(EMOTIONS)


def test_json_for_a_folder_searched_recursively(capsys, tiny_model_path, photos):
    # Hidden files are skipped, as the data loaders skip them: macOS's ._a.jpg holds no picture
    (photos / "._a.jpg").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (photos / ".thumbnails").mkdir()
    shutil.copy(HOPPER, photos / ".thumbnails" / "a.jpg")
    # Files it cannot read were left out without a word: an iPhone's photo, a broken link
    (photos / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic")
    (photos / "gone.jpg").symlink_to(photos / "nowhere.jpg")
    code, out, err = run(capsys, photos, "--model", tiny_model_path, "--json")
    assert code == 0, err
    assert "._a.jpg" not in err and ".thumbnails" not in out
    gone = (
        f"{photos}: 1 link that leads to no file (gone.jpg, whose target is gone); "
        "remove it or point it at a photo"
    )
    passed_over = (
        f"{photos}: 2 files that are not images Pillow reads (such as IMG_0001.HEIC); "
        "convert any that are photos to JPEG or PNG"
    )
    assert err.startswith(f"facial-emotion predict: skipped {gone}\n")
    assert f"facial-emotion predict: skipped {passed_over}\n" in err
    data = json.loads(out)
    assert data["skipped"] == [gone, passed_over]
    assert data["classes"] == list(EMOTIONS) and data["detector"] == "haar"
    files = {Path(im["file"]).name: im for im in data["images"]}
    assert set(files) == {"a.jpg", "b.jpg", "c.png", "empty.png"}  # notes.txt is not looked at
    assert len(files["a.jpg"]["faces"]) == 1
    assert files["c.png"]["faces"][0]["box"] == [0, 0, 48, 48]  # a face crop is used whole
    assert [files[name]["faces"][0]["whole_image"] for name in ("c.png", "a.jpg")] == [True, False]
    assert files["empty.png"]["faces"] == []
    assert "empty.png: no face found" in err
    face = files["b.jpg"]["faces"][0]
    assert set(face) == {
        "box",
        "emotion",
        "score",
        "probabilities",
        "whole_image",
        "detector_score",
    }
    assert face["detector_score"] >= 5  # Haar's neighbour count: min_neighbors (4) + 1 at least
    assert files["c.png"]["faces"][0]["detector_score"] is None  # read whole: nothing detected
    assert sum(face["probabilities"].values()) == pytest.approx(1, abs=1e-4)


def test_glob_and_csv_to_a_file(capsys, tiny_model_path, photos, tmp_path):
    target = tmp_path / "out" / "faces.csv"
    pattern = str(photos / "**" / "*.jpg")
    code, out, err = run(capsys, pattern, "--model", tiny_model_path, "--csv", "-o", target)
    assert code == 0, err
    assert out == ""
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [Path(r["file"]).name for r in rows] == ["a.jpg", "b.jpg"]
    assert list(rows[0])[:8] == ["file", "face", "x", "y", "w", "h", "emotion", "score"]
    assert float(rows[0][rows[0]["emotion"]]) == pytest.approx(float(rows[0]["score"]))
    # the detector's strength comes last, so every other column keeps its place
    assert list(rows[0])[8:] == [*EMOTIONS, "detector_score"]
    assert int(rows[0]["detector_score"]) >= 5
    assert sorted(p.name for p in target.parent.iterdir()) == ["faces.csv"]  # no temp left


def test_every_csv_row_has_the_header_s_cells_a_faceless_one_too():
    """A faceless photo's row fell a cell short of the header: a strict CSV reader refuses a
    ragged file, and a lenient one shifts or drops the missing detector_score."""
    from facial_emotion.faces import Face

    probabilities = {c: 1 / len(EMOTIONS) for c in EMOTIONS}
    face = Face((1, 2, 30, 30), "happy", 0.5, probabilities, detector_score=6.0)
    results = [
        predict_output.ImageResult("a.jpg", 64, 64, [face]),
        predict_output.ImageResult("empty.png", 64, 64, []),
    ]
    header, *rows = list(csv.reader(io.StringIO(predict_output.render_csv(results, EMOTIONS))))
    assert [len(row) for row in rows] == [len(header)] * 2
    assert rows[1][0] == "empty.png" and set(rows[1][1:]) == {""}


def test_the_readme_s_pandas_recipes_load_predict_s_csv_and_json(
    capsys, tiny_model_path, photos, tmp_path, monkeypatch
):
    """A faceless photo made the CSV's face and box columns floats in pandas, and pd.read_json
    could not load the JSON: the README's lines, run as they stand, read both."""
    pd = pytest.importorskip("pandas")
    monkeypatch.chdir(tmp_path)
    for name in ("faces.csv", "faces.json"):
        assert run(capsys, photos, "--model", tiny_model_path, "-o", name)[0] == 0
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("    import json, pandas as pd\n")
    recipe = "\n".join(line[4:] for line in readme[start : readme.index("\n\n", start)].split("\n"))
    assert pd.read_csv("faces.csv")["face"].dtype == float  # the trouble the recipe answers
    with pytest.raises(ValueError, match="same length"):
        pd.read_json("faces.json")
    done: dict = {}
    exec(recipe, done)
    rows, faces = done["rows"], done["faces"]
    assert [str(rows[c].dtype) for c in ("face", "x", "y", "w", "h")] == ["Int64"] * 5
    names = [Path(f).name for f in rows["file"]]
    assert names == ["a.jpg", "empty.png", "b.jpg", "c.png"]
    assert rows["face"].isna().tolist() == [False, True, False, False]  # the faceless photo
    assert [Path(f).name for f in faces["file"]] == ["a.jpg", "b.jpg", "c.png"]  # a row a face
    assert faces.loc[2, ["x", "y", "w", "h"]].tolist() == [0, 0, 48, 48]
    assert faces.loc[0, "width"] == 512 and "probabilities.happy" in faces


def test_a_folder_is_searched_for_jpeg_files_named_the_windows_way(
    capsys, tiny_model_path, tmp_path
):
    for name in ("photo.jfif", "photo.jpe"):
        shutil.copy(HOPPER, tmp_path / name)
    code, out, err = run(capsys, tmp_path, "--model", tiny_model_path, "--json")
    assert code == 0, err
    assert sorted(Path(im["file"]).name for im in json.loads(out)["images"]) == [
        "photo.jfif",
        "photo.jpe",
    ]


def test_a_folder_a_glob_matches_is_searched_like_one_given_by_name(
    capsys, tiny_model_path, photos
):
    code, out, err = run(capsys, str(photos / "s*"), "--model", tiny_model_path, "--json")
    assert code == 0, err
    assert [Path(i["file"]).name for i in json.loads(out)["images"]] == ["b.jpg", "c.png"]


def test_a_sub_folder_that_cannot_be_listed_is_reported_and_the_search_goes_on(
    capsys, tiny_model_path, photos, monkeypatch
):
    locked = photos / "locked"
    locked.mkdir()
    shutil.copy(HOPPER, locked / "d.jpg")
    listing = os.scandir

    def scandir(path):  # as chmod 000 does for a user; tests may run as root, which it spares
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)

    monkeypatch.setattr(os, "scandir", scandir)
    code, out, err = run(capsys, photos, "--model", tiny_model_path, "--json")
    assert code == 0, err
    assert f"predict: skipped {locked}: folder cannot be read (Permission denied)" in err
    names = [Path(im["file"]).name for im in json.loads(out)["images"]]
    assert names == ["a.jpg", "empty.png", "b.jpg", "c.png"]


def test_photo_without_a_face_says_so_in_the_table(capsys, tiny_model_path, photos):
    code, out, _ = run(capsys, photos / "empty.png", "--model", tiny_model_path)
    assert code == 0
    assert "empty.png  -     no face found" in out


def test_table_columns_line_up_when_a_faceless_file_has_the_longest_name(
    capsys, tiny_model_path, photos
):
    long_name = photos / "a_photo_with_nobody_in_it_at_all.png"
    (photos / "empty.png").rename(long_name)
    code, out, _ = run(capsys, photos / "a.jpg", long_name, "--model", tiny_model_path)
    assert code == 0
    header, face, faceless = out.splitlines()
    column = header.index("face")
    assert column > len(str(long_name))
    assert face[column] == "1" and faceless[column] == "-"


@pytest.mark.parametrize(("name", "reader"), [("faces.json", json.loads), ("faces.csv", None)])
def test_output_suffix_picks_the_format(capsys, tiny_model_path, tmp_path, name, reader):
    target = tmp_path / name
    code, out, err = run(capsys, HOPPER, "--model", tiny_model_path, "-o", target)
    assert code == 0 and out == "", err
    text = target.read_text()
    if reader is None:
        assert next(csv.reader(io.StringIO(text)))[:4] == ["file", "face", "x", "y"]
    else:
        assert reader(text)["images"][0]["file"] == str(HOPPER)


def test_format_flag_that_contradicts_the_output_name_stops(capsys, tiny_model_path, tmp_path):
    target = tmp_path / "faces.csv"
    code, out, err = run(capsys, HOPPER, "--model", tiny_model_path, "--json", "-o", target)
    assert code == 2 and not target.exists()
    assert "faces.csv: --json would write JSON into a .csv file; drop --json or name" in err


@pytest.mark.parametrize("buffered", [False, True])
def test_a_reader_that_stops_early_ends_the_command_quietly(buffered) -> None:
    """`facial-emotion predict ... | head -1`: no broken-pipe error, the status other tools give.
    Buffered, as a shell without PYTHONUNBUFFERED runs it, the answer waited in stdout's buffer
    until Python exited, which printed "Exception ignored ... BrokenPipeError" and status 120."""
    command = [sys.executable, "-m", "facial_emotion", "predict", str(HOPPER), "--json"]
    env = {k: v for k, v in os.environ.items() if not (buffered and k == "PYTHONUNBUFFERED")}
    stage = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    stage.stdout.close()  # the reader is gone before the answer is written
    err = stage.stderr.read().decode()
    assert stage.wait(timeout=120) == 141, err
    assert err == ""


def test_a_reader_that_stops_early_ends_an_output_to_dev_stdout_quietly() -> None:
    """`predict photo -o /dev/stdout | head -1`: the answer, written through the path, met the
    gone reader as "error: /dev/stdout: cannot be written (Broken pipe); choose a writable path"
    and status 2, where the same answer printed to stdout ended quietly with 141."""
    command = [sys.executable, "-m", "facial_emotion", "predict", str(HOPPER), "--json"]
    command += ["-o", "/dev/stdout"]
    stage = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stage.stdout.close()  # the reader is gone before the answer is written
    err = stage.stderr.read().decode()
    assert stage.wait(timeout=120) == 141, err
    assert err == ""


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_stdout_that_cannot_be_written_is_a_one_line_error() -> None:
    """A full disk under a log collector (`> /dev/full`): the error line was followed by Python's
    "Exception ignored ... OSError" as it flushed stdout again at exit, and status 120."""
    command = [sys.executable, "-m", "facial_emotion", "predict", str(HOPPER), "--json"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with open("/dev/full", "w") as full:
        run = subprocess.run(command, stdout=full, stderr=subprocess.PIPE, env=env, timeout=120)
    err = run.stderr.decode()
    assert run.returncode == 2, err
    reason = "standard output: cannot be written (No space left on device)"
    assert err.splitlines() == [f"facial-emotion predict: error: {reason}"]


class NearlyFullDisk(io.RawIOBase):
    """An unbuffered stdout (PYTHONUNBUFFERED) on a disk with ``room`` bytes left: a write takes
    what fits, and the next one is refused, as a full disk's file does."""

    def __init__(self, room: int) -> None:
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if not self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        taken = min(len(data), self.room)
        self.room -= taken
        return taken


@pytest.mark.parametrize("fmt", ["--json", "--csv"])
def test_an_unbuffered_stdout_on_a_full_disk_is_an_error_not_a_cut_answer(
    capsys, monkeypatch, tiny_model_path, fmt
) -> None:
    """`PYTHONUNBUFFERED=1 predict photos --json > faces.json` on a nearly full disk kept the
    first 4 KB of the answer and ended with status 0: the text layer drops a short write's rest
    (with --csv, the last image's rows)."""
    capsys.readouterr()
    stdout = io.TextIOWrapper(NearlyFullDisk(100), encoding="utf-8", write_through=True)
    monkeypatch.setattr(sys, "stdout", stdout)
    assert main(["predict", str(HOPPER), "--model", str(tiny_model_path), fmt]) == 2
    reason = "standard output: cannot be written (No space left on device)"
    assert capsys.readouterr().err.splitlines()[-1] == f"facial-emotion predict: error: {reason}"


def test_an_unbuffered_non_blocking_stdout_waits_for_room_without_spinning(monkeypatch) -> None:
    """A stdout left non-blocking by the program that started predict (Node's pipes are), and
    full: each write answered None at once and was tried again, 100% of a core until the reader
    drained the pipe (235,000 tries in 0.3 s here)."""
    import fcntl
    import threading
    import time

    from facial_emotion.cli.predict import write_stdout

    tries = []
    full = threading.Event()

    class Counted(io.FileIO):
        def write(self, data):
            tries.append(len(data))
            written = super().write(data)
            if written is None:
                full.set()
            return written

    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETFL, fcntl.fcntl(write_end, fcntl.F_GETFL) | os.O_NONBLOCK)
    raw = Counted(write_end, "w")
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="utf-8", write_through=True))
    text = "x" * 300_000  # several times a pipe's 64 KB
    got = []

    def reader() -> None:
        # once the write has met the full pipe (a fixed 0.3 s from the start may pass, on a
        # loaded machine, before it has), which then stays full a while
        full.wait(timeout=60)
        time.sleep(0.3)
        while chunk := os.read(read_end, 65536):
            got.append(chunk)

    thread = threading.Thread(target=reader)
    thread.start()
    write_stdout(text)
    raw.close()
    thread.join(timeout=30)
    os.close(read_end)
    assert b"".join(got) == text.encode()
    assert len(tries) < 200, f"{len(tries)} writes tried"


@pytest.mark.parametrize("option", ["-o", "--annotate"])
def test_a_full_disk_names_the_output_not_stdout(
    capsys, monkeypatch, tiny_model_path, tmp_path, option
) -> None:
    """`-o faces.csv` or `--annotate marked/` on a full disk: the write's "No space left on
    device" named no file, and the error blamed "standard output" (audit CJ)."""

    def refused(write):
        def full(self: Path, *args, **kwargs) -> int:
            if ".partial" in self.name:  # an output's temporary file, as a full disk refuses it
                raise OSError(errno.ENOSPC, "No space left on device")
            return write(self, *args, **kwargs)

        return full

    monkeypatch.setattr(Path, "write_bytes", refused(Path.write_bytes))
    monkeypatch.setattr(Path, "write_text", refused(Path.write_text))
    target = tmp_path / ("faces.csv" if option == "-o" else "marked")
    code, out, err = run(capsys, HOPPER, "--model", tiny_model_path, option, target)
    assert code == 2
    written = target if option == "-o" else target / HOPPER.name
    reason = (
        "cannot be written (No space left on device); free some space, or write to another disk"
    )
    assert err.splitlines()[-1] == f"facial-emotion predict: error: {written}: {reason}"


def closing(fd: int):
    """A child's ``preexec_fn`` that closes ``fd``, as `>&-` (1) or `2>&-` (2) does."""
    return lambda: os.close(fd)


def test_a_closed_stdout_is_a_one_line_error_and_o_file_still_works(tmp_path) -> None:
    """`predict photo >&-`: Python set sys.stdout to None, and the results raised AttributeError,
    a traceback and status 1, even with -o FILE, where stdout carries nothing (audit CJ)."""
    command = [sys.executable, "-m", "facial_emotion", "predict", str(HOPPER), "--no-progress"]
    closed = subprocess.run(command, stderr=subprocess.PIPE, preexec_fn=closing(1), timeout=120)
    err = closed.stderr.decode()
    assert closed.returncode == 2, err
    reason = "standard output: is closed (>&-); redirect it to a file, or to /dev/null"
    assert err.splitlines() == [f"facial-emotion predict: error: {reason}"]
    out = tmp_path / "faces.csv"
    to_file = subprocess.run(
        [*command, "-o", str(out)], stderr=subprocess.PIPE, preexec_fn=closing(1), timeout=120
    )
    assert to_file.returncode == 0, to_file.stderr.decode()
    assert out.read_text().startswith("file,face,")


def test_a_closed_stderr_keeps_warnings_out_of_the_csv_on_stdout(tmp_path) -> None:
    """`predict photos --csv 2>&-`: with sys.stderr None, print(file=sys.stderr) wrote to stdout,
    and "skipped ..." lines went into the CSV a program read (audit CJ)."""
    (tmp_path / "broken.jpg").write_bytes(b"not a picture")
    shutil.copy(HOPPER, tmp_path / "a.jpg")
    command = [sys.executable, "-m", "facial_emotion", "predict", str(tmp_path), "--csv"]
    run = subprocess.run(command, stdout=subprocess.PIPE, preexec_fn=closing(2), timeout=120)
    assert run.returncode == 0
    rows = list(csv.reader(io.StringIO(run.stdout.decode())))
    assert [row[0] for row in rows] == ["file", str(tmp_path / "a.jpg")]


def test_an_error_whose_terminal_is_gone_is_still_status_2(monkeypatch, tmp_path) -> None:
    """A terminal that hung up takes no more lines (EIO): the error line that could not be
    printed raised again from the error handler, a traceback and exit status 1. Met by a webcam
    run ended by SIGHUP, whose summary line then went to the closed terminal."""
    from facial_emotion.cli import main

    class Gone:
        def write(self, text: str) -> int:
            raise OSError(errno.EIO, "Input/output error")

        def flush(self) -> None:
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(sys, "stderr", Gone())
    assert main(["predict", str(tmp_path / "missing.jpg")]) == 2


def test_an_output_fifo_no_program_reads_yet_says_the_command_waits_for_one(
    read_once_noted, tmp_path
) -> None:
    """`predict photo -o fifo.json` on a FIFO no program had opened waited after its work without
    a word, which looked like a hang; a note now says what it waits for (as `video --csv` does),
    and the results go out once a reader comes."""
    fifo = tmp_path / "faces.json"
    os.mkfifo(fifo)
    command = [sys.executable, "-m", "facial_emotion", "predict", str(HOPPER), "-o", str(fifo)]
    status, err, text = read_once_noted(command, fifo)
    assert status == 0, err
    assert err.splitlines() == [
        f"facial-emotion predict: note: waiting for a program to read {fifo}; the results are "
        "written once one opens it"
    ]
    assert json.loads(text)["images"][0]["file"] == str(HOPPER)


def test_a_command_that_fails_before_its_fifo_output_ends_the_fifo_test(
    read_once_noted, tmp_path
) -> None:
    """The fixture's reader waited for good for a writer that never came, so a command that
    failed before writing its FIFO hung the test run (and CI) instead of failing a test."""
    fifo = tmp_path / "faces.json"
    os.mkfifo(fifo)
    missing = tmp_path / "missing.keras"
    command = [sys.executable, "-m", "facial_emotion", "predict", str(HOPPER), "-o", str(fifo)]
    command += ["--model", str(missing)]
    answer: list[tuple[int, str, str]] = []
    # a thread, so that the old fixture's endless wait fails this test rather than hangs it
    runner = threading.Thread(target=lambda: answer.append(read_once_noted(command, fifo)))
    runner.daemon = True
    runner.start()
    runner.join(timeout=120)
    assert answer, "the fixture still waits for a writer"
    status, err, text = answer[0]
    assert status == 2 and str(missing) in err and text == ""


def test_version(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert re.fullmatch(r"facial-emotion \d+\.\d+\.\d+\n", capsys.readouterr().out)


def test_unknown_option_is_reported_with_the_subcommand_usage(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["predict", str(HOPPER), "--bogus"])
    err = capsys.readouterr().err
    assert stop.value.code == 2
    assert err.startswith("usage: facial-emotion predict ")
    assert err.rstrip().endswith("error: unrecognized arguments: --bogus")


def test_bad_inputs_get_one_line_each_and_the_rest_is_processed(
    capsys, tiny_model_path, photos, tmp_path
):
    garbage = tmp_path / "broken.jpg"
    garbage.write_bytes(b"\xff\xd8 not really a jpeg")
    empty = tmp_path / "empty.png"
    empty.touch()
    args = [photos / "notes.txt", garbage, empty, tmp_path / "missing.png", HOPPER]
    code, out, err = run(capsys, *args, tmp_path / "zz*.gif", "--model", tiny_model_path)
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 5
    assert any("empty.png: empty file (0 bytes); remove or replace" in line for line in lines)
    assert any("notes.txt: not a readable picture" in line for line in lines)
    assert any("broken.jpg: not a readable picture" in line for line in lines)
    assert any("missing.png: no such file or folder" in line for line in lines)
    assert any("zz*.gif: no image file matches" in line for line in lines)
    assert str(HOPPER) in out


def test_nothing_readable_is_an_error(capsys, tiny_model_path, photos):
    code, out, err = run(capsys, photos / "notes.txt", "--model", tiny_model_path)
    assert code == 2 and out == ""
    last = err.strip().splitlines()[-1]
    assert last == (
        f"facial-emotion predict: error: {photos / 'notes.txt'}: could not be read as an image; "
        "see the line above"
    )
    code, _, err = run(capsys, photos / "nothing-here", "--model", tiny_model_path)
    assert code == 2 and err.splitlines() == [  # one line, as every other error
        f"facial-emotion predict: error: {photos / 'nothing-here'}: no such file or folder; "
        "pass image files, folders or globs"
    ]
    code, _, err = run(capsys, "/dev/null", "x", "--model", tiny_model_path)
    assert code == 2 and "skipped /dev/null: not a file or folder" in err


def test_missing_model_is_one_line_and_exit_2(capsys, tmp_path):
    code, out, err = run(capsys, HOPPER, "--model", tmp_path / "model.keras")
    assert code == 2 and out == ""
    assert err.strip() == (
        f"facial-emotion predict: error: {tmp_path / 'model.keras'}: model not found; "
        "check the path"  # not `dvc repro`: a pip user has no pipeline
    )


def test_corrupt_tflite_model(capsys, tmp_path):
    model = tmp_path / "x.tflite"
    model.write_bytes(np.random.default_rng(0).bytes(4096))
    code, _, err = run(capsys, HOPPER, "--model", model)
    assert code == 2
    assert "x.tflite: not a valid TensorFlow Lite model" in err and len(err.splitlines()) == 1


def test_annotate_writes_marked_copies(capsys, tiny_model_path, photos, tmp_path):
    out_dir = tmp_path / "annotated"
    args = [photos / "a.jpg", photos / "sub" / "b.jpg", HOPPER, photos / "empty.png"]
    code, _, err = run(capsys, *args, "--model", tiny_model_path, "--annotate", out_dir)
    assert code == 0, err
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == ["a.jpg", "b.jpg", "empty.png", "grace_hopper.jpg"]
    marked = np.asarray(Image.open(out_dir / "a.jpg"), np.int16)
    original = np.asarray(Image.open(HOPPER), np.int16)
    assert marked.shape == original.shape
    assert np.abs(marked - original).max() > 100  # a box was drawn


def test_detect_size_finds_a_small_face_in_a_large_photo(capsys, tiny_model_path, tmp_path):
    """A 50 px face in a 3000 px photo is 17 px in the 1024 px copy, under Haar's 24."""
    photo = tmp_path / "group.jpg"
    canvas = Image.new("RGB", (3000, 2250), (90, 120, 150))
    hopper = Image.open(HOPPER)
    canvas.paste(hopper.resize((hopper.width // 4, hopper.height // 4)), (1200, 900))
    canvas.save(photo)
    found = []
    for size in ([], ["--detect-size", "1600"]):
        code, out, err = run(capsys, photo, "--model", tiny_model_path, "--json", *size)
        assert code == 0, err
        found.append(len(json.loads(out)["images"][0]["faces"]))
    assert found == [0, 1]
    # A copy too small to hold a face found none and said only "no face found"
    with pytest.raises(SystemExit) as stop:
        run(capsys, photo, "--model", tiny_model_path, "--detect-size", "10")
    assert stop.value.code == 2
    assert "--detect-size: must be at least 48 pixels, got 10" in capsys.readouterr().err


def test_a_file_name_that_is_not_utf8_is_read_annotated_and_listed(
    capsys, tiny_model_path, tmp_path
):
    """Such names come from old archives and network shares; OpenCV crashed on them."""
    latin1 = os.fsdecode(b"caf\xe9.jpg")
    (tmp_path / "in").mkdir()
    shutil.copy(HOPPER, tmp_path / "in" / latin1)
    args = [tmp_path / "in", "--model", tiny_model_path, "--annotate", tmp_path / "annotated"]
    code, _, err = run(capsys, *args, "-o", tmp_path / "faces.csv")
    assert code == 0, err
    assert os.listdir(bytes(tmp_path / "annotated")) == [b"caf\xe9.jpg"]
    assert b"caf\xe9.jpg," in (tmp_path / "faces.csv").read_bytes()  # the name as ls shows it


def test_annotate_keeps_inputs_with_the_same_name_apart(capsys, tiny_model_path, tmp_path):
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        shutil.copy(HOPPER, tmp_path / folder / "face.jpg")
    out_dir = tmp_path / "annotated"
    args = [tmp_path / "x", tmp_path / "y", "--model", tiny_model_path, "--annotate", out_dir]
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    assert sorted(p.name for p in out_dir.iterdir()) == ["face.jpg", "face_2.jpg"]
    copies = {Path(i["file"]).parent.name: i["annotated"] for i in json.loads(out)["images"]}
    assert copies == {"x": str(out_dir / "face.jpg"), "y": str(out_dir / "face_2.jpg")}


def test_a_glob_through_a_folder_with_brackets_finds_its_photos(capsys, tiny_model_path, tmp_path):
    """A glob through "Party [2024]" read [2024] as a character class and matched nothing."""
    folder = tmp_path / "Party [2024]"
    folder.mkdir()
    shutil.copy(HOPPER, folder / "a.jpg")
    code, out, err = run(capsys, f"{folder}/*.jpg", "--model", tiny_model_path, "--csv")
    assert code == 0, err
    assert [row["file"] for row in csv.DictReader(io.StringIO(out))] == [str(folder / "a.jpg")]


def test_table_columns_line_up_with_wide_characters(capsys, tiny_model_path, tmp_path):
    wide = tmp_path / "顔写真.jpg"  # each character takes two columns
    shutil.copy(HOPPER, wide)
    code, out, err = run(capsys, wide, HOPPER, "--model", tiny_model_path)
    assert code == 0, err
    starts = {predict_output.cells(line[: line.index("149,")]) for line in out.splitlines()[1:]}
    assert len(starts) == 1  # the box column starts at one terminal column on every row


def test_a_name_the_output_cannot_encode_is_escaped_not_a_traceback(
    tiny_model_path, tmp_path, monkeypatch
):
    """On Windows, output to a pipe or file is cp1252: a CJK name ended the run in a traceback."""
    wide = tmp_path / "顔写真.jpg"
    shutil.copy(HOPPER, wide)
    cp1252 = io.TextIOWrapper(io.BytesIO(), encoding="cp1252")
    monkeypatch.setattr(sys, "stdout", cp1252)
    assert main(["predict", str(wide), "--model", str(tiny_model_path), "--csv"]) == 0
    cp1252.flush()
    assert "\\u9854\\u5199\\u771f.jpg,1," in cp1252.buffer.getvalue().decode("cp1252")


def test_marked_copies_differing_only_in_case_or_unicode_form_are_numbered(tmp_path):
    """On macOS's and Windows' disks Face.jpg and face.jpg are one file: one copy replaced the
    other, and the JSON listed both."""
    taken: set[str] = set()
    named = [
        predict_cli.annotated_name(tmp_path, Path(name), taken).name
        for name in ("a/Face.jpg", "b/face.jpg", "c/caf\u00e9.jpg", "d/cafe\u0301.jpg")
    ]
    assert named == ["Face.jpg", "face_2.jpg", "caf\u00e9.jpg", "cafe\u0301_2.jpg"]


def test_marked_copies_of_photos_with_the_longest_names_fit_the_file_system(
    capsys, tiny_model_path, tmp_path
):
    """A 255-byte name that a number or a new suffix made longer ended the run in a bare OS
    error, every photo after it unread."""
    long = "\u00e9" * 125 + "a.gif"  # 255 bytes in UTF-8; its copy is a PNG
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        Image.open(HOPPER).save(tmp_path / folder / long)
    out_dir = tmp_path / "annotated"
    args = [tmp_path / "x", tmp_path / "y", "--model", tiny_model_path, "--annotate", out_dir]
    code, out, err = run(capsys, *args, "--json")
    assert code == 0, err
    copies = [Path(image["annotated"]) for image in json.loads(out)["images"]]
    assert copies[0].name.endswith("\u00e9a.png") and copies[1].name.endswith("\u00e9_2.png")
    assert all(copy.is_file() and len(os.fsencode(copy.name)) <= 255 for copy in copies)


def test_a_newline_in_a_file_name_keeps_its_row_whole(capsys, tiny_model_path, tmp_path):
    """A newline in a name split its row in two, the second half under the wrong columns."""
    odd = tmp_path / "party\nnight.jpg"
    shutil.copy(HOPPER, odd)
    code, out, err = run(capsys, odd, "--model", tiny_model_path)
    assert code == 0, err
    head, row = out.splitlines()
    assert row.startswith(f"{tmp_path}/party?night.jpg  1  ")


def test_a_file_name_cannot_forge_a_line_or_drive_the_terminal_on_stderr(
    capsys, tiny_model_path, tmp_path
):
    """The table showed a name's control characters as ?, but the lines on stderr printed them:
    an uploaded file's name forged a line of the log, or cleared and recoloured the terminal."""
    forged = tmp_path / "x\nfacial-emotion predict: \x1b[2J\x1b[31mall read.jpg"
    forged.write_bytes(b"not a picture")
    code, out, err = run(capsys, forged, HOPPER, "--model", tiny_model_path)
    assert code == 0 and "\x1b" not in err
    assert err.splitlines()[0].startswith(
        f"facial-emotion predict: skipped {tmp_path}/x?facial-emotion predict: "
        "?[2J?[31mall read.jpg"
    )
    code, out, err = run(capsys, forged, "--model", tiny_model_path)  # nothing read: the error
    assert code == 2 and "\x1b" not in err and len(err.splitlines()) == 2


def test_a_file_named_like_an_option_gets_a_hint(capsys, tmp_path, monkeypatch):
    """`predict -photo.jpg` said only "the following arguments are required: PATH"."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(HOPPER, "-photo.jpg")
    for argv in (["-photo.jpg"], [str(HOPPER), "-photo.jpg"]):
        with pytest.raises(SystemExit) as stop:
            main(["predict", *argv])
        last = capsys.readouterr().err.splitlines()[-1]
        assert stop.value.code == 2
        assert last.endswith("(-photo.jpg is a file: pass it after -- or as ./-photo.jpg)")


def test_annotate_never_replaces_a_file_already_in_its_folder(capsys, tiny_model_path, photos):
    """Annotating photos/sub into photos replaced the original photos/b.jpg without a word."""
    shutil.copy(HOPPER, photos / "b.jpg")
    before = {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()}
    args = [photos / "sub" / "b.jpg", "--model", tiny_model_path, "--annotate", photos]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert err.splitlines() == [
        f"facial-emotion predict: error: {photos}: already holds b.jpg, which the marked copies "
        "would replace; pass --annotate a new or empty folder"
    ]
    assert {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()} == before


def test_a_dash_for_output_is_stdout(capsys, tiny_model_path, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, HOPPER, "--model", tiny_model_path, "--json", "-o", "-")
    assert code == 0, err
    assert json.loads(out)["images"][0]["faces"] and not (tmp_path / "-").exists()


def test_outputs_that_would_replace_an_input_stop_before_any_write(capsys, tiny_model_path, photos):
    before = {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()}
    notes = photos / "notes.txt"  # a file named is read, whatever its suffix
    code, out, err = run(capsys, notes, "--model", tiny_model_path, "-o", notes)
    assert code == 2 and out == "" and len(err.splitlines()) == 1
    assert "is an input, and an output would replace it" in err
    # `video -o` writes the marked video: here it would have put a table into a photo
    for target in (photos / "a.jpg", photos / "new.PNG", photos / "clip.mp4", photos / "c.m4v"):
        code, out, err = run(capsys, photos, "--model", tiny_model_path, "-o", target)
        assert code == 2 and out == "" and len(err.splitlines()) == 1
        assert "-o writes the table, JSON or CSV, not a picture; name it .txt" in err
    for inputs, out_dir in (
        ([photos], photos),  # the folder searched
        ([photos], photos / "marked"),  # a new folder inside it: read by the next run
        ([photos / "sub" / "b.jpg"], photos / "sub"),  # the photo's own folder
    ):
        code, out, err = run(capsys, *inputs, "--model", tiny_model_path, "--annotate", out_dir)
        assert code == 2 and out == "" and len(err.splitlines()) == 1
        assert f"{out_dir}: holds the photos being read" in err
    code, _, err = run(capsys, HOPPER, "--model", tiny_model_path, "--annotate", photos / "a.jpg")
    assert code == 2 and "a.jpg: is a file; name a folder to write instead" in err
    assert {p: p.read_bytes() for p in photos.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    "option, target",
    [
        ("-o", "folder"),
        ("-o", "file/faces.json"),
        ("-o", "/proc/faces.json"),
        ("--annotate", "file/marked"),
        ("--annotate", "/proc/marked"),
    ],
)
def test_unwritable_output_stops_before_any_work_in_one_line(capsys, tmp_path, option, target):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    output = tmp_path / target
    # the model is missing too: the output's error must come first, before any image is read
    code, out, err = run(capsys, HOPPER, "--model", tmp_path / "no.keras", option, output)
    assert code == 2 and out == ""
    assert err.startswith(f"facial-emotion predict: error: {output}: ") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]


def test_console_script_help_documents_the_exit_status():
    script = Path(sys.executable).parent / "facial-emotion"
    top = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert top.returncode == 0 and "predict" in top.stdout and "video" in top.stdout
    sub = subprocess.run([script, "predict", "--help"], capture_output=True, text=True, timeout=120)
    assert sub.returncode == 0
    assert "Exit status: 0 when at least one image was read" in " ".join(sub.stdout.split())
    assert "--annotate DIR" in sub.stdout and "--detector {haar,mtcnn}" in sub.stdout
    module = subprocess.run(
        [sys.executable, "-m", "facial_emotion", "predict", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert module.returncode == 0 and module.stdout == sub.stdout


def test_annotate_into_the_current_folder(capsys, tiny_model_path, tmp_path, monkeypatch):
    """`--annotate .` stopped with "PosixPath('.') has an empty name"."""
    (tmp_path / "marked").mkdir()
    monkeypatch.chdir(tmp_path / "marked")
    code, _, err = run(capsys, HOPPER, "--model", tiny_model_path, "--annotate", ".")
    assert code == 0, err
    assert (tmp_path / "marked" / HOPPER.name).is_file()


def test_json_says_nothing_was_read_when_nothing_was(capsys, tiny_model_path, photos):
    """A program reading --json got no document at all, only the exit status."""
    for path in (photos / "notes.txt", photos / "nothing-here"):
        code, out, err = run(capsys, path, "--model", tiny_model_path, "--json")
        assert code == 2 and "error:" in err
        document = json.loads(out)
        assert document["images"] == [] and len(document["skipped"]) == 1
        assert document["skipped"][0].startswith(str(path))


def test_a_model_without_some_emotions_says_which_it_cannot_read(
    capsys, tiny_model_path, ckplus_model_path
):
    """A CK+ model has no neutral: a calm face came back as one of its other classes, sure of
    it, and nothing said the model could not have answered neutral."""
    code, out, err = run(capsys, HOPPER, "--model", ckplus_model_path, "--json")
    assert code == 0 and json.loads(out)["images"]
    assert (
        f"facial-emotion predict: note: {ckplus_model_path.name} reads angry, disgust, fear, "
        "happy, sad, surprise, contempt; it has no neutral, so a face showing that is read as one "
        "of the others\n" in err
    )
    code, out, err = run(capsys, HOPPER, "--model", tiny_model_path, "--json")
    assert code == 0 and "note:" not in err


def test_a_model_trained_on_the_synthetic_faces_says_its_readings_mean_nothing(
    capsys, tiny_model_path, tmp_path
):
    """`dvc repro` on a fresh clone trains on drawn shapes; that model read a real photo
    "angry 0.92" with nothing to say it cannot read real faces (audit X)."""
    from facial_emotion.modelfile import card_path

    synthetic = tmp_path / "model.keras"
    shutil.copy(tiny_model_path, synthetic)
    card = json.loads(card_path(tiny_model_path).read_text())
    card["source"] = {"name": "synthetic", "path": None}  # as the pipeline's card has it
    card_path(synthetic).write_text(json.dumps(card))
    code, out, err = run(capsys, HOPPER, "--model", synthetic, "--json")
    assert code == 0 and json.loads(out)["images"]
    assert (
        "facial-emotion predict: note: model.keras was trained on the embedded synthetic faces, "
        "drawn shapes, so its readings of real faces mean nothing; use the shipped FER2013 model "
        "(the default) or train on real data (data.md)\n" in err
    )


def test_crops_reads_each_image_whole_as_one_face(capsys, tiny_model_path, tmp_path):
    """A folder of face crops cut by another detector: the search missed tight ones and found
    nothing to read in them."""
    crops = tmp_path / "crops"
    crops.mkdir()
    Image.open(HOPPER).crop((170, 130, 355, 330)).save(crops / "tight.png")  # no margin left
    Image.new("L", (60, 60), 90).save(crops / "flat.png")
    code, out, err = run(capsys, crops, "--model", tiny_model_path, "--json", "--crops")
    assert code == 0, err
    document = json.loads(out)
    assert document["detector"] == "none: --crops"
    (image,) = document["images"]
    (face,) = image["faces"]
    assert face["box"] == [0, 0, 185, 200] and face["whole_image"] is True
    assert "flat.png: crop 0 (60x60) is one flat colour, not a face" in err


@pytest.mark.parametrize("width", [80, 70])
def test_every_help_fits_the_terminal(capsys, monkeypatch, width):
    """predict's and video's notes were printed as written, in lines of up to 99 characters,
    which an 80-column or large-font terminal broke mid-word; their paragraphs stay."""
    monkeypatch.setenv("COLUMNS", str(width))
    for command in ("predict", "video", "evaluate", "export", "app"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert max(len(line) for line in text.splitlines()) <= width, command
        assert "\n\nExit status" in text or command not in ("video",), command


class Terminal(io.StringIO):
    """stderr as a terminal, where tqdm draws its bar."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("option", "env"), [((), None), (("--no-progress",), None), ((), "1"), ((), "0")]
)
def test_the_progress_bar_can_be_turned_off(monkeypatch, tiny_model_path, tmp_path, option, env):
    """A bar redraws itself with carriage returns, which a screen reader reads out each time;
    nothing turned it off (tqdm's TQDM_DISABLE gave way to predict's own setting)."""
    for i in range(predict_cli.PROGRESS_FROM):
        shutil.copy(HOPPER, tmp_path / f"{i}.jpg")
    if env is not None:
        monkeypatch.setenv("TQDM_DISABLE", env)
    monkeypatch.setattr(sys, "stderr", Terminal())
    argv = ["predict", str(tmp_path), "--model", str(tiny_model_path), "-o", os.devnull, *option]
    assert main(argv) == 0
    drawn = "\r" in sys.stderr.getvalue()
    assert drawn == (not option and env in (None, "0"))  # TQDM_DISABLE=0 reads as "bars on"


@pytest.mark.parametrize("stop", [KeyboardInterrupt, Terminated])
@pytest.mark.parametrize("name", ["faces.csv", "faces.json"])
def test_a_stopped_run_keeps_the_images_read_so_far_under_a_partial_name(
    capsys, monkeypatch, tiny_model_path, photos, tmp_path, stop, name
):
    """Ctrl-C or SIGTERM 19,000 photos into a 20,000-photo library (hours on 2 cores) threw away
    every result: the output was written only at the end. What was read is kept beside the name
    asked for, as `video` keeps its frames, and the name asked for is left as it was."""
    read = stopped_while_reading(monkeypatch, stop_at=3, stop=stop)
    target = tmp_path / "out" / name
    code, out, err = run(capsys, photos, "--model", tiny_model_path, "-o", target)
    assert code == (143 if stop is Terminated else 130), err
    kept = target.with_name(f"faces.partial{target.suffix}")
    assert sorted(target.parent.iterdir()) == [kept]  # no results file, no temporary
    assert err.splitlines()[-1] == (
        f"facial-emotion predict: note: stopped after 2 of 4 images; the results read up to "
        f"then are kept in {kept} (add --resume to go on from there)"
    )
    if name.endswith(".csv"):
        files = [row["file"] for row in csv.DictReader(kept.open())]
    else:
        files = [image["file"] for image in json.loads(kept.read_text())["images"]]
    assert files == read[:2]


def stopped_while_reading(monkeypatch, stop_at: int, stop: type[BaseException]) -> list[str]:
    """Make ``predict`` meet ``stop`` as it opens its ``stop_at``-th image; the files it opened,
    in order, are appended to the list returned."""
    import facial_emotion.predict

    opened: list[str] = []
    real = facial_emotion.predict.load_image

    def load_image(path, *args, **kwargs):
        opened.append(str(path))
        if len(opened) == stop_at:
            raise stop
        return real(path, *args, **kwargs)

    monkeypatch.setattr(facial_emotion.predict, "load_image", load_image)
    return opened


@pytest.mark.parametrize("name", ["faces.csv", "faces.json"])
def test_resume_reads_only_the_images_a_stopped_run_did_not(
    capsys, monkeypatch, tiny_model_path, photos, tmp_path, name
):
    """A 20,000-photo run stopped after 19,000 had to start again from the first photo; with
    --resume it reads the 2 images its partial file lacks, and the output holds all 4 once."""
    stopped_while_reading(monkeypatch, stop_at=3, stop=KeyboardInterrupt)
    target = tmp_path / "out" / name
    assert run(capsys, photos, "--model", tiny_model_path, "-o", target)[0] == 130
    monkeypatch.undo()
    opened = stopped_while_reading(monkeypatch, stop_at=0, stop=KeyboardInterrupt)
    code, out, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 0, err
    partial = target.with_name(f"faces.partial{target.suffix}")
    assert f"2 images are in {partial} already; reading the 2 it does not list" in err
    # a.jpg, listed, is read again first: it reads as it did, so this model read the file
    assert [Path(p).name for p in opened] == ["a.jpg", "b.jpg", "c.png"]
    assert sorted(target.parent.iterdir()) == [target]  # the partial file is in it now
    if name.endswith(".csv"):
        files = [row["file"] for row in csv.DictReader(target.open())]
        files = list(dict.fromkeys(files))  # a row per face
    else:
        files = [image["file"] for image in json.loads(target.read_text())["images"]]
    assert [Path(f).name for f in files] == ["a.jpg", "empty.png", "b.jpg", "c.png"]
    # run again on the finished output: nothing left to read, the output the same
    before = target.read_text()
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 0 and target.read_text() == before, err
    assert [Path(p).name for p in opened[3:]] == ["a.jpg"]  # the check's, and no other


def test_resume_adds_to_a_csv_written_before_the_detector_score_column(
    capsys, tiny_model_path, photos, tmp_path
):
    """A CSV of an earlier version lacks the last column: its rows are kept, with it empty."""
    target = tmp_path / "faces.csv"
    assert run(capsys, photos / "a.jpg", "--model", tiny_model_path, "-o", target)[0] == 0
    header, old = [row[:-1] for row in csv.reader(target.open())]  # as an earlier version wrote
    target.write_text(",".join(header) + "\n" + ",".join(old) + "\n")
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 0, err
    rows = list(csv.reader(target.open()))
    assert rows[0] == [*header, "detector_score"] and rows[1] == [*old, ""]
    assert [row[0] for row in rows[2:]] == [
        str(photos / n) for n in ("empty.png", "sub/b.jpg", "sub/c.png")
    ]


def test_resume_adds_to_json_written_before_the_whole_image_key(
    capsys, tiny_model_path, photos, tmp_path
):
    """A JSON file of a version before 2026-11-28 has neither ``whole_image`` nor
    ``detector_score`` in its faces: resumed, only ``detector_score`` was filled in, and a
    program reading ``face["whole_image"]`` met a KeyError on the old faces. Both are None,
    in the order new faces list them."""
    target = tmp_path / "faces.json"
    assert run(capsys, photos, "--model", tiny_model_path, "-o", target)[0] == 0
    data = json.loads(target.read_text())
    data["images"] = data["images"][:2]
    for face in (face for image in data["images"] for face in image["faces"]):
        del face["whole_image"], face["detector_score"]
    assert any(image["faces"] for image in data["images"])
    target.write_text(json.dumps(data))
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 0, err
    images = json.loads(target.read_text())["images"]
    keys = [list(face) for image in images for face in image["faces"]]
    assert all(k == keys[-1] for k in keys), keys
    old = [face for image in images[:2] for face in image["faces"]]
    assert old and all(f["whole_image"] is None and f["detector_score"] is None for f in old)


def test_resume_adds_to_json_written_before_the_detector_score_key(
    capsys, tiny_model_path, photos, tmp_path
):
    """A JSON file of an earlier version has no ``detector_score`` in its faces: resumed, its
    faces lacked the key the new ones have, and a program reading ``face["detector_score"]``
    (as the README lists every face's keys) met a KeyError on the old ones. They get None, as
    an old CSV's rows get an empty cell."""
    target = tmp_path / "faces.json"
    assert run(capsys, photos, "--model", tiny_model_path, "-o", target)[0] == 0
    data = json.loads(target.read_text())
    data["images"] = data["images"][:2]  # a stopped run's, written by the earlier version
    for image in data["images"]:
        for face in image["faces"]:
            del face["detector_score"]
    assert any(image["faces"] for image in data["images"])
    target.write_text(json.dumps(data))
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 0, err
    images = json.loads(target.read_text())["images"]
    assert len(images) == 4
    keys = [list(face) for image in images for face in image["faces"]]
    assert all(k == keys[-1] for k in keys) and keys[-1][-1] == "detector_score", keys
    assert all(face["detector_score"] is None for face in images[0]["faces"])
    # a face that is not a record: refused in one line, as other damage is
    data["images"][0]["faces"] = ["not a face"]
    target.write_text(json.dumps(data))
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 2 and "holds JSON, but not the results predict writes" in err, err


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '{"model": "m.keras", "images": [',
            "ends before its JSON does (cut short?), so --resume cannot add to it",
        ),
        ("file,face,emotion\n", "is not JSON, so not results predict wrote"),
        ("", "is empty, not results predict wrote"),
        ('["a", "list"]', "holds JSON, but not the results predict writes"),
        # Python refuses a number of over 4300 digits with a ValueError of its own
        (
            '{"images": [], "n": ' + "9" * 5000 + "}",
            "holds JSON, but not the results predict writes",
        ),
    ],
    ids=["cut-short", "not-json", "empty", "other-json", "huge-number"],
)
def test_resume_names_a_json_file_it_cannot_read_and_what_to_do(
    capsys, tiny_model_path, photos, tmp_path, text, said
):
    """A damaged or foreign -o file.json was refused in Python's words: "is not a predict JSON
    file (Expecting value: line 1 column 27 (char 26))", and nothing said what to do."""
    target = tmp_path / "faces.json"
    target.write_text(text)
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 2
    assert err.splitlines() == [
        f"facial-emotion predict: error: {target}: {said}; delete it, name a new -o file or "
        "leave out --resume"
    ]
    assert target.read_text() == text  # left as it was


def test_resume_refuses_an_output_it_cannot_add_to(capsys, tiny_model_path, photos, tmp_path):
    other = tmp_path / "faces.csv"
    other.write_text("file,face,emotion\n")  # another program's, or another model's classes
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", other, "--resume")
    assert code == 2
    assert err.splitlines()[-1] == (
        f"facial-emotion predict: error: {other}: is not this model's CSV (its columns differ); "
        "name a new -o file or leave out --resume"
    )
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "--resume")
    assert code == 2 and "pass -o FILE.csv or -o FILE.json" in err


def test_resume_names_a_table_an_earlier_version_wrote_under_a_csv_name(
    capsys, tiny_model_path, photos, tmp_path
):
    """Before 2026-11-28 `-o faces.csv` wrote the table (the name did not pick the format):
    resumed, it was called another model's CSV, sending the user to check the model."""
    table = tmp_path / "faces.txt"
    assert run(capsys, photos, "--model", tiny_model_path, "-o", table)[0] == 0
    old = table.rename(tmp_path / "faces.csv")
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", old, "--resume")
    assert code == 2
    assert err.splitlines()[-1] == (
        f"facial-emotion predict: error: {old}: holds predict's table, not CSV (before "
        "2026-11-28 -o wrote a table whatever the file's name); name a new -o file or leave "
        "out --resume"
    )
    old.write_text("\n")  # a blank first line is still just not this model's CSV
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", old, "--resume")
    assert code == 2 and "is not this model's CSV" in err, err


def test_resume_refuses_json_read_by_another_model_file_at_the_same_path(
    capsys, tiny_model_path, photos, tmp_path
):
    """The JSON named its model by path alone: a model retrained at that path (`dvc repro`) or
    an upgrade's new shipped model read the rest of the photos, its readings mixed with the
    earlier model's without a word. A file written before the digest is resumed with a note."""
    from facial_emotion.modelfile import card_path, save_keras
    from facial_emotion.models import build

    model = tmp_path / "models" / "model.keras"
    model.parent.mkdir()
    shutil.copy(tiny_model_path, model)
    shutil.copy(card_path(tiny_model_path), card_path(model))
    target = tmp_path / "faces.json"
    assert run(capsys, photos / "a.jpg", "--model", model, "-o", target)[0] == 0
    written = json.loads(target.read_text())
    assert written["model_sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    save_keras(build("tiny", len(EMOTIONS)), model, EMOTIONS, architecture="tiny")  # retrained
    code, _, err = run(capsys, photos, "--model", model, "-o", target, "--resume")
    then, now = written["model_sha256"][:12], hashlib.sha256(model.read_bytes()).hexdigest()[:12]
    assert code == 2 and err.splitlines() == [
        f"facial-emotion predict: error: {target}: its model file {model} has changed since "
        f"(retrained or replaced: sha256 {then}... then, {now}... now); name a new -o file or "
        "leave out --resume"
    ]
    del written["model_sha256"]  # as an earlier version wrote it: its photo is read again
    target.write_text(json.dumps(written))
    code, _, err = run(capsys, photos, "--model", model, "-o", target, "--resume")
    assert code == 2
    assert f"{target} names its model by path alone (written before model_sha256)" in err
    assert f"{target}: was read by another model or with other settings" in err


@pytest.mark.parametrize("digest", [None, ""])
def test_resume_says_a_hand_edited_model_digest_is_no_digest(
    capsys, tiny_model_path, photos, tmp_path, digest
):
    """`"model_sha256": null` edited into the file was said as "sha256 None... then", a digest
    that reads as if a model named None had read the photos."""
    target = tmp_path / "faces.json"
    assert run(capsys, photos / "a.jpg", "--model", tiny_model_path, "-o", target)[0] == 0
    written = json.loads(target.read_text())
    now = written["model_sha256"][:12]
    target.write_text(json.dumps({**written, "model_sha256": digest}))
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 2 and err.splitlines() == [
        f"facial-emotion predict: error: {target}: its model_sha256 is {json.dumps(digest)}, "
        f"not a digest, so it does not say which model read it (this run: {tiny_model_path}, "
        f"sha256 {now}...); name a new -o file or leave out --resume"
    ]


def test_resume_refuses_json_read_with_another_min_confidence(
    capsys, tiny_model_path, photos, tmp_path
):
    """Readings made with and without --min-confidence would be mixed in one file, named
    "uncertain" by one rule and not the other; the refusal names the setting that differs."""
    target = tmp_path / "faces.json"
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target)
    assert code == 0, err
    args = ("--model", tiny_model_path, "-o", target, "--resume", "--min-confidence", "0.5")
    code, _, err = run(capsys, photos, *args)
    assert code == 2
    assert err.splitlines()[-1] == (
        f"facial-emotion predict: error: {target}: was read with min_confidence None, this run "
        "with min_confidence 0.5; name a new -o file or leave out --resume"
    )


@pytest.fixture(scope="module")
def other_model_path(tmp_path_factory) -> Path:
    """Another small untrained model of the same classes: its readings are another model's."""
    import keras

    from facial_emotion.modelfile import save_keras
    from facial_emotion.models import build

    keras.utils.set_random_seed(1)
    path = tmp_path_factory.mktemp("other") / "model.keras"
    save_keras(build("tiny", len(EMOTIONS)), path, EMOTIONS, architecture="tiny")
    return path


@pytest.mark.parametrize(  # JSON names its model: refused by that, as tested above
    ("name", "change"),
    [("faces.csv", "model"), ("faces.csv", "--detect-size"), ("faces.json", "--detect-size")],
)
def test_resume_refuses_a_file_another_model_or_detect_size_read(
    capsys, tiny_model_path, other_model_path, photos, tmp_path, name, change
):
    """A CSV file records no model, and neither format --detect-size: a folder run resumed with
    another --model added that model's readings to the file's rows, exit status 0. One listed
    photo is read again, and the file is refused when it reads otherwise now."""
    target = tmp_path / name
    assert run(capsys, photos / "a.jpg", "--model", tiny_model_path, "-o", target)[0] == 0
    before = target.read_text()
    args = ["--model", other_model_path] if change == "model" else ["--detect-size", "300"]
    if change != "model":
        args += ["--model", tiny_model_path]
    code, _, err = run(capsys, photos, *args, "-o", target, "--resume")
    assert code == 2 and target.read_text() == before
    line = err.splitlines()[-1]
    assert line.startswith(
        f"facial-emotion predict: error: {target}: was read by another model or with other "
        f"settings ({photos / 'a.jpg'}: happy 0.30 at 149,102,229,229 in the file, "
    ), line
    assert line.endswith(
        "now); resume with the --model, --detector, --detect-size and --min-confidence that "
        "wrote it, or name a new -o file"
    ), line


def test_resume_says_when_no_listed_photo_can_be_read_again(
    capsys, tiny_model_path, photos, tmp_path
):
    """Photos moved since cannot be read again: the run goes on, and says the model is unchecked."""
    target = tmp_path / "faces.csv"
    moved = tmp_path / "moved.jpg"
    shutil.copy(photos / "a.jpg", moved)
    assert run(capsys, moved, "--model", tiny_model_path, "-o", target)[0] == 0
    moved.unlink()
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 0, err
    assert (
        f"note: none of the first photos {target} lists could be read again, so it is not "
        "checked that this model and these settings read them"
    ) in err
    assert len(list(csv.reader(target.open()))) == 1 + 1 + 4  # the header, moved.jpg's, the 4


def test_csv_on_stdout_gives_each_image_s_rows_as_it_is_read(
    capsys, monkeypatch, tiny_model_path, photos
):
    """`predict photos/ --csv > faces.csv` (or `| program`) printed nothing until the last of
    20,000 photos, hours on 2 cores, and a stop lost every row; rows now go out an image at a
    time, so a stop keeps those of the images read."""
    opened = stopped_while_reading(monkeypatch, stop_at=3, stop=KeyboardInterrupt)
    code, out, err = run(capsys, photos, "--model", tiny_model_path, "--csv")
    assert code == 130, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(dict.fromkeys(row["file"] for row in rows)) == opened[:2]
    monkeypatch.undo()
    code, out, err = run(capsys, photos, "--model", tiny_model_path, "--csv")
    assert code == 0 and out.count("file,face,") == 1, err  # the header once
    assert len({row["file"] for row in csv.DictReader(io.StringIO(out))}) == 4


def test_min_confidence_marks_faces_under_it_uncertain_in_every_format(capsys, tiny_model_path):
    code, out, err = run(capsys, HOPPER, "--model", tiny_model_path, "--json")
    assert code == 0, err
    (face,) = json.loads(out)["images"][0]["faces"]
    assert face["emotion"] in EMOTIONS
    code, out, err = run(
        capsys, HOPPER, "--model", tiny_model_path, "--json", "--min-confidence", "1"
    )
    assert code == 0, err
    document = json.loads(out)
    (unsure,) = document["images"][0]["faces"]
    assert document["min_confidence"] == 1.0
    assert unsure["emotion"] == "uncertain" and unsure["probabilities"] == face["probabilities"]
    code, out, _ = run(capsys, HOPPER, "--model", tiny_model_path, "--csv", "--min-confidence", "1")
    assert code == 0 and next(csv.DictReader(io.StringIO(out)))["emotion"] == "uncertain"


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("1.5", "--min-confidence: must be a probability from 0 to 1, got 1.5"),
        ("high", "--min-confidence: invalid probability value: 'high'"),
    ],
)
def test_min_confidence_must_be_a_probability(capsys, value, said):
    with pytest.raises(SystemExit) as stop:
        main(["predict", str(HOPPER), "--min-confidence", value])
    assert stop.value.code == 2
    assert said in capsys.readouterr().err


@pytest.mark.parametrize("name", ["faces.csv", "faces.json"])
def test_resume_knows_a_file_named_by_a_relative_and_an_absolute_path(
    capsys, monkeypatch, tiny_model_path, photos, tmp_path, name
):
    """`predict photos -o faces.csv`, then `--resume` with $PWD/photos, read every photo again
    and listed each one twice in the output."""
    monkeypatch.chdir(tmp_path)
    target = tmp_path / name
    assert run(capsys, "photos", "--model", tiny_model_path, "-o", target)[0] == 0
    opened = stopped_while_reading(monkeypatch, stop_at=0, stop=KeyboardInterrupt)
    code, _, err = run(capsys, photos, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 0 and opened == [os.path.join("photos", "a.jpg")], err  # the model's check
    if name.endswith(".csv"):
        files = {row["file"] for row in csv.DictReader(target.open())}
    else:
        files = {image["file"] for image in json.loads(target.read_text())["images"]}
    assert len(files) == 4


def test_a_carriage_return_in_a_file_name_keeps_its_csv_row_whole(
    capsys, monkeypatch, tiny_model_path, tmp_path
):
    """Python 3.11's csv writer quotes only the line end's characters (here \\n): a name's \\r
    went out bare, every CSV reader broke its row in two there, and --resume, not finding the
    name, read the photo again and listed it twice."""
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(HOPPER, folder / "party\rnight.jpg")
    shutil.copy(HOPPER, folder / "plain.jpg")
    names = sorted(str(path) for path in folder.iterdir())
    code, out, err = run(capsys, folder, "--model", tiny_model_path, "--csv")  # streamed
    assert code == 0, err
    assert sorted(row[0] for row in csv.reader(io.StringIO(out, newline=""))) == sorted(
        ["file", *names]
    )
    target = tmp_path / "faces.csv"
    assert run(capsys, folder, "--model", tiny_model_path, "-o", target)[0] == 0
    with target.open(newline="") as written:
        assert sorted(row[0] for row in csv.reader(written)) == sorted(["file", *names])
    opened = stopped_while_reading(monkeypatch, stop_at=0, stop=KeyboardInterrupt)
    code, _, err = run(capsys, folder, "--model", tiny_model_path, "-o", target, "--resume")
    assert code == 0 and len(opened) == 1, err  # one photo read again: the model's check


def test_annotated_copies_keep_no_location_or_camera_serial(
    capsys, tmp_path: Path, tiny_model_path: Path
) -> None:
    """A phone photo's EXIF says where it was taken and by which camera; the marked copy is
    drawn from the pixels alone, so sharing it shares neither (the README's Privacy section)."""
    from PIL import ExifTags

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = "SERIAL-123456"
    exif.get_ifd(ExifTags.IFD.GPSInfo).update({1: "N", 2: (51.0, 30.0, 0.0)})
    photo = tmp_path / "in" / "jane.jpg"
    photo.parent.mkdir()
    Image.open(HOPPER).save(photo, exif=exif.tobytes())
    assert Image.open(photo).getexif().get_ifd(ExifTags.IFD.GPSInfo)  # the input has them
    code, _, _ = run(capsys, photo, "--model", tiny_model_path, "--annotate", tmp_path / "out")
    marked = Image.open(tmp_path / "out" / "jane.jpg")
    assert code == 0 and len(marked.getexif()) == 0 and "exif" not in marked.info
