"""The Reflect tab: the lesson's closing question, then the answer the lab's run measured, set against the
lesson's own answer sentence by sentence from the numbers (never a fixed verdict), and a scale run's curve when
there is one.

The lesson answers that Dense is unchanged by the shuffle and that a CNN collapses to about chance. Each claim is
read from results.json: "agrees" or "disagrees" only where an interval decides it (Dense: the paired reliance
interval holds 0 or not; the CNN: its shuffled-pixels accuracy interval reaches chance or not); with one seed the
numbers are given and the claim is left open.
"""

from __future__ import annotations

import os

from spatiallab import models, stats
from spatiallab.experiments.verdict import has_interval
from spatiallab.models import specs as arch
from spatiallab.report import tables
from spatiallab.runs import RunFolder, find_runs

QUESTION = (
    "Every image's pixels are shuffled by one fixed permutation, the same for training and test, and the models are "
    "trained again. Why would the Dense model's accuracy stay where it was? And what should the shuffle do to a "
    "CNN, whose 3x3 filters read neighbouring pixels?"
)
LESSON_ANSWER = (
    "**The lesson's answer:** Dense takes the image as an unordered list of numbers, so a fixed reordering leaves it "
    "nothing less to learn from and its accuracy barely moves; a CNN's filters need true neighbours, so on shuffled "
    "pixels it would fall to about chance."
)


def lesson_role(model: str) -> str | None:
    """Which of the lesson's claims applies to a registered model: ``"dense"`` (it flattens its input first, so the
    lesson says it is unchanged), ``"cnn"`` (its first layer is a Conv2D, so the lesson says it collapses), or
    None (another architecture, or a name no longer registered)."""
    try:
        if models.position_blind(model):
            return "dense"
        first = models.model_specs(model)[0]
    except ValueError:
        return None
    return "cnn" if isinstance(first, arch.Conv2D) else None


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _dense_claim(row: dict, level: str) -> str:
    reliance = stats.format_estimate(row["difference"], row["ci_low"], row["ci_high"], signed=True)
    head = f"**{row['model']}** (flattens its input; the lesson: unchanged): {reliance} points"
    if not has_interval(row):
        return f"{head}, with no interval (one seed, or every seed the same), so this run can neither confirm nor refute it."
    if row["ci_low"] <= 0 <= row["ci_high"]:
        return f"{head} ({level} CI): not distinguishable from no change, **as the lesson says**."
    return (f"{head} ({level} CI excludes 0): **a measured change, against the lesson**. A fixed permutation only "
            "reorders what a flattening model receives, so this is either the 1-in-20 miss of a 95% interval or a "
            "bug (check that train and test used the same saved permutation).")


def _cnn_claim(row: dict, original: dict | None, shuffled: dict | None, chance: float | None, level: str) -> str:
    reliance = stats.format_estimate(row["difference"], row["ci_low"], row["ci_high"], signed=True)
    head = f"**{row['model']}** (convolutional; the lesson: collapses to about chance)"
    if chance is None or shuffled is None:
        return f"{head}: reliance {reliance} points; chance is not recorded for this dataset, so no claim of a collapse."
    if original is not None and has_interval(original) and original["ci_low"] <= chance:
        return (f"{head}: at chance ({_percent(chance)}) already on original pixels, so it learned nothing for the "
                "shuffle to take away; no claim either way (train longer).")
    accuracy = stats.format_estimate(shuffled["mean"], shuffled["ci_low"], shuffled["ci_high"])
    above = 100 * (shuffled["mean"] - chance)
    where = "at or below chance" if above <= 0 else f"{above:.1f} points above chance"
    interval = f", {level} CI" if has_interval(shuffled) else ""
    measured = (f"accuracy on shuffled pixels {accuracy} (%{interval}), {where} ({_percent(chance)}); reliance "
                f"{reliance} points")
    if not has_interval(shuffled):
        return (f"{head}: {measured}. With one seed (or every seed the same) there is no interval, so this run claims "
                "neither a collapse nor its absence: use more seeds.")
    if shuffled["ci_low"] <= chance:
        return f"{head}: {measured}; the interval reaches chance: **a collapse, as the lesson says**."
    return (f"{head}: {measured}; the interval stays above chance: **no collapse, against the lesson**. Shuffling "
            "took its neighbourhoods, not its inputs: every pixel still arrives at a fixed place, which the layers "
            "can still learn from, only no longer as local patterns.")


def _setting(config: dict) -> str:
    seeds, epochs = len(config["seeds"]), config["epochs"]
    images = f"{config['train_limit']:,} training images" if config.get("train_limit") else "the full training split"
    return f"{seeds} seed{'s' * (seeds != 1)}, {epochs} epoch{'s' * (epochs != 1)}, {images}"


def measured_answer(record: dict, name: str) -> str:
    """The Reflect tab's measured answer from a shuffled-pixels run's results.json: per dataset, every model's
    accuracy on original and shuffled pixels and its reliance (original - shuffled, points, paired by seed, with the
    interval at the run's confidence), then each lesson claim that applies (``lesson_role``) read from the numbers.

    Args:
        record: the parsed results.json (``summary``, ``reliance``, ``chance``, ``config``).
        name: the run's name, as shown.
    """
    config = record["config"]
    level = tables.confidence_level(record)
    accuracy = {(row["dataset"], row["model"], row["condition"]): row for row in record.get("summary", [])}
    parts = [f"**Measured by run {name}** ({_setting(config)}; the lesson's numbers are for full MNIST):"]
    for dataset in config["datasets"]:
        rows = [row for row in record.get("reliance", []) if row["dataset"] == dataset]
        if not rows:
            parts.append(f"On {dataset}: no model has finished both conditions yet, so there is nothing to compare.")
            continue
        parts.append(f"On **{dataset}**:\n\n| model | original pixels (%) | shuffled pixels (%) | reliance (points) "
                     f"[{level} CI] |\n|---|---:|---:|---:|")  # fmt: skip
        parts[-1] += "".join(
            f"\n| {row['model']} | {100 * row['original']:.1f} | {100 * row['shuffled']:.1f} | "
            f"{stats.format_estimate(row['difference'], row['ci_low'], row['ci_high'], signed=True)} |"
            for row in rows
        )
        chance = tables.chance(record, dataset)
        for row in rows:
            role = lesson_role(row["model"])
            if role == "dense":
                parts.append("- " + _dense_claim(row, level))
            elif role == "cnn":
                parts.append("- " + _cnn_claim(row, accuracy.get((dataset, row["model"], "original")),
                                               accuracy.get((dataset, row["model"], "shuffled")), chance, level))
    return "\n\n".join(parts)


def find_scale_run(runs_root: str | os.PathLike, datasets: list[str]) -> RunFolder | None:
    """The newest scale run under ``runs_root`` on one of ``datasets`` (the lab run's), else the newest scale run on
    any dataset, else None."""
    found = [RunFolder(path) for path in find_runs(runs_root, kind="scale")]
    return next((run for run in found if run.config.get("dataset") in datasets), found[0] if found else None)


def scale_answer(run: RunFolder, datasets: list[str]) -> str:
    """What a scale run adds: which run, on which dataset (said when it is not the lab run's), whether complete, and
    its verdict (sentences the experiment wrote from its intervals)."""
    dataset = run.config["dataset"]
    other = "" if dataset in datasets else f", not the lab run's {', '.join(datasets)}"
    status = "" if run.complete else " The run is incomplete: the curve holds the cells finished so far."
    if not run.results.get("curve"):
        return f"Scale run **{run.name}** (on {dataset}{other}) has no permuted condition finished yet.{status}"
    verdict = "\n".join(f"- {line}" for line in run.results.get("verdict", []))
    return (f"**At which scale?** Scale run **{run.name}** on {dataset}{other}: accuracy against block size k when "
            f"pixels are shuffled within k x k blocks or the blocks are moved whole.{status}\n\n{verdict}")
