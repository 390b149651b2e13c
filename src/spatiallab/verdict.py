"""The verdict: plain sentences written from the measured numbers, never from the lesson's claims."""

from __future__ import annotations

import math

# Points above chance within which a model counts as at chance: on original pixels it learned nothing; on shuffled
# pixels, after a drop, it collapsed to chance.
NEAR_CHANCE_POINTS = 5.0


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _interval(row: dict) -> str:
    return f"95% CI {100 * row['ci_low']:+.1f} to {100 * row['ci_high']:+.1f} points"


def _has_interval(row: dict) -> bool:
    """An interval estimated from a spread: not one seed, and not seeds that all gave the same difference."""
    return row["ci_low"] is not None and not math.isclose(row["ci_low"], row["ci_high"], rel_tol=0, abs_tol=1e-9)


def _at_chance(row: dict, chance: float | None) -> bool:
    return chance is not None and 100 * (row["original"] - chance) <= NEAR_CHANCE_POINTS


def verdict_line(row: dict, chance: float | None) -> str:
    """One sentence for one model's reliance row, e.g.
    ``dense on mnist: 97.6% -> 97.5%, not distinguishable from no change (+0.1 points, 95% CI -0.3 to +0.5 points).``

    A model that stayed within ``NEAR_CHANCE_POINTS`` of chance on original pixels learned nothing that shuffling
    could take away; the sentence says so instead of reading its reliance. Without an interval (one seed, or seeds
    that all gave the same difference, whose zero-width interval says nothing of the uncertainty) the sentence gives
    the difference and claims neither a change nor its absence.
    """
    head = f"{row['model']} on {row['dataset']}: {_percent(row['original'])} -> {_percent(row['shuffled'])}"
    points = 100 * row["difference"]
    if _at_chance(row, chance):
        return (f"{head}: at chance ({_percent(chance)}) already on original pixels, so the model learned nothing "
                f"for shuffling to remove ({points:+.1f} points); train longer or check the data.")
    if row["ci_low"] is None:
        return f"{head} ({points:+.1f} points; one seed, so no interval: use more seeds to tell this from noise)."
    if not _has_interval(row):
        seeds = {None: "every seed", 2: "both seeds"}.get(row.get("n_pairs"), f"all {row.get('n_pairs')} seeds")
        return (f"{head} ({points:+.1f} points; {seeds} gave the same difference, so the interval has zero width "
                "and says nothing of the uncertainty: use more seeds).")
    interval = _interval(row)
    if row["ci_low"] <= 0 <= row["ci_high"]:
        return f"{head}, not distinguishable from no change ({points:+.1f} points, {interval})."
    direction = "drop" if points > 0 else "gain"
    size = f"{abs(points):.1f}"
    article = "an" if size.startswith(("8", "11.", "18.")) else "a"
    sentence = f"{head}, {article} {size}-point {direction} ({interval})"
    if direction == "drop" and chance is not None:
        if 100 * (row["shuffled"] - chance) <= NEAR_CHANCE_POINTS:
            sentence += f": a collapse to chance ({_percent(chance)})"
        else:
            sentence += f": not a collapse to chance ({_percent(chance)})"
    return sentence + "."


def empty_class_warnings(datasets: dict[str, dict]) -> list[str]:
    """A warning per dataset whose train or test split lacks a class (``describe()``'s ``class_counts``)."""
    lines = []
    for name, described in datasets.items():
        counts = described.get("class_counts")
        for part, meaning in (("test", "no accuracy is measured on it"), ("train", "no model can learn it")):
            missing = [cls for cls, count in zip(described["class_names"], (counts or {}).get(part, [])) if not count]
            if missing:
                classes = f"class {missing[0]} has" if len(missing) == 1 else f"classes {', '.join(missing)} have"
                lines.append(f"Warning: on {name}, {classes} no {part} image, so {meaning}; use a larger dataset, "
                             "another split, or --min-class-size where offered.")
    return lines


def write_verdict(reliance: list[dict], chance: dict[str, float], datasets: dict[str, dict] | None = None) -> list[str]:
    """Verdict sentences: warnings about empty classes (from ``datasets``, the results' descriptions), one sentence
    per model and dataset, and a comparison of the models' reliance (models at chance left out of it)."""
    lines = empty_class_warnings(datasets or {})
    lines += [verdict_line(row, chance.get(row["dataset"])) for row in reliance]
    for dataset in dict.fromkeys(row["dataset"] for row in reliance):
        rows = [row for row in reliance if row["dataset"] == dataset and not _at_chance(row, chance.get(dataset))]
        if len(rows) > 1:
            lines.append(_ranking(dataset, rows))
    return lines


def _ranking(dataset: str, rows: list[dict]) -> str:
    """Which model relies most and least on pixel positions, and whether the intervals establish that order."""
    most = max(rows, key=lambda row: row["difference"])
    least = min(rows, key=lambda row: row["difference"])
    if f"{100 * most['difference']:.1f}" == f"{100 * least['difference']:.1f}":
        return f"On {dataset}, every model lost the same to shuffling ({100 * most['difference']:.1f} points)."
    sentence = (f"On {dataset}, {most['model']} relies most on pixel positions "
                f"({100 * most['difference']:.1f} points lost to shuffling), {least['model']} least "
                f"({100 * least['difference']:.1f})")
    if not (_has_interval(most) and _has_interval(least)):
        return sentence + "; without an interval for both, this order may be noise."
    if most["ci_low"] <= least["ci_high"]:
        return sentence + "; their intervals overlap, so this order is not established."
    return sentence + "."
