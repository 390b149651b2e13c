"""Does the image layout help? Finished shuffled-pixels runs of one corpus of executables, each on one view, side by
side: the 1D byte sequence (bytes<n>), the 2D byte plot (x<size>) and head tile (head<n>), a 1-nearest-neighbour
baseline on each view, and the verdict, written from the intervals.

A run trains its models on one view (``--view``), so a corpus's comparison reads several runs. Runs belong to one
corpus table when they read the same file with the same classes, split, limits and header mask (``corpus_key``);
a table with the header mask is set beside the table without it, and the verdict says which models still need the
header. Question and prior result: MalConv (Raff et al., "Malware detection by eating a whole EXE", 2018) learns
from the raw byte sequence; Lin & Yeh (2022) found 1D networks over the bytes ahead of 2D image CNNs on the same
files. Here the claim is measured, not repeated.

Claims follow the verdict's rules (``verdict``): one accuracy beats another only when their t intervals over seeds
do not overlap; one seed or a zero-width interval makes no claim. 1-NN is deterministic (no seeds, no interval) and
position-blind (a fixed permutation of positions leaves Euclidean distances unchanged), so its shuffled accuracy is
its original one.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import numpy as np

from spatiallab import models, stats
from spatiallab.data.byte_views import view_bytes, view_kind
from spatiallab.experiments import base, shuffled_pixels, verdict
from spatiallab.runs import RunFolder

NEAREST_NEIGHBOUR = "1-NN"
# The two sides of the layout question: what to add where one is missing (the views that give it, a run of one).
SIDES = {"1D sequence": ("a bytes<n> view", "--view bytes4096 --models bytes1d"),
         "2D view": ("an x<size> or head<n> view", "--view head4096 --models cnn")}  # fmt: skip
# Why an accuracy neither at chance nor at the ceiling has no interval, and what to do.
NO_INTERVAL = "no interval, from one seed or from seeds that agree exactly: use more seeds"
# Bytes of float64 work arrays per chunk in the 1-NN search: bounds its memory on long views (bytes65536).
CHUNK_BYTES = 2**27


def nearest_neighbour_accuracy(dataset, chunk_bytes: int = CHUNK_BYTES) -> float:
    """Test accuracy of 1-nearest-neighbour on raw values (Euclidean, train -> test; ties go to the first train
    sample), in float64 chunks of at most ``chunk_bytes`` per array so that long byte views fit in memory.

    Args:
        dataset: a ``data.Dataset`` of images or sequences (any shape; each sample is flattened).

    Returns:
        The fraction of test samples whose nearest training sample has their label.
    """
    train = dataset.x_train.reshape(len(dataset.x_train), -1)
    test = dataset.x_test.reshape(len(dataset.x_test), -1)
    rows = max(1, chunk_bytes // (8 * train.shape[1]))
    predictions = []
    for start in range(0, len(test), rows):
        queries = test[start:start + rows].astype(np.float64)
        best = np.full(len(queries), np.inf)
        nearest = np.zeros(len(queries), dtype=np.int64)
        for first in range(0, len(train), rows):
            block = train[first:first + rows].astype(np.float64)
            # |q - t|^2 less |q|^2, which is the same for every training sample of a query
            distances = (block**2).sum(axis=1)[np.newaxis, :] - 2.0 * queries @ block.T
            closest = np.argmin(distances, axis=1)
            value = distances[np.arange(len(queries)), closest]
            better = value < best
            best[better], nearest[better] = value[better], first + closest[better]
        predictions.append(dataset.y_train[nearest])
    return float((np.concatenate(predictions) == dataset.y_test).mean())


def describe_view(view: str) -> str:
    """``"1D sequence"`` / ``"2D head tile"`` / ``"2D byte plot (resized)"``: the layout a view gives the models."""
    if view_kind(view) == "sequence":
        return "1D sequence"
    return "2D head tile" if view_bytes(view) else "2D byte plot (resized)"


def corpus_key(record: dict) -> tuple:
    """What makes runs comparable: the file, classes, split, limits and header mask (the view is what differs)."""
    described = record["datasets"]["binaries"]
    config = record["config"]
    mask = described.get("info", {}).get("header_mask", {}).get("bytes")
    split = tuple(sorted((described.get("split") or {}).items()))
    return (os.path.realpath(described["source"]), tuple(described["class_names"]), split,
            config.get("train_limit"), config.get("test_limit"), mask)  # fmt: skip


def _run_record(run_dir) -> dict:
    """A run's results with today's summary (also for runs an older version wrote) and ``n_cells``, the number of
    cells its configuration declares (finished or not).

    Raises:
        FileNotFoundError: no results.json. ValueError: not a shuffled-pixels run of the binaries dataset, or no
        view recorded.
    """
    run = RunFolder(run_dir)
    record = run.results
    if run.kind != shuffled_pixels.ShuffledPixels.kind or "binaries" not in record.get("datasets", {}):
        raise ValueError(f"{run.path}: expected a `spatiallab run --dataset binaries` run; found a {run.kind} run of "
                         f"{sorted(record.get('datasets', {}))}")  # fmt: skip
    if "view" not in record["datasets"]["binaries"].get("info", {}):
        raise ValueError(f"{run.path}: the run records no view of its binaries npz (made by an older version?)")
    config = base.resume_config(run.path, shuffled_pixels.ShuffledPixels, shuffled_pixels.GridConfig, {})
    return {**record, **shuffled_pixels.summarize(record), "run_dir": str(run.path),
            "n_cells": len(shuffled_pixels.ShuffledPixels(config).cells())}  # fmt: skip


def _model_rows(record: dict) -> list[dict]:
    """One row per model of a run: its view, accuracy rows per condition and reliance row (None where missing)."""
    view = record["datasets"]["binaries"]["info"]["view"]
    summary = {(row["model"], row["condition"]): row for row in record["summary"]}
    reliance = {row["model"]: row for row in record["reliance"]}
    return [{"view": view, "layout": describe_view(view), "model": model,
             "position_blind": models.position_blind(model), "epochs": record["config"]["epochs"],
             "seeds": record["config"]["seeds"], "run": record["run_dir"],
             "original": summary.get((model, "original")), "shuffled": summary.get((model, "shuffled")),
             "reliance": reliance.get(model)}
            for model in record["config"]["models"]]  # fmt: skip


def finished_seeds(row: dict) -> tuple[int, int]:
    """``(original, shuffled)``: how many seeds of a model row finished on each condition (0 where none did)."""
    return tuple((row[condition] or {}).get("n", 0) for condition in ("original", "shuffled"))


def _unfinished(row: dict) -> bool:
    """Whether a model row has fewer finished seeds, on either condition, than its run declares."""
    return min(finished_seeds(row)) < len(row["seeds"])


def _nearest_neighbour_row(record: dict) -> dict:
    """The 1-NN row of a run's view, on the run's own data (its file, loader options and limits)."""
    from spatiallab import data

    config = record["config"]
    view = record["datasets"]["binaries"]["info"]["view"]
    row = {"view": view, "layout": describe_view(view), "model": NEAREST_NEIGHBOUR, "position_blind": True,
           "run": record["run_dir"], "accuracy": None, "note": ""}  # fmt: skip
    path = config.get("data_path") or record["datasets"]["binaries"]["source"]
    if not Path(path).is_file():
        return {**row, "note": f"not computed: {path} is absent"}
    dataset = data.load("binaries", path, **config["loader_options"]).subset(config.get("train_limit"),
                                                                             config.get("test_limit"))  # fmt: skip
    return {**row, "accuracy": nearest_neighbour_accuracy(dataset)}


def compare_runs(run_dirs: list[str | os.PathLike], nearest_neighbour: bool = True) -> dict:
    """The comparison of several finished runs: one table per corpus and the verdict.

    Args:
        run_dirs: run folders of ``spatiallab run --dataset binaries --view ...`` (any order; several per corpus).
        nearest_neighbour: also compute the 1-NN baseline on each view (reads the runs' data files again).

    Returns:
        ``{"tables": [{"corpus", "source", "header_mask" (bytes or None), "n_train", "n_test", "chance",
        "class_names", "rows": [model rows, then 1-NN rows]}], "verdict": [str, ...], "confidence", "incomplete":
        [{"run", "finished", "cells"}]}``; a model row holds the run's ``summary`` rows ("original", "shuffled"), its
        ``reliance`` row, epochs and seeds; a 1-NN row its ``accuracy``. ``incomplete`` names each run with fewer
        finished cells than its configuration declares (interrupted, or cells that failed), in the order given.

    Raises:
        ValueError: no run given, a folder that is not such a run, two runs of one corpus and view training the
        same model (which one to show is not clear), or runs at different confidence levels.
    """
    if not run_dirs:
        raise ValueError("give at least one run folder")
    records = [_run_record(run_dir) for run_dir in run_dirs]
    levels = {record["config"].get("confidence", stats.CONFIDENCE) for record in records}
    if len(levels) > 1:
        raise ValueError(f"the runs use different confidence levels {sorted(levels)}; compare runs at one level")
    tables: dict[tuple, dict] = {}
    for record in records:
        described = record["datasets"]["binaries"]
        key = corpus_key(record)
        table = tables.setdefault(key, {
            "corpus": Path(described["source"]).name, "source": described["source"], "header_mask": key[-1],
            "n_train": described["n_train"], "n_test": described["n_test"], "class_names": described["class_names"],
            "chance": record["chance"]["binaries"], "rows": [], "nearest": []})  # fmt: skip
        for row in _model_rows(record):
            twin = next((other for other in table["rows"] if (other["view"], other["model"]) ==
                         (row["view"], row["model"])), None)  # fmt: skip
            if twin is not None:
                raise ValueError(f"{twin['run']} and {row['run']} both train {row['model']} on {row['view']} of "
                                 f"{table['corpus']}: give one of them")  # fmt: skip
            table["rows"].append(row)
        if nearest_neighbour and all(row["view"] != described["info"]["view"] for row in table["nearest"]):
            table["nearest"].append(_nearest_neighbour_row(record))
    confidence = levels.pop()
    ordered = sorted(tables.values(), key=lambda table: (table["corpus"], table["header_mask"] or 0))
    for table in ordered:
        table["rows"] = sorted(table["rows"], key=lambda row: (row["layout"], row["view"])) + table.pop("nearest")
    lines = [line for table in ordered for line in layout_verdict(table, confidence)]
    lines += mask_verdict(ordered, confidence)
    incomplete = [{"run": record["run_dir"], "finished": len(record["cells"]), "cells": record["n_cells"]}
                  for record in records if len(record["cells"]) < record["n_cells"]]  # fmt: skip
    return {"tables": ordered, "verdict": lines, "confidence": confidence, "incomplete": incomplete}


def _estimate(row: dict) -> str:
    """``88.0% [86.1, 89.9]``: an accuracy row in percent with its interval, if any."""
    interval = "" if row["ci_low"] is None else f" {stats.format_interval(row['ci_low'], row['ci_high'])}"
    return f"{100 * row['mean']:.1f}%{interval}"


def _order(first: dict, second: dict) -> str | None:
    """"above" / "below" when the accuracy intervals do not overlap, "overlap" when they do, None without two
    intervals estimated from a spread."""
    if not (verdict.has_interval(first) and verdict.has_interval(second)):
        return None
    if first["ci_low"] > second["ci_high"]:
        return "above"
    return "below" if first["ci_high"] < second["ci_low"] else "overlap"


def _at_ceiling(accuracy: dict) -> bool:
    """Whether every seed (two or more) scored 100%: a zero-width interval that more seeds would not widen."""
    return (accuracy.get("n") or 0) > 1 and not verdict.has_interval(accuracy) and accuracy["mean"] >= 1 - 1e-9


def _at_chance(accuracy: dict, chance: float) -> bool:
    """Whether every seed (two or more) scored the same accuracy at or below ``chance`` (``verdict.reaches_chance``
    with a zero-width interval): a model that learned nothing, which more seeds would not widen."""
    return ((accuracy.get("n") or 0) > 1 and not verdict.has_interval(accuracy)
            and verdict.reaches_chance(accuracy, chance))  # fmt: skip


def _missing_interval(named: dict[str, dict], chance: float) -> str:
    """Why two accuracies (``named``: {name: accuracy}) cannot be compared (``_order`` gave None): every seed of one
    or both no better than ``chance`` (it learned nothing: more seeds would not help), every seed at 100% in both (a
    ceiling: the corpus is too easy to separate them), or an interval missing for want of seeds."""
    learned_nothing = [name for name, accuracy in named.items() if _at_chance(accuracy, chance)]
    if learned_nothing:
        both = len(learned_nothing) == len(named)
        return (f"every seed of {'both' if both else learned_nothing[0]} scored no better than chance at "
                f"{100 * chance:.1f}%: {'neither learned anything' if both else 'it learned nothing'} to compare; "
                "train longer or check the data")  # fmt: skip
    if all(_at_ceiling(accuracy) for accuracy in named.values()):
        return ("every seed of both scored 100%, a ceiling more seeds would not lift: this corpus is too easy to "
                "separate them")
    return f"one of them has {NO_INTERVAL}"


def _chance_caveat(named: dict[str, dict], chance: float, label: str) -> str:
    """``, but the 95% interval of cnn on x64 reaches chance, 50.0%: it may have learned nothing; train longer or
    use more seeds`` for the accuracies in ``named`` ({name: accuracy}) whose interval reaches chance, which makes
    an overlap say little; "" when none does."""
    reaching = [name for name, accuracy in named.items()
                if verdict.has_interval(accuracy) and verdict.reaches_chance(accuracy, chance)]  # fmt: skip
    if not reaching:
        return ""
    verb, pronoun = ("reaches", "it") if len(reaching) == 1 else ("reach", "either")
    return (f", but the {label} interval of {' and of '.join(reaching)} {verb} chance, {100 * chance:.1f}%: "
            f"{pronoun} may have learned nothing; train longer or use more seeds")


def _best(rows: list[dict]) -> dict | None:
    """The trained row with the highest mean accuracy on original positions, or None."""
    finished = [row for row in rows if row.get("original")]
    return max(finished, key=lambda row: row["original"]["mean"], default=None)


def _subject(row: dict) -> str:
    return f"{row['model']} on {row['view']}"


def _named(row: dict) -> str:
    return f"{_subject(row)} ({row['layout']}, {_estimate(row['original'])})"


def _versus(winner_text: str, first: dict, second: dict, label: str, chance: float) -> str:
    """One comparison of two rows' original accuracies, worded from their intervals (``chance``: the table's)."""
    order = _order(first["original"], second["original"])
    pair = f"{_named(first)} vs {_named(second)}"
    if order is None:
        named = {_subject(row): row["original"] for row in (first, second)}
        return f"no claim: {pair}; {_missing_interval(named, chance)}."
    if order == "above":
        return f"{winner_text}: {pair}, {label} intervals do not overlap."
    if order == "below":
        return f"the reverse holds: {pair}, {label} intervals do not overlap."
    caveat = _chance_caveat({_subject(row): row["original"] for row in (first, second)}, chance, label)
    return f"not distinguishable: {pair}, {label} intervals overlap{caveat}."


def _nothing_to_compare(table: dict, rows: list[dict], side: str) -> str:
    """Why one side of the layout question (``side``, a key of ``SIDES``) has no accuracy to compare: no run of a
    position-using model on it was given (the run to add reads the ``table``'s file, with its header mask), or
    those given (``rows``, their model rows) have no finished cell on original positions (the runs to resume)."""
    if not rows:
        views, example = SIDES[side]
        mask = f" --mask-header {table['header_mask']}" if table["header_mask"] else ""
        return (f"no run of a position-using model on a {side} was given: add one ({views}, e.g. "
                f"`spatiallab run --dataset binaries --data {shlex.quote(table['source'])} {example}{mask}`)")
    unfinished = ", ".join(_subject(row) for row in rows)
    runs = " and ".join(f"`spatiallab run --resume {shlex.quote(run)}`"
                        for run in dict.fromkeys(row["run"] for row in rows))  # fmt: skip
    return (f"the {side} runs given have no finished cell of a position-using model on original positions "
            f"({unfinished}): finish them with {runs}")


def layout_verdict(table: dict, confidence: float) -> list[str]:
    """Sentences for one corpus table: for each 2D view, whether its best position-using model beats the best
    position-using model on a 1D sequence (naming when both hold the same first n bytes), or why there is no claim
    (a side not given, or given with no finished cell on original positions); whether position-using models beat
    the best position-blind one; and where 1-NN stands against the best trained model of its view."""
    label = stats.confidence_label(confidence)
    name = table["corpus"] + (f" with the first {table['header_mask']:,} bytes zeroed" if table["header_mask"] else "")
    trained = [row for row in table["rows"] if row["model"] != NEAREST_NEIGHBOUR]
    using = [row for row in trained if not row["position_blind"]]
    sequences = [row for row in using if row["layout"] == "1D sequence"]
    sequence = _best(sequences)
    images = {view: [row for row in using if row["view"] == view]
              for view in sorted({row["view"] for row in using if row["layout"] != "1D sequence"})}  # fmt: skip
    if sequences and not images:
        images = {"the 2D layout": []}
    lines = []
    for view, rows in images.items():
        image = _best(rows)
        missing = [_nothing_to_compare(table, given, side) for best, given, side in
                   ((image, rows, "2D view"), (sequence, sequences, "1D sequence")) if best is None]  # fmt: skip
        if missing:
            lines.append(f"On {name}: no claim on {view}: {'; '.join(missing)}.")
            continue
        same = " (the same first bytes in both)" if view_bytes(view) == view_bytes(sequence["view"]) else ""
        lines.append(f"On {name}, does the 2D layout beat the 1D sequence{same}? "
                     + _versus("yes, the 2D layout wins", image, sequence, label, table["chance"]))
    best_using, best_blind = _best(using), _best([row for row in trained if row["position_blind"]])
    if best_using and best_blind:
        lines.append(f"On {name}, do models that use positions beat position-blind ones? "
                     + _versus("yes", best_using, best_blind, label, table["chance"]))
    for nearest in (row for row in table["rows"] if row["model"] == NEAREST_NEIGHBOUR and row["accuracy"] is not None):
        of_view = [row for row in trained if row["view"] == nearest["view"]]
        lines.append(f"On {name}, 1-NN on {nearest['view']} reaches {100 * nearest['accuracy']:.1f}% (no seeds, no "
                     f"interval){_against_trained(nearest['accuracy'], of_view, label, table['chance'])}")
    return lines


def _against_trained(accuracy: float, rows: list[dict], label: str, chance: float) -> str:
    """Where a 1-NN ``accuracy`` stands against the best trained model of its view (``rows``, their model rows):
    above, inside or below its interval ("best finished" where a model of the view is unfinished), or, with no such
    interval, the ``chance`` level and why there is nothing to compare with."""
    best = _best(rows)
    if best is not None and verdict.has_interval(best["original"]):
        low, high = best["original"]["ci_low"], best["original"]["ci_high"]
        where = "above" if accuracy > high else "below" if accuracy < low else "inside"
        finished = " finished" if any(_unfinished(row) for row in rows) else ""
        return f", {where} the {label} interval of the best{finished} trained model there, {_named(best)}."
    if best is None:
        reason = "no trained model there has a finished cell on original positions to compare with"
    elif _at_chance(best["original"], chance):
        reason = "no trained model there scored above chance on average, so there is none to compare with"
    elif _unfinished(best):
        reason = (f"the best trained model there, {_named(best)}, has no interval yet: its run is unfinished; "
                  f"finish it with `spatiallab run --resume {shlex.quote(best['run'])}`")  # fmt: skip
    else:
        reason = f"the best trained model there, {_named(best)}, has {NO_INTERVAL}"
    return f", where chance is {100 * chance:.1f}%; {reason}."


def mask_verdict(tables: list[dict], confidence: float) -> list[str]:
    """For each corpus with tables with and without the header mask: per model and view in both, whether zeroing
    the header cost accuracy on original positions (the model needed the header) or not, from the intervals."""
    label = stats.confidence_label(confidence)
    lines = []
    for masked in (table for table in tables if table["header_mask"]):
        plain = next((table for table in tables if table["header_mask"] is None and table["source"] == masked["source"]
                      and table["class_names"] == masked["class_names"] and table["n_test"] == masked["n_test"]),
                     None)  # fmt: skip
        if plain is None:
            continue
        without = {(row["view"], row["model"]): row for row in plain["rows"] if row.get("original")}
        for row in (row for row in masked["rows"] if row.get("original")):
            before = without.get((row["view"], row["model"]))
            if before is None:
                continue
            order = _order(before["original"], row["original"])
            zeroed = f"with its first {masked['header_mask']:,} bytes zeroed"
            change = (f"{_subject(row)} of {masked['corpus']}: {_estimate(before['original'])} with the header, "
                      f"{_estimate(row['original'])} {zeroed}")  # fmt: skip
            named = {f"{_subject(row)} with the header": before["original"],
                     f"{_subject(row)} {zeroed}": row["original"]}  # fmt: skip
            lines.append(change + {
                None: f"; no claim ({_missing_interval(named, masked['chance'])}).",
                "above": f": it needed the header (the {label} intervals do not overlap).",
                "below": f": it did better without the header (the {label} intervals do not overlap).",
                "overlap": f": no measurable need for the header (the {label} intervals overlap)"
                           f"{_chance_caveat(named, masked['chance'], label)}.",
            }[order])  # fmt: skip
    return lines
