"""TensorFlow Lite export: real conversion of the tiny model on tiny prepared data made here."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from ai_edge_litert.interpreter import Interpreter

from facial_emotion import export as export_module
from facial_emotion.backends import load_backend
from facial_emotion.cli import main
from facial_emotion.data.prepared import LabelledImages, PreparedData, save
from facial_emotion.errors import FacialEmotionError
from facial_emotion.labels import EMOTIONS
from facial_emotion.modelfile import read_card


def _split(rng: np.random.Generator, n: int) -> LabelledImages:
    return LabelledImages(
        rng.integers(0, 256, (n, 48, 48), dtype=np.uint8), rng.integers(0, len(EMOTIONS), n)
    )


@pytest.fixture
def prepared_dir(tmp_path: Path, rng: np.random.Generator) -> Path:
    splits = {"train": _split(rng, 60), "val": _split(rng, 20), "test": _split(rng, 40)}
    source = {"name": "synthetic", "splits": "each split generated with its own sub-seed"}
    save(PreparedData(EMOTIONS, splits, source=source), tmp_path / "prepared")
    return tmp_path / "prepared"


@pytest.fixture
def model_path(tiny_model_path: Path, tmp_path: Path) -> Path:
    """The tiny model and its card copied into a ``models/`` folder of this test's own."""
    models = tmp_path / "models"
    models.mkdir()
    for source in (tiny_model_path, tiny_model_path.with_suffix(".json")):
        (models / source.name).write_bytes(source.read_bytes())
    return models / "model.keras"


def test_export_writes_both_models_their_cards_and_metrics(
    model_path: Path, prepared_dir: Path, tmp_path: Path
) -> None:
    metrics_path = tmp_path / "metrics" / "export.json"
    export_module.export(
        model_path, prepared_dir, model_path.parent, metrics_path, representative_samples=30
    )

    metrics = json.loads(metrics_path.read_text())
    assert metrics["split"] == "test" and metrics["faces"] == 40
    assert metrics["data"] == "synthetic"  # one short column in `dvc exp show`
    assert metrics["float32"]["agreement"] >= 0.995
    assert metrics["int8"]["representative_samples"] == 30
    for name in ("float32", "int8"):
        entry = metrics[name]
        assert entry["size_bytes"] == Path(entry["path"]).stat().st_size
        assert entry["latency_ms"] > 0
        assert entry["accuracy_change"] == pytest.approx(
            entry["accuracy"] - metrics["keras"]["accuracy"], abs=2e-4
        )
    keras_backend = load_backend(model_path, precision="float32")
    faces = np.random.default_rng(1).integers(0, 256, (5, 48, 48, 1)).astype(np.float32)
    for path in (model_path.with_suffix(".tflite"), model_path.parent / "model.int8.tflite"):
        lite = load_backend(path)
        assert read_card(path)["classes"] == list(EMOTIONS)
        assert lite.predict(faces).shape == (5, len(EMOTIONS))
    float32 = load_backend(model_path.with_suffix(".tflite")).predict(faces)
    np.testing.assert_allclose(float32, keras_backend.predict(faces), atol=1e-4)
    int8_card = read_card(model_path.parent / "model.int8.tflite")
    # Fed by the card alone, as a device developer would, a plain interpreter gives the package's
    # answers; it takes a face's bytes as they are (an int8 input took them shifted by 128, and
    # bytes copied in unshifted read 28.7% of the shipped model's val faces right, not 68%).
    tensors = int8_card["tensors"]
    assert tensors["input"]["dtype"] == tensors["output"]["dtype"] == "uint8"
    interpreter = Interpreter(model_path=str(model_path.parent / "model.int8.tflite"))
    interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], [5, 48, 48, 1])
    interpreter.allocate_tensors()
    fed, read = tensors["input"], tensors["output"]
    q = np.clip(np.round(faces / fed["scale"] + fed["zero_point"]), 0, 255).astype(np.uint8)
    assert np.array_equal(q, faces), "the bytes as they are"
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], q)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    probs = (out.astype(np.float32) - read["zero_point"]) * read["scale"]
    np.testing.assert_allclose(
        probs / probs.sum(1, keepdims=True),
        load_backend(model_path.parent / "model.int8.tflite").predict(faces),
        atol=1e-6,
    )
    parity = int8_card["parity"]
    assert parity["agreement"] == metrics["int8"]["agreement"] and parity["faces"] > 0
    assert parity["data"]["splits"] == "each split generated with its own sub-seed"
    assert not list(model_path.parent.glob(".*")), "no temporary files left behind"


def test_parity_figures_say_how_the_export_differs_from_keras() -> None:
    """Four faces, labels 0 0 1 1: Keras reads 3 right, the export (which flips face 1) 2, so
    the export agrees on 3 of 4 and loses a quarter of the accuracy; a near-equal export on
    synthetic data could not tell the sign of the change."""
    keras = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    lite = np.array([[0.9, 0.1], [0.4, 0.6], [0.3, 0.7], [0.6, 0.4]])
    figures = export_module.compare(keras, lite, np.array([0, 0, 1, 1]))
    assert figures == {
        "agreement": 0.75,
        "accuracy": 0.5,
        "accuracy_change": -0.25,
        "max_probability_difference": 0.4,
    }


def test_module_entry_runs_as_the_dvc_stage_without_int8(
    model_path: Path,
    prepared_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`python -m facial_emotion.export`, run here as Python runs it (the `__main__` block); the
    next test starts a real one."""
    out = tmp_path / "out"
    monkeypatch.setattr(
        sys, "argv",
        ["export.py", "--model", str(model_path), "--prepared", str(prepared_dir),
         "--out-dir", str(out), "--metrics", str(tmp_path / "export.json"), "--no-int8"],
    )  # fmt: skip
    with warnings.catch_warnings():  # runpy's: this file imported the module already
        warnings.filterwarnings("ignore", "'facial_emotion.export' found in sys.modules")
        with pytest.raises(SystemExit) as done:
            runpy.run_module("facial_emotion.export", run_name="__main__")
    said = capsys.readouterr()
    assert done.value.code == 0, said.err
    assert "float32: agreement 100.00%" in said.out
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.tflite"]
    assert "int8" not in json.loads((tmp_path / "export.json").read_text())


def test_a_closed_stdout_drops_the_report_as_the_stages_do(
    model_path: Path, prepared_dir: Path, tmp_path: Path
) -> None:
    """`facial-emotion export >&-` converted, scored and wrote every file, then ended with
    status 2, "standard output: is closed", as if it had failed: its stdout carries a report
    (the figures are in --metrics), which prepare and the notebook stages drop when closed."""
    import os

    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "facial_emotion.export", "--model", str(model_path),
         "--prepared", str(prepared_dir), "--out-dir", str(out),
         "--metrics", str(tmp_path / "export.json"), "--no-int8"],
        stderr=subprocess.PIPE, text=True, timeout=300, preexec_fn=lambda: os.close(1),
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (0, "")
    assert sorted(p.name for p in out.iterdir()) == ["model.json", "model.tflite"]


def test_float32_below_the_agreement_floor_fails_and_writes_no_model(
    model_path: Path, prepared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(export_module.MIN_AGREEMENT, "float32", 1.01)
    with pytest.raises(FacialEmotionError, match="agrees with .* on only 100.00%"):
        export_module.export(model_path, prepared_dir, model_path.parent, tmp_path / "m.json")
    assert not model_path.with_suffix(".tflite").exists()
    assert json.loads((tmp_path / "m.json").read_text())["float32"]["agreement"] == 1.0


def test_int8_below_its_agreement_floor_fails_and_writes_no_int8_model(
    model_path: Path, prepared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Calibrated on one face, an int8 model agreed on 88.5% of faces and was written silently."""
    monkeypatch.setitem(export_module.MIN_AGREEMENT, "int8", 1.01)
    with pytest.raises(FacialEmotionError, match=r"the int8 model agrees .* \(train the model"):
        export_module.export(model_path, prepared_dir, model_path.parent, tmp_path / "m.json")
    assert not model_path.with_suffix(".int8.tflite").exists()
    assert model_path.with_suffix(".tflite").exists()  # the float32 model passed its own check
    record = json.loads((tmp_path / "m.json").read_text())
    assert record["int8"]["path"] is None and record["int8"]["meets_floor"] is False
    assert record["float32"]["meets_floor"] is True


def test_the_pipeline_writes_an_export_below_the_floor_with_a_warning(
    model_path: Path, prepared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused, a near-chance experiment's int8 model failed the export stage, and DVC kept
    nothing of the experiment: not its training, not its evaluation."""
    monkeypatch.setitem(export_module.MIN_AGREEMENT, "int8", 1.01)
    logged: list[str] = []
    out = tmp_path / "out"
    metrics = export_module.export(
        model_path, prepared_dir, out, tmp_path / "m.json", below_floor="warn", warn=logged.append
    )
    assert (out / "model.int8.tflite").is_file() and metrics["int8"]["meets_floor"] is False
    assert any(
        line.startswith(f"export: warning: {out / 'model.int8.tflite'}: written although the int8")
        for line in logged
    )
    assert "--below-floor warn" in (Path(__file__).parents[1] / "dvc.yaml").read_text()


def test_missing_model_is_one_clear_line(
    prepared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "models" / "model.keras"
    assert main(["export", "--model", str(missing), "--prepared", str(prepared_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{missing}: model not found" in err


def test_missing_prepared_data_is_named_before_tensorflow_is_imported(
    model_path: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A mistyped --prepared was named after TensorFlow's import (10 s), and told to run
    `dvc repro prepare`, which writes data/prepared, not the folder given."""

    def no_tensorflow(why: str) -> None:
        raise AssertionError(f"TensorFlow imported for {why}")

    monkeypatch.setattr("facial_emotion.native_log.import_tensorflow", no_tensorflow)
    missing = tmp_path / "my_prepared"
    argv = ["export", "--model", str(model_path), "--out-dir", str(tmp_path / "out")]
    assert main([*argv, "--prepared", str(missing)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"facial-emotion export: error: {missing}: prepared data not found; check the path: "
        "--prepared takes the folder prepare wrote (train.npz, val.npz ...)"
    ]
    monkeypatch.chdir(tmp_path)  # the package alone: no pipeline to run here
    assert main([*argv, "--prepared", "data/prepared"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "facial-emotion export: error: data/prepared: prepared data not found; make one with "
        "`python -m facial_emotion.prepare --params my.yaml --out prepared` and pass --prepared "
        "prepared (see the README's TensorFlow Lite export)"
    ]
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")  # a clone: `dvc repro prepare` makes it
    assert main([*argv, "--prepared", "data/prepared"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "facial-emotion export: error: data/prepared: prepared data not found; run "
        "`dvc repro prepare` first"
    ]


@pytest.mark.parametrize(
    ("option", "fix"),
    [
        (
            "--prepared",
            "folder name (an unset variable?); name the folder prepare wrote, or leave "
            "out --prepared",
        ),
        (
            "--out-dir",
            "folder name (an unset variable?); name . for this folder, or leave out --out-dir",
        ),
        (
            "--metrics",
            "file name (an unset variable?); name the .json file, or leave out --metrics",
        ),
    ],
    ids=["prepared", "out-dir", "metrics"],
)
def test_an_empty_path_is_refused_before_tensorflow_is_imported(
    model_path: Path,
    prepared_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    option: str,
    fix: str,
) -> None:
    """`--prepared "$DIR"` with DIR unset was read as "." and, after TensorFlow's import, sent
    to `dvc repro prepare`; an empty --out-dir wrote the models into the working folder, and
    an empty --metrics was said as ".: is written as JSON", a name never typed."""

    def no_tensorflow(why: str) -> None:
        raise AssertionError(f"TensorFlow imported for {why}")

    monkeypatch.setattr("facial_emotion.native_log.import_tensorflow", no_tensorflow)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    argv = ["export", "--model", str(model_path), "--prepared", str(prepared_dir), "--no-int8"]
    with pytest.raises(SystemExit) as stop:
        main([*argv, option, ""])
    assert stop.value.code == 2 and list(work.iterdir()) == []
    assert capsys.readouterr().err.splitlines()[-1] == (
        f'facial-emotion export: error: argument {option}: "": an empty {fix}'
    )


def test_metrics_not_named_json_is_one_clear_line(
    model_path: Path, prepared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    metrics = tmp_path / "export.txt"
    argv = ["export", "--model", str(model_path), "--prepared", str(prepared_dir)]
    assert main([*argv, "--out-dir", str(tmp_path / "out"), "--metrics", str(metrics)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{metrics}: is written as JSON; name the file .json" in err
    assert not metrics.exists() and not (tmp_path / "out").exists()


def test_corrupt_tflite_given_as_model_is_one_clear_line(
    prepared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "model.tflite"
    garbage.write_bytes(b"\x00garbage, not a flatbuffer" * 40)
    assert main(["export", "--model", str(garbage), "--prepared", str(prepared_dir)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{garbage}: not a valid TensorFlow Lite model" in err


def test_metrics_that_would_replace_the_model_card_stop_before_any_write(
    model_path: Path, prepared_dir: Path
) -> None:
    card = model_path.with_suffix(".json")
    before = {p: p.read_bytes() for p in model_path.parent.iterdir()}
    with pytest.raises(FacialEmotionError, match="is an input, and an output would replace it"):
        export_module.export(model_path, prepared_dir, model_path.parent, card)
    assert {p: p.read_bytes() for p in model_path.parent.iterdir()} == before


def test_a_model_that_cannot_be_written_leaves_no_card(
    model_path: Path, prepared_dir: Path, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    (out_dir / "model.tflite").mkdir(parents=True)  # a folder where the model would go
    with pytest.raises(FacialEmotionError, match="is a folder"):
        export_module.export(model_path, prepared_dir, out_dir, tmp_path / "m.json", int8=False)
    assert [p.name for p in out_dir.iterdir()] == ["model.tflite"]


def test_a_full_disk_names_the_model_file(
    model_path: Path, prepared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk's "No space left on device" named no file, and `facial-emotion export` said
    "standard output: cannot be written" (audit CJ)."""

    def full(self: Path, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    target = tmp_path / "out" / "model.tflite"
    with pytest.raises(FacialEmotionError) as caught:
        export_module.export(
            model_path, prepared_dir, target.parent, tmp_path / "m.json", int8=False
        )
    assert str(caught.value) == (
        f"{target}: cannot be written (No space left on device); "
        "free some space, or write to another disk"
    )


def test_tflite_model_given_as_model_is_refused(
    model_path: Path, prepared_dir: Path, tmp_path: Path
) -> None:
    export_module.export(model_path, prepared_dir, tmp_path, tmp_path / "m.json", int8=False)
    with pytest.raises(FacialEmotionError, match="export reads a Keras model"):
        export_module.export(tmp_path / "model.tflite", prepared_dir, tmp_path, tmp_path / "m.json")


def test_classes_of_other_data_are_refused(
    model_path: Path, tmp_path: Path, rng: np.random.Generator
) -> None:
    classes = (*EMOTIONS, "contempt")
    save(PreparedData(classes, {"train": _split(rng, 8), "val": _split(rng, 8)}), tmp_path / "ck")
    with pytest.raises(FacialEmotionError, match="differ from those of"):
        export_module.export(model_path, tmp_path / "ck", tmp_path, tmp_path / "m.json")


def test_data_of_another_source_is_refused(
    model_path: Path, tmp_path: Path, rng: np.random.Generator
) -> None:
    card = model_path.with_suffix(".json")
    card.write_text(json.dumps({**json.loads(card.read_text()), "source": {"name": "fer2013"}}))
    splits = {"train": _split(rng, 8), "val": _split(rng, 8)}
    save(PreparedData(EMOTIONS, splits, source={"name": "synthetic"}), tmp_path / "synthetic")
    with pytest.raises(FacialEmotionError, match="holds synthetic data, but .* trained on fer2013"):
        export_module.export(model_path, tmp_path / "synthetic", tmp_path, tmp_path / "m.json")
    assert not list(tmp_path.glob("*.tflite")) and not (tmp_path / "m.json").exists()


def test_representative_faces_are_seeded_and_capped() -> None:
    """Comparing one seed's draw with itself held also for a seed ignored, or no draw at all
    (the first faces, in a file sorted by class: one emotion to calibrate int8 on)."""
    faces = np.repeat(np.arange(40, dtype=np.uint8), 48 * 48).reshape(40, 48, 48)

    def drawn(n: int, seed: int) -> list[int]:
        return [int(face[0, 0]) for face in export_module.representative_faces(faces, n, seed)]

    assert sorted(drawn(50, 0)) == list(range(40))  # all of them, each once
    assert drawn(8, 3) == drawn(8, 3)
    assert drawn(8, 3) != drawn(8, 4)
    assert drawn(8, 3) != list(range(8))


def test_representative_samples_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--representative-samples", "0"])
    assert "must be at least 1" in capsys.readouterr().err


def test_a_tflite_beside_its_model_shares_the_card_however_the_paths_are_spelled(
    model_path: Path, prepared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--model models/model.keras --out-dir $PWD/models` was refused: the relative and the
    absolute spelling of the card were taken for two files, one replacing the other."""
    monkeypatch.chdir(model_path.parent.parent)
    relative = model_path.relative_to(model_path.parent.parent)
    card_before = read_card(model_path)
    export_module.export(
        relative, prepared_dir, model_path.parent, tmp_path / "m.json", int8=False, log=str
    )
    assert (model_path.parent / "model.tflite").is_file()
    assert read_card(model_path) == card_before


def test_a_damaged_prepared_split_is_one_clear_line(
    model_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    for split in ("val", "test"):
        (damaged / f"{split}.npz").write_text("version https://git-lfs.github.com/spec/v1\n")
    argv = ["export", "--model", str(model_path), "--prepared", str(damaged)]
    assert main([*argv, "--out-dir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "npz: not a prepared split (" in err
    assert "make it again with `dvc repro prepare`" in err


def test_another_models_metrics_go_beside_its_export_not_over_the_pipelines(
    model_path: Path, prepared_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`export --model other.keras --out-dir out` replaced metrics/export.json, which DVC tracks."""
    monkeypatch.chdir(tmp_path)  # a clone's root, with its metrics/ folder
    (tmp_path / "metrics").mkdir()
    pipeline = tmp_path / "metrics" / "export.json"
    pipeline.write_text("{}\n")
    other = tmp_path / "mine" / "my.keras"
    other.parent.mkdir()
    for suffix in (".keras", ".json"):
        other.with_suffix(suffix).write_bytes(model_path.with_suffix(suffix).read_bytes())
    argv = ["export", "--model", str(other), "--prepared", str(prepared_dir), "--no-int8"]
    assert main([*argv, "--out-dir", "out"]) == 0
    assert pipeline.read_text() == "{}\n"
    assert json.loads((tmp_path / "out" / "my.export.json").read_text())["float32"]
    # the pipeline's own model sent elsewhere: not its record either
    argv = ["export", "--model", "models/model.keras", "--prepared", str(prepared_dir)]
    assert main([*argv, "--no-int8", "--out-dir", "side"]) == 0
    assert pipeline.read_text() == "{}\n" and (tmp_path / "side" / "model.export.json").exists()


def test_an_int8_model_left_from_an_earlier_export_is_named_on_stderr(
    model_path: Path, prepared_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --no-int8 an earlier int8 file stayed beside the new float model without a word,
    and anything reading <stem>.int8.tflite ran the old model. The warning went to stdout with
    the figures, so `facial-emotion export > report.txt` (or > /dev/null) hid it."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "model.int8.tflite").write_bytes(b"an earlier export")
    argv = ["export", "--model", str(model_path), "--prepared", str(prepared_dir), "--no-int8"]
    assert main([*argv, "--out-dir", str(out), "--metrics", str(tmp_path / "m.json")]) == 0
    printed = capsys.readouterr()
    (warning,) = [line for line in printed.err.splitlines() if "warning" in line]
    assert warning == (
        f"export: warning: {out / 'model.int8.tflite'} (and its card model.int8.json) is left "
        "from an earlier export and may not be this model's; delete it, or export without "
        "--no-int8 to replace it"
    )
    assert "warning" not in printed.out and "  float32: agreement" in printed.out


def test_a_test_split_of_one_face_is_reported_as_one_face(
    model_path: Path, tmp_path: Path, rng: np.random.Generator
) -> None:
    """The report said "on 1 test faces"."""
    splits = {"train": _split(rng, 20), "val": _split(rng, 5), "test": _split(rng, 1)}
    source = {"name": "synthetic", "splits": "each split generated with its own sub-seed"}
    save(PreparedData(EMOTIONS, splits, source=source), tmp_path / "one")
    lines: list[str] = []
    export_module.export(
        model_path, tmp_path / "one", tmp_path / "out", tmp_path / "m.json", int8=False,
        log=lines.append,
    )  # fmt: skip
    assert lines[0] == f"export: {model_path} on 1 test face of {tmp_path / 'one'}"
