"""The command line answers fast and right: option errors name the option before the backend is imported, tables
say what produced them, limits keep the class proportions, translation warns about a model at chance, Ctrl-C exits
with 130, and the listing names files as they are published."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from rich.console import Console

from spatiallab import data, experiments, runs
from spatiallab.cli import main, running
from spatiallab.cli.datasets import where_text
from spatiallab.cli.run import print_summary
from spatiallab.cli.running import PIPE_WIDTH, TrimmedLines
from spatiallab.cli.translation import print_curve
from spatiallab.data.splits import stratified_limit
from spatiallab.experiments import translation
from spatiallab.report.shuffled_pixels import opening as report_opening
from tests.test_datasets import make_image_folder

# (arguments, the option the error must name, words of the message). Each must fail with a usage error (exit code
# 2) before Keras or TensorFlow is imported: the data-dependent ones (--block-sizes, --max-shift, the limits) after
# loading the bundled sample, which needs neither; translation's --dataset mnist1d before generating it (registered
# as sequences).
OPTION_ERRORS = [
    (["run", "--seeds", "0"], "--seeds", "expected a count >= 1; got 0"),
    (["run", "--workers", "0"], "--workers", "expected 'auto' or a whole number >= 1; got '0'"),
    (["run", "--workers", "2", "--ray"], "--workers", "Ray places the cells itself: give --workers or --ray"),
    (["run", "--seeds", "a,b"], "--seeds", "expected a count such as 3 or a list such as 0,1,2; got 'a,b'"),
    (["run", "--seeds", "1,1"], "--seeds", "seeds must not repeat an item; repeated: 1"),
    (["run", "--models", "foo"], "--models", "unknown model 'foo'"),
    (["run", "--models", "dense,,cnn"], "--models", "expected items separated by single commas; item 2 of "
     "'dense,,cnn' is empty"),
    (["run", "--test-limit", "999999"], "--test-limit", "test_limit 999999 is more than the 2,000 test examples of "
     "mnist-sample; expected 1 to 2,000"),
    (["run", "--train-limit", "10001"], "--train-limit", "more than the 10,000 train examples of mnist-sample"),
    (["run", "--dataset", "foo"], "--dataset", "unknown dataset 'foo'"),
    (["run", "--conditions", "sorted"], "--conditions", "unknown condition 'sorted'"),
    (["run", "--epochs", "0"], "--epochs", "0 is not in the range x>=1"),
    (["run", "--image-size", "32"], "--image-size", "dataset 'mnist-sample' does not take option(s) ['image_size']"),
    (["scale", "--families", "x"], "--families", "unknown family 'x'"),
    (["scale", "--block-sizes", "5"], "--block-sizes", "block size 5 does not tile 28x28 images"),
    (["translation", "--max-shift", "28"], "--max-shift", "moves a 28x28 image out of its frame; expected 1 to 27"),
    (["translation", "--max-shift", "0"], "--max-shift", "tests no shift (0 px, the unshifted images, is always "
     "tested); expected 1 to 27 for 28x28 images"),
    (["translation", "--dataset", "mnist1d"], "--dataset", "so it expected images; mnist1d holds sequences: give an "
     "image dataset"),
    (["params", "conv:x"], "LAYERS", "layer 'conv:x': missing KERNEL"),
    (["params", "--input", "0,28,1"], "--input", "expected 2 or 3 sizes >= 1, L,C of sequences (e.g. 40,1) or H,W,C "
     "of images (e.g. 28,28,1); got '0,28,1'"),
    (["params", "--input", "28"], "--input", "got '28'"),
    (["params", "--input", "28,28,1,1"], "--input", "got '28,28,1,1'"),
]

_PROBE = textwrap.dedent("""
    import json, sys
    import click
    from spatiallab.cli import main
    answers = []
    for arguments in json.loads(sys.argv[1]):
        try:
            main(arguments, standalone_mode=False)
            answers.append({"arguments": arguments, "exit_code": 0})
        except click.UsageError as error:
            answers.append({"arguments": arguments, "exit_code": error.exit_code, "message": error.format_message()})
    main(["params", "--no-check"], standalone_mode=False)  # the table alone: no backend either
    print(json.dumps({"answers": answers, "backend": sorted({"keras", "tensorflow"} & set(sys.modules))}))
""")


def test_option_errors_name_the_option_before_the_backend_is_imported(tmp_path):
    """In a fresh process (this one has imported Keras already): every bad option is a usage error naming the
    option, and afterwards neither keras nor tensorflow is in sys.modules."""
    arguments = [[*args, "--out", str(tmp_path / "run")] if args[0] != "params" else args
                 for args, _, _ in OPTION_ERRORS]  # fmt: skip
    result = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(arguments)], capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.splitlines()[-1])
    for answer, (args, option, words) in zip(probe["answers"], OPTION_ERRORS):
        assert answer["exit_code"] == 2, (args, answer)
        assert option in answer["message"] and words in answer["message"], (args, answer["message"])
    assert probe["backend"] == []
    assert not (tmp_path / "run").exists()  # refused before the run folder is claimed


def test_an_option_error_prints_click_s_usage_error():
    result = CliRunner().invoke(main, ["run", "--seeds", "0"])
    assert result.exit_code == 2 and "Error: Invalid value for '--seeds': expected a count >= 1; got 0" in result.output


def test_bfloat16_where_onednn_has_no_bfloat16_kernels_is_refused_naming_the_option(tmp_path, monkeypatch):
    from spatiallab import training

    if not training._onednn_enabled():
        pytest.skip("the cap is oneDNN's")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx2")  # oneDNN aborts the process at its first bfloat16 product there
    result = CliRunner().invoke(main, ["run", "--precision", "bfloat16", "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--precision': bfloat16 cannot train here: oneDNN is capped at AVX2" in result.output
    assert not (tmp_path / "run").exists()  # refused before the run folder is claimed


# ------------------------------------------------------------------------------------------------ stratified limits


def test_a_limit_keeps_the_class_proportions_and_is_deterministic():
    labels = np.repeat(np.arange(10), 1000)[np.random.default_rng(1).permutation(10_000)]
    kept = stratified_limit(labels, 100)
    assert np.bincount(labels[kept]).tolist() == [10] * 10
    assert kept.dtype == np.int64 and np.all(np.diff(kept) > 0)  # the source's order
    np.testing.assert_array_equal(kept, stratified_limit(labels, 100))
    assert not np.array_equal(kept, stratified_limit(labels, 100, seed=1))
    # shares 50% / 30% / 20% of 10 samples, limit 7: quotas 3.5, 2.1, 1.4 -> 3, 2, 1 and the one place left
    # over to the largest remainder (class 0)
    uneven = np.array([0] * 5 + [1] * 3 + [2] * 2)
    assert np.bincount(uneven[stratified_limit(uneven, 7)]).tolist() == [4, 2, 1]
    np.testing.assert_array_equal(stratified_limit(uneven, 10), np.arange(10))  # a limit of N keeps all
    with pytest.raises(ValueError, match="limit must be a whole number >= 1; got 0"):
        stratified_limit(uneven, 0)


def test_the_first_n_images_would_move_chance_but_a_stratified_limit_does_not():
    sample = data.load("mnist-sample")
    order = np.argsort(sample.y_test, kind="stable")  # the worst case for "the first N": sorted by class
    skewed = data.Dataset(sample.name, sample.x_train, sample.y_train, sample.x_test[order], sample.y_test[order],
                          sample.class_names, sample.source)  # fmt: skip
    limited = skewed.subset(300, 100)
    assert np.bincount(limited.y_test, minlength=10).tolist() == [10] * 10  # the first 100 are all zeros
    assert experiments.base.chance_level(limited) == pytest.approx(0.1)
    assert limited.describe()["info"].items() >= {"train_limit": 300, "test_limit": 100,
                                                  "limit_method": "stratified by class", "limit_seed": 0}.items()
    assert "limit_method" not in skewed.subset().info  # no limit, nothing drawn


# ----------------------------------------------------------------------------------------- tables and verdicts


def grid_record(conditions=("original",)) -> dict:
    """A finished one-condition shuffled-pixels record, as results.json holds it."""
    summary = [{"dataset": "mnist-sample", "model": "dense", "condition": condition, "n": 3, "mean": 0.9,
                "ci_low": 0.88, "ci_high": 0.92, "mean_train_seconds": 2.5} for condition in conditions]  # fmt: skip
    return {
        "config": {"datasets": ["mnist-sample"], "models": ["dense"], "conditions": list(conditions),
                   "confidence": 0.95, "precision": "float32"},
        "summary": summary, "reliance": [], "verdict": [],
        "models": {"mnist-sample": {"dense": {"params": 101_770}}},
        "datasets": {"mnist-sample": {"n_train": 300, "n_test": 100, "kind": "image"}},
        "versions": {"keras": "3.15.1", "backend": "tensorflow", "backend_version": "2.20.0"},
        "precision": {"requested": "auto", "used": "bfloat16", "reason": "auto"},
    }  # fmt: skip


def printed(show, record) -> str:
    console = Console(file=io.StringIO(), width=200)
    show(console, record)
    return console.file.getvalue()


def test_a_one_condition_run_says_no_model_has_both_conditions_and_the_table_names_its_making():
    text = printed(print_summary, grid_record())
    assert "Verdict (from the numbers above):\n  No model has both conditions yet." in text
    assert "mnist-sample: 300 train / 100 test images; Keras 3.15.1, tensorflow 2.20.0 backend; precision bfloat16" \
        in text  # fmt: skip
    assert "train s/cell: seconds to train one cell (one model, condition and seed), original" in text
    # the report's opening says so too, where a two-condition run's has no such sentence
    assert "trained on original pixels only (--conditions original): the comparison below needs both" \
        in report_opening(grid_record()).does  # fmt: skip
    assert "only (--conditions" not in report_opening(grid_record(("original", "shuffled"))).does


def test_the_table_title_names_what_was_shuffled():
    sequences = grid_record()
    sequences["datasets"]["mnist-sample"]["kind"] = "sequence"
    assert "Shuffled-positions experiment on mnist-sample (test accuracy %" in printed(print_summary, sequences)
    assert "Shuffled-pixels experiment on mnist-sample (test accuracy %" in printed(print_summary, grid_record())


def translation_record(unshifted: dict[str, list[float]], chance: float = 0.1) -> dict:
    """A translation record whose models score ``unshifted`` (one accuracy per seed) at every shift."""
    cells = [{"dataset": "digits", "model": model, "condition": "original", "seed": seed, "status": "ok",
              "train_seconds": 1.0, "epochs": 1, "params": 10,
              "shifts": [{"distance": distance, "direction": "none" if distance == 0 else "down", "dy": distance,
                          "dx": 0, "test_accuracy": accuracy, "test_loss": 1.0} for distance in (0, 1)]}
             for model, accuracies in unshifted.items() for seed, accuracy in enumerate(accuracies)]  # fmt: skip
    record = {"config": {"models": list(unshifted), "confidence": 0.95, "precision": "float32"}, "cells": cells,
              "chance": chance, "failed_cells": [], "dataset": {"name": "digits"},
              "datasets": {"digits": {"n_train": 50, "n_test": 20}}, "versions": {"keras": "3.15.1"},
              "models": {model: {"params": 10} for model in unshifted}}  # fmt: skip
    return {**record, **translation.summarize(record)}


def test_translation_warns_about_a_model_not_distinguishable_from_chance_on_unshifted_images():
    # dense: 11%, 9%, 13%: mean 11%, sd 2%, t(0.975, 2) = 4.303, so 11% -+ 4.97%, reaching 10%; cnn far above it
    record = translation_record({"dense": [0.11, 0.09, 0.13], "cnn": [0.90, 0.92, 0.91]})
    dense, cnn = record["verdict"]  # the model at chance gets the warning in place of its invariance sentence
    assert dense.startswith("dense: not distinguishable from chance (10.0%) already on unshifted images (95% CI 6.0% to 16.0%)")
    assert "; its curve says nothing of shift invariance" in dense
    assert cnn.startswith("cnn: 91.0% unshifted -> 91.0% at 1 px (+0.0 points; every seed gave the same drop")
    text = printed(print_curve, record)
    assert "Verdict (from the numbers above):" in text and "dense: not distinguishable from chance" in text
    assert "digits: 50 train / 20 test images; Keras 3.15.1" in text


def test_a_shift_of_the_image_size_is_refused_naming_the_option():
    config = translation.TranslationConfig(models=["dense"], seeds=[0], max_shift=28, epochs=1, train_limit=100,
                                           test_limit=50)  # fmt: skip
    with pytest.raises(experiments.ConfigError, match="out of its frame; expected 1 to 27 for 28x28") as raised:
        translation.Translation(config).load()
    assert raised.value.field == "max_shift"
    config.max_shift = 0
    with pytest.raises(experiments.ConfigError, match="tests no shift .*; expected 1 to 27 for 28x28 images"):
        translation.Translation(config).load()
    config.max_shift = 27
    assert translation.Translation(config).load()["dataset"].image_shape == (28, 28, 1)


# ----------------------------------------------------------------------------------- Ctrl-C, loader options, files


def _interrupted_after(finished: int):
    """A stand-in for ``experiments.run_experiment``: it claims the run folder with ``finished`` cells saved, then
    Ctrl-C arrives."""

    def interrupted(experiment, run_dir, **options):
        Path(run_dir).mkdir()
        record = {"schema": runs.SCHEMA, "cells": [{"seed": seed} for seed in range(finished)]}
        (Path(run_dir) / "results.json").write_text(json.dumps(record))
        raise KeyboardInterrupt

    return interrupted


@pytest.mark.parametrize("finished, said", [
    (0, "Interrupted before any cell finished; {run_dir} holds the run's settings"),
    (1, "Interrupted. 1 finished cell saved in {run_dir}"),
    (2, "Interrupted. 2 finished cells saved in {run_dir}"),
])  # fmt: skip
def test_ctrl_c_exits_with_130_after_saying_what_is_saved_and_how_to_resume(tmp_path, monkeypatch, finished, said):
    run_dir = tmp_path / "run"
    monkeypatch.setattr(experiments, "run_experiment", _interrupted_after(finished))
    result = CliRunner().invoke(main, ["run", "--out", str(run_dir)])
    assert result.exit_code == 130
    assert f"{said.format(run_dir=run_dir)}; continue with:\n  spatiallab run --resume {run_dir}" in result.output


def test_a_second_ctrl_c_while_the_resume_message_prints_does_not_cut_it_short(tmp_path, monkeypatch):
    run_dir = tmp_path / "run"

    def interrupted_again(run_dir):  # the second SIGINT arrives while the message is being written
        os.kill(os.getpid(), signal.SIGINT)
        return f"Interrupted before any cell finished; {run_dir} holds the run's settings"

    monkeypatch.setattr(experiments, "run_experiment", _interrupted_after(0))
    monkeypatch.setattr(running, "_interrupted", interrupted_again)
    before = signal.getsignal(signal.SIGINT)
    result = CliRunner().invoke(main, ["run", "--out", str(run_dir)])
    assert result.exit_code == 130 and f"continue with:\n  spatiallab run --resume {run_dir}" in result.output
    assert signal.getsignal(signal.SIGINT) is before  # Ctrl-C works again afterwards


def test_skip_unreadable_reaches_the_folder_loader(tmp_path, monkeypatch):
    seen = {}

    def record_config(experiment, run_dir, **options):
        seen["loader_options"] = experiment.config.loader_options
        raise ValueError("stopped here")

    monkeypatch.setattr(experiments, "run_experiment", record_config)
    result = CliRunner().invoke(main, ["run", "--dataset", "folder", "--data", str(tmp_path), "--skip-unreadable",
                                       "--out", str(tmp_path / "run")])  # fmt: skip
    assert result.exit_code == 1 and "stopped here" in result.output
    assert seen["loader_options"] == {"skip_unreadable": True}
    monkeypatch.undo()
    refused = CliRunner().invoke(main, ["run", "--skip-unreadable", "--out", str(tmp_path / "run")])
    assert refused.exit_code == 2 and "'--skip-unreadable'" in refused.output  # mnist-sample has no such option
    root = make_image_folder(tmp_path / "malimg", per_class=5, size=(6, 9))
    (root / "yuner" / "broken.png").write_bytes(b"not a png")
    advised = CliRunner().invoke(main, ["datasets", "folder", "--data", str(root)])
    assert advised.exit_code == 1 and "leave them out with --skip-unreadable" in advised.output
    with pytest.warns(UserWarning, match="left out 1 unreadable file"):
        described = CliRunner().invoke(main, ["datasets", "folder", "--data", str(root), "--skip-unreadable"])
    assert described.exit_code == 0 and "12 train + 3 test, 6x9x1, 3 classes" in described.output  # the advice works


def test_the_listing_names_a_renamed_cache_file_as_it_is_published(tmp_path):
    archive = tmp_path / "cifar-10-batches-py-target_archive"  # Keras 3's name for cifar-10-python.tar.gz
    archive.write_bytes(b"x" * 2048)
    entry = data.get_entry("cifar10").__class__("cifar10", "", None, lambda: str(archive), "", list)
    shown = where_text(entry, download=True)
    assert f"cifar-10-python.tar.gz (cached as {archive})" in shown and "(2.0 kB)" in shown


# ------------------------------------------------------------------------------------------------- piped tables


def test_trimmed_lines_drop_the_spaces_before_line_ends_even_across_writes():
    stream = io.StringIO()
    trimmed = TrimmedLines(stream)
    for chunk in ("  title   \nrow  |  ", "  \n", "next ", "word\n   "):
        trimmed.write(chunk)
    assert stream.getvalue() == "  title\nrow  |\nnext word\n"  # inner spaces kept, the last line's held back


def test_piped_tables_keep_their_width_without_trailing_spaces():
    """CliRunner's stdout is not a terminal, as in a pipe: the lesson's centred title and the wrapped sentence under
    it were padded with spaces; no line ends in one now, and none is wider than the pipe width."""
    result = CliRunner().invoke(main, ["params", "--no-check"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "The lesson's table" in lines[0] and not [line for line in lines if line.endswith(" ")]
    assert max(len(line) for line in lines) <= PIPE_WIDTH
    assert any(len(line) > 100 for line in lines)  # the 120-column width, not rich's default of 80
