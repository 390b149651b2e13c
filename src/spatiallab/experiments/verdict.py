"""The verdict: plain sentences written from the measured numbers, never from the lesson's claims.

Every claim follows from an interval: "not distinguishable from chance" when the accuracy interval on original
pixels reaches chance, "a collapse" when the interval on shuffled pixels does, "a drop" or "a gain" only when the
paired interval of original - shuffled excludes 0, and "relies more than" only when two models' intervals do not
overlap. One seed gives no interval, and seeds that all gave the same number give a zero-width one, which says
nothing of the uncertainty; the sentence then says so and claims nothing. One exception: seeds that all scored
chance or less on original pixels (every one predicting the majority class, say) are warned "no better than chance".
An interval that reaches chance only because it rests on few seeds (two seeds far above chance: the t quantile of
one degree of freedom is 12.7) is not read as "learned nothing": the sentence asks for more seeds.
"""

from __future__ import annotations

import math
import statistics

from spatiallab import stats
from spatiallab.experiments.words import TERMS


def position_words(described: dict | None) -> dict[str, str]:
    """What the sentences call a dataset's examples ("images" or "sequences"), from its description's ``kind``: the
    pixels of images, the positions of sequences ("units"), their arrangement ("positions") and the scale
    experiment's blocks (``words.TERMS``)."""
    terms = TERMS[(described or {}).get("kind", "image")]
    return {"examples": terms.examples, "units": terms.positions, "positions": terms.arrangement,
            "blocks": terms.blocks}


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def _points(low: float, high: float, confidence: float) -> str:
    """``95% CI +3.0 to +5.0 points``: an interval of a difference of accuracies."""
    return f"{stats.confidence_label(confidence)} CI {100 * low:+.1f} to {100 * high:+.1f} points"


def has_interval(row: dict | None, low: str = "ci_low", high: str = "ci_high") -> bool:
    """An interval estimated from a spread: not one seed, and not seeds that all gave the same number (a zero-width
    interval). ``low`` and ``high`` name the row's bounds (a scale curve row's: ``drop_ci_low``, ``drop_ci_high``)."""
    return (row is not None and row[low] is not None and row[high] is not None
            and not math.isclose(row[low], row[high], rel_tol=0, abs_tol=1e-9))  # fmt: skip


# How far above chance an accuracy may lie and still be at chance: Keras computes accuracy in float32, whose nearest
# value to 0.1 is 0.10000000149, so ten classes at exactly chance arrive 1.5e-9 above it (one test image in a million
# is 1e-6).
CHANCE_TOLERANCE = 1e-7


def reaches_chance(accuracy: dict | None, chance: float | None) -> bool:
    """Whether an accuracy (a ``summary`` row) shows no learning: its interval reaches down to chance, or every seed
    gave the same accuracy at or below chance (a zero-width interval there, e.g. every seed predicting the majority
    class). False with one seed (no interval), a zero-width interval above chance, or no chance level."""
    if chance is None or accuracy is None or accuracy["ci_low"] is None:
        return False
    return accuracy["ci_low"] <= chance + CHANCE_TOLERANCE


def _normal_half_width(accuracy: dict, confidence: float) -> tuple[float, float]:
    """(z, z * std / sqrt(n)): the normal quantile at ``confidence`` and the half-width it gives an accuracy row
    (what many seeds with this spread would give)."""
    z = statistics.NormalDist().inv_cdf(0.5 + confidence / 2)
    return z, z * accuracy["std"] / math.sqrt(accuracy["n"])


def _wide_from_few_seeds(accuracy: dict, chance: float, confidence: float) -> bool:
    """Whether an accuracy interval (with a spread: ``has_interval``) reaches chance only because it rests on few
    seeds: the mean lies farther above chance than the normal half-width (``_normal_half_width``), so it is the
    Student-t quantile of n - 1 degrees of freedom (12.7 against 1.96 for 2 seeds at 95%) that stretches the interval
    down to chance. False for a mean near or below chance."""
    return accuracy["mean"] - chance > _normal_half_width(accuracy, confidence)[1]


def _all_seeds(count: int | None) -> str:
    """``both seeds`` / ``all 3 seeds`` / ``every seed`` (count unknown): the seeds that gave one same number."""
    return {None: "every seed", 2: "both seeds"}.get(count, f"all {count} seeds")


def _change(points: float) -> str:
    """``lost 4.0 points`` / ``gained 1.0 points`` / ``changed by 0.0 points``: a reliance estimate, worded by sign."""
    size = f"{abs(points):.1f}"
    if size == "0.0":
        return "changed by 0.0 points"
    return f"{'lost' if points > 0 else 'gained'} {size} points"


def verdict_line(row: dict, chance: float | None, confidence: float = stats.CONFIDENCE,
                 original: dict | None = None, shuffled: dict | None = None, units: str = "pixels") -> str:
    """One sentence for one model's reliance row, e.g.
    ``dense on mnist: 97.6% -> 97.5%, not distinguishable from no change (+0.1 points, 95% CI -0.3 to +0.5 points).``

    Args:
        row: a ``reliance`` row (original - shuffled, paired by seed, with its interval).
        chance: the test split's majority-class share, or None when unknown.
        original, shuffled: the ``summary`` rows of the two conditions (accuracy intervals over seeds); without
            them the sentence makes no claim about chance.
        units: what was shuffled: "pixels", or "positions" of sequences (``position_words``).

    A model whose original-pixels interval reaches chance shows no learning for shuffling to remove, so the sentence
    says that (or that its seeds are too few to tell, ``no_learning_warning``) instead of reading its reliance.
    Without an interval for the difference the sentence gives the difference and claims neither a change nor its
    absence.
    """
    head = f"{row['model']} on {row['dataset']}: {_percent(row['original'])} -> {_percent(row['shuffled'])}"
    points = 100 * row["difference"]
    no_learning = no_learning_warning(head, original, chance, confidence, f"original {units}", "shuffling",
                                      f" ({points:+.1f} points)")  # fmt: skip
    if no_learning:
        return no_learning
    if row["ci_low"] is None:
        return f"{head} ({points:+.1f} points; one seed, so no interval: use more seeds to tell this from noise)."
    if not has_interval(row):
        return (f"{head} ({points:+.1f} points; {_all_seeds(row.get('n_pairs'))} gave the same difference, so the "
                "interval has zero width and says nothing of the uncertainty: use more seeds).")
    if row["ci_low"] <= 0 <= row["ci_high"]:
        interval = _points(row["ci_low"], row["ci_high"], confidence)
        return f"{head}, not distinguishable from no change ({points:+.1f} points, {interval})."
    size = f"{abs(points):.1f}"
    article = "an" if size.startswith(("8", "11.", "18.")) else "a"
    if points < 0:  # shuffled pixels scored higher; the interval quoted is the gain's, so both ends are positive
        return f"{head}, {article} {size}-point gain ({_points(-row['ci_high'], -row['ci_low'], confidence)})."
    sentence = f"{head}, {article} {size}-point drop ({_points(row['ci_low'], row['ci_high'], confidence)})"
    if chance is not None and has_interval(shuffled):
        sentence += f": {_collapse(reaches_chance(shuffled, chance), chance)}"
    return sentence + "."


def _collapse(collapsed: bool, chance: float) -> str:
    """``a collapse, not distinguishable from chance (10.0%)`` / ``not a collapse to chance (10.0%)``: an accuracy
    after a change whose interval reaches chance (``reaches_chance``), or stays above it."""
    if collapsed:
        return f"a collapse, not distinguishable from chance ({_percent(chance)})"
    return f"not a collapse to chance ({_percent(chance)})"


def no_learning_warning(subject: str, accuracy: dict | None, chance: float | None, confidence: float,
                        unchanged: str, change: str, detail: str = "") -> str | None:
    """The sentence for a model that shows no learning on the unchanged data, which every experiment says in place
    of its other claims about that model: its accuracy interval there reaches chance, or every seed scored the same
    accuracy at or below chance (``reaches_chance``), so there is nothing measurable for the experiment's change to
    remove. Where the interval reaches chance only because it rests on few seeds, the mean lying above chance by more
    than the seeds' spread explains (``_wide_from_few_seeds``: two seeds at 90% and 70%), the sentence says that the
    seeds are too few to tell, and asks for more. None when the interval stays above chance, with one seed (no
    interval), a zero-width interval above chance, or no chance level.

    Args:
        subject: the sentence's start, e.g. ``"cnn on mnist: 20.0% -> 19.0%"`` or ``"cnn"``.
        accuracy: the accuracy row on the unchanged data (a ``summary`` or curve row: ``stats.t_interval``'s ``n``,
            ``mean``, ``std``, ``ci_low``, ``ci_high``).
        chance: the test split's majority-class share (a fraction), or None.
        unchanged: the unchanged data, e.g. ``"original pixels"``, ``"the original images"``, ``"unshifted images"``.
        change: what the experiment does to them, e.g. ``"shuffling"``, ``"a permutation"``, ``"a shift"``.
        detail: words after "to remove", e.g. ``" (+1.0 points)"``.
    """
    if not reaches_chance(accuracy, chance):
        return None
    if not has_interval(accuracy):
        finding = (f"no better than chance ({_percent(chance)}) already on {unchanged} "
                   f"({_all_seeds(accuracy.get('n'))} scored {_percent(accuracy['ci_low'])}, a zero-width interval)")
    else:
        interval = (f"{stats.confidence_label(confidence)} CI {_percent(accuracy['ci_low'])} to "
                    f"{_percent(accuracy['ci_high'])}")  # fmt: skip
        if _wide_from_few_seeds(accuracy, chance, confidence):
            z, half_width = _normal_half_width(accuracy, confidence)
            gap, bound = 100 * (accuracy["mean"] - chance), 100 * half_width
            digits = 1 if f"{gap:.1f}" != f"{bound:.1f}" else 2  # never "2.7 > 2.7"
            test = f"mean - chance {gap:.{digits}f} points > {z:.2f} x sd / sqrt({accuracy['n']}) = {bound:.{digits}f}"
            return (f"{subject}: {_percent(accuracy['mean'])} on {unchanged}, above chance ({_percent(chance)}) by "
                    f"more than its seeds' spread explains ({test}), but its {interval} reaches chance: "
                    f"{accuracy['n']} seeds are too few to tell whether the model learned anything for {change} to "
                    f"remove{detail}; use --seeds {accuracy['n'] + 1} or more.")  # fmt: skip
        finding = f"not distinguishable from chance ({_percent(chance)}) already on {unchanged} ({interval})"
    return (f"{subject}: {finding}, so the model learned nothing measurable for {change} to remove{detail}; "
            "train longer or check the data.")


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


# Where the formats state the machine and file type, as byte offsets [start, end) from the file's start: ELF's e_type
# and e_machine (System V ABI, ELF header), Mach-O's cputype (mach-o/loader.h). PE's Machine field follows the DOS
# stub, at e_lfanew + 4 with e_lfanew read from bytes 0x3C..0x3F, so no fixed mask size is known to cover it.
FIXED_HEADER_FIELDS = (("ELF e_type and e_machine", 16, 20), ("Mach-O cputype", 4, 8))


def header_mask_note(name: str, mask: dict) -> str:
    """What the header mask hid (``Dataset.info["header_mask"]``, see ``data.byte_views.mask_header``), as a
    sentence: the share of each sample zeroed, and which of the formats' machine and file-type fields
    (``FIXED_HEADER_FIELDS``) the mask covers; PE's Machine field is at a per-file offset, so the sentence says the
    mask covers it only where it reaches that far."""
    size = mask["bytes"]
    where = (f"positions 0..{size - 1} of {mask['view']}" if mask["exact"] else
             f"every pixel of the resized view {mask['view']} that they reach")  # fmt: skip
    covered = [field for field, _, end in FIXED_HEADER_FIELDS if end <= size]
    uncovered = [f"{field} (bytes {start}..{end - 1})" for field, start, end in FIXED_HEADER_FIELDS if end > size]
    fields = (f" It covers {' and '.join(covered)}" if covered else " It covers none of the fixed header fields")
    fields += f"; not {' or '.join(uncovered)}" if uncovered else ""
    return (f"Header masked: on {name}, the first {size:,} bytes of every file were zeroed (--mask-header {size}), "
            f"train and test alike: {where}, {100 * mask['masked_share']:.1f}% of a sample on average.{fields}. A "
            "PE file's Machine field sits at its PE header offset (e_lfanew + 4, often past byte 64): the mask hides "
            "it only in files where it reaches that far.")


def header_mask_notes(datasets: dict[str, dict]) -> list[str]:
    """``header_mask_note`` for each dataset whose description records a header mask."""
    return [header_mask_note(name, described["info"]["header_mask"]) for name, described in datasets.items()
            if "header_mask" in described.get("info", {})]  # fmt: skip


def missing_cells(failed_cells: list[dict]) -> list[str]:
    """One line per failed cell, naming it and its reason: the verdict says what its numbers lack."""
    return [f"Missing: {cell['dataset']} {cell['model']} {cell['condition']} seed {cell['seed']} failed "
            f"({cell.get('reason', 'no reason recorded')}); its numbers are left out above."
            for cell in failed_cells]  # fmt: skip


def write_verdict(reliance: list[dict], chance: dict[str, float], datasets: dict[str, dict] | None = None,
                  confidence: float = stats.CONFIDENCE, summary: list[dict] | None = None) -> list[str]:
    """Verdict sentences: the header mask and warnings about empty classes (from ``datasets``, the results'
    descriptions), one sentence per model and dataset, and a comparison of the models' reliance (models at chance
    left out of it).

    ``summary`` holds the per-condition accuracy rows (``ci_low``/``ci_high`` per dataset, model and condition);
    claims about chance are made from them, so without them no sentence mentions chance.
    """
    accuracy = {(row["dataset"], row["model"], row["condition"]): row for row in summary or []}
    lines = header_mask_notes(datasets or {}) + empty_class_warnings(datasets or {})
    compared: dict[str, list[dict]] = {}
    for row in reliance:
        original = accuracy.get((row["dataset"], row["model"], "original"))
        shuffled = accuracy.get((row["dataset"], row["model"], "shuffled"))
        units = position_words((datasets or {}).get(row["dataset"]))["units"]
        lines.append(verdict_line(row, chance.get(row["dataset"]), confidence, original, shuffled, units))
        if not reaches_chance(original, chance.get(row["dataset"])):
            compared.setdefault(row["dataset"], []).append(row)
    lines += [_ranking(dataset, rows, confidence, position_words((datasets or {}).get(dataset)))
              for dataset, rows in compared.items() if len(rows) > 1]  # fmt: skip
    return lines


def _ranking(dataset: str, rows: list[dict], confidence: float, words: dict[str, str]) -> str:
    """Whether the models with the highest and the lowest reliance estimate are told apart by their intervals (only
    those two are compared, so with three or more models the sentence says nothing of the ones between)."""
    ordered = sorted(rows, key=lambda row: row["difference"])  # stable, so two tied rows stay two models
    least, most = ordered[0], ordered[-1]
    if any(row["ci_low"] is None for row in (most, least)):
        return f"On {dataset}, the models cannot be ranked: with one seed there is no interval; use more seeds."
    if not (has_interval(most) and has_interval(least)):
        zero = most if not has_interval(most) else least
        return (f"On {dataset}, the models cannot be ranked: {zero['model']}'s interval has zero width, "
                "which says nothing of the uncertainty; use more seeds.")
    label = stats.confidence_label(confidence)
    if most["ci_low"] <= least["ci_high"]:
        pair = " and ".join(row["model"] for row in rows if row is most or row is least)  # in the run's order
        return (f"On {dataset}, {pair} are not distinguishable in their reliance on {words['positions']}: their "
                f"{label} intervals overlap.")
    return (f"On {dataset}, {most['model']} relies more on {words['positions']} than {least['model']}: with shuffled "
            f"{words['units']} {most['model']} {_change(100 * most['difference'])}, {least['model']} "
            f"{_change(100 * least['difference'])} (their {label} intervals do not overlap).")


# -- the scale experiment -------------------------------------------------------------------------------------


def _drop_points(row: dict, confidence: float) -> str:
    """``+4.0 points, 95% CI +3.0 to +5.0``: a curve row's drop with its interval."""
    if row["drop_ci_low"] is None:
        return f"{100 * row['drop']:+.1f} points, no interval"
    return (f"{100 * row['drop']:+.1f} points, {stats.confidence_label(confidence)} CI "
            f"{100 * row['drop_ci_low']:+.1f} to {100 * row['drop_ci_high']:+.1f}")  # fmt: skip


FULL_SHUFFLE = "the lesson's full shuffle"


def _at(row: dict, detail: str = "", full_shuffle: bool = True) -> str:
    """``k = 28 (the lesson's full shuffle)``, or ``k = 7``: where a curve row lies; a ``detail`` (its drop) joins the
    same parenthesis: ``k = 28 (the lesson's full shuffle: +86.8 points)``, ``k = 7 (+38.8 points)``. Without
    ``full_shuffle`` the full shuffle goes unnamed (a sentence that has named it already)."""
    named = FULL_SHUFFLE if full_shuffle and row.get("full_shuffle") else ""
    notes = [note for note in (named, detail) if note]
    return f"k = {row['block_size']}" + (f" ({': '.join(notes)})" if notes else "")


def _sizes(rows: list[dict]) -> str:
    return ", ".join(str(row["block_size"]) for row in rows)


def _apart(rows: list[dict], rising: bool) -> tuple[dict, dict] | None:
    """The two rows (the earlier one along ``rows`` first) whose drop intervals lie farthest apart with the later
    drop above the earlier one (``rising``) or below it; None when every such pair's intervals overlap."""
    def gap(earlier: dict, later: dict) -> float:  # > 0: the intervals are apart in that order
        return (later["drop_ci_low"] - earlier["drop_ci_high"] if rising
                else earlier["drop_ci_low"] - later["drop_ci_high"])  # fmt: skip

    pairs = [(earlier, later) for index, earlier in enumerate(rows) for later in rows[index + 1:]]
    widest = max(pairs, key=lambda pair: gap(*pair))
    return widest if gap(*widest) > 0 else None


def _span(earlier: dict, later: dict) -> str:
    """``from +0.6 points at k = 2 to +10.2 at k = 28 (the lesson's full shuffle)``."""
    return f"from {100 * earlier['drop']:+.1f} points at {_at(earlier)} to {100 * later['drop']:+.1f} at {_at(later)}"


def curve_shape(rows: list[dict]) -> str:
    """How a family's drop from the original changes along ``rows`` (curve rows ordered from the benign end to the
    destructive one), claimed only where two sizes' drop intervals do not overlap: ``grows from +0.6 points at k = 2
    to +10.2 at k = 28`` (the pair farthest apart), ``shrinks from ...``, ``goes up and down beyond its intervals:
    up from ... and down from ...`` only where both a rise and a fall have intervals apart, ``is flat within its
    intervals (+3.3 to +6.1 points)`` where no two do. Point estimates that go up and down within their intervals
    are noise and not called a shape. Without an interval at every size the sentence lists the point estimates."""
    if len(rows) == 1:
        return f"is {100 * rows[0]['drop']:+.1f} points at {_at(rows[0])}"
    if not all(has_interval(row, "drop_ci_low", "drop_ci_high") for row in rows):
        return _estimates(rows)
    rise, fall = _apart(rows, rising=True), _apart(rows, rising=False)
    if rise and fall:
        moves = sorted([("up", rise), ("down", fall)], key=lambda move: rows.index(move[1][0]))
        return "goes up and down beyond its intervals: " + " and ".join(f"{way} {_span(*pair)}" for way, pair in moves)
    if rise or fall:
        return f"{'grows' if rise else 'shrinks'} {_span(*(rise or fall))}"
    drops = [100 * row["drop"] for row in rows]
    return f"is flat within its intervals ({min(drops):+.1f} to {max(drops):+.1f} points)"


def _estimates(rows: list[dict]) -> str:
    """``is +0.1, +8.0, +38.0 points at k = 2, 4, 7``: the drops' point estimates, where no interval is read."""
    drops = ", ".join(f"{100 * row['drop']:+.1f}" for row in rows)
    return f"is {drops} points at k = {_sizes(rows)}"


def _too_wide(rows: list[dict], original: dict | None) -> bool:
    """Whether every size's drop interval holds both 0 and the model's whole accuracy on the original (a drop to
    zero), so that the curve cannot be read (two seeds at a Bonferroni level, whose t quantile is over 100)."""
    return original is not None and all(row["drop_ci_low"] <= 0 and row["drop_ci_high"] >= original["mean"]
                                        for row in rows)  # fmt: skip


def _seeds(rows: list[dict]) -> str:
    """``2 seeds`` / ``2 to 3 seeds``: the seeds paired in a curve's drops."""
    fewest, most = min(row["n_pairs"] for row in rows), max(row["n_pairs"] for row in rows)
    return f"{fewest} seeds" if fewest == most else f"{fewest} to {most} seeds"


def _largest(largest: dict, named: dict | None, full_shuffle: dict | None, confidence: float,
             note: bool = True) -> str | None:  # fmt: skip
    """The family's largest drop with its interval, unless the sentence has named that row already (``named``), and
    its share of the lesson's full shuffle's drop where both are significant; None when there is nothing to add.
    ``note``: whether its place may name the full shuffle (``_at``)."""
    words = (None if largest is named else
             f"the largest is {_drop_points(largest, confidence)}, at {_at(largest, full_shuffle=note)}")  # fmt: skip
    if full_shuffle is None or full_shuffle["status"] != "drop" or largest["status"] != "drop":
        return words
    share = (f"{largest['drop'] / full_shuffle['drop']:.0%} of the lesson's full shuffle's drop "
             f"({full_shuffle['family']} k = {full_shuffle['block_size']}: {100 * full_shuffle['drop']:+.1f} points)")
    return f"{words}, {share}" if words else f"the largest drop is {share}"


def _standing(rows: list[dict], original: dict, chance: float | None, examples: str) -> str:
    """Where a family's accuracies stand against the original and chance: ``96.8% on the original images, 86.6% at
    worst: not a collapse to chance (10.0%) at any size`` (every size's accuracy interval, at the run's level, above
    chance; ``permuted`` for a curve of one size), or ``...: a collapse, not distinguishable from chance (10.0%), at
    k = 14, 28`` (the sizes whose interval reaches it: ``reaches_chance``). Only the accuracies without a chance
    level, or where a size above chance has no interval to tell its distance (a zero-width one)."""
    lowest = min(rows, key=lambda row: row["mean"])
    accuracies = (f"{_percent(original['mean'])} on the original {examples}, {_percent(lowest['mean'])} "
                  f"{'at worst' if len(rows) > 1 else 'permuted'}")  # fmt: skip
    if chance is None:
        return accuracies
    collapsed = [row for row in rows if reaches_chance(row, chance)]
    if collapsed:
        return f"{accuracies}: {_collapse(True, chance)}, at k = {_sizes(collapsed)}"
    if not all(has_interval(row) for row in rows):
        return accuracies
    return f"{accuracies}: {_collapse(False, chance)}" + (" at any size" if len(rows) > 1 else "")


def family_sentence(model: str, family: str, rows: list[dict], confidence: float, words: dict[str, str] | None = None,
                    full_shuffle: dict | None = None, original: dict | None = None,
                    chance: float | None = None) -> str:  # fmt: skip
    """The shape of one family's curve against the original and, where the run measured it, the lesson's full
    shuffle, read from the benign end (small k for ``within``, where little is shuffled; large k for ``between``,
    where big parts stay intact) toward the destructive one; then how far the model falls: its largest drop and
    where its accuracy stands against the original and chance (``_standing``), so that a small significant drop at
    every size (never near chance) reads apart from a fall to chance.

    The shape (``curve_shape``) and which sizes cost a significant drop (or give a gain) are from the drop
    intervals, at ``confidence``, the curve's Bonferroni level (``scale.drop_level``), so the sizes named hold
    together. A size without an interval (one seed, or a zero-width one) allows no claim, and the sentence says so;
    so do intervals too wide to read (``_too_wide``: each holds both no drop and a drop to zero), which are neither a
    flat curve nor "no significant drop". ``between`` is read from its largest k, the mildest rearrangement, and the
    sentence says so; it names the lesson's full shuffle once.
    ``full_shuffle``: the model's curve row of the lesson's full shuffle (within the image size, or between 1), when
    it is not on this curve: the family's largest drop is then given as a share of it. ``original``: the model's
    ``summary`` row on the original data, and ``chance`` the test split's majority-class share: without them the
    sentence says nothing of the accuracies. ``words`` (``position_words``) names pixels and k x k blocks of images,
    or positions and blocks of k positions.
    """
    words = words or position_words(None)
    rows = sorted(rows, key=lambda row: row["block_size"], reverse=family == "between")
    what = (f"shuffling {words['units']} within {words['blocks']}" if family == "within"
            else f"rearranging {words['blocks']} (largest k, the mildest, first)")  # fmt: skip
    unknown = [row for row in rows if row["status"] == "unknown"]
    too_wide = not unknown and _too_wide(rows, original)
    start = f"{model}: {what}: the drop from the original {_estimates(rows) if too_wide else curve_shape(rows)}"
    if unknown:
        return (f"{start}; no claim: k = {_sizes(unknown)} {'has' if len(unknown) == 1 else 'have'} no interval "
                "(one seed, or every seed gave the same difference); use more seeds.")
    if too_wide:
        return (f"{start}; no claim: the intervals are too wide to read ({_seeds(rows)} at the "
                f"{stats.confidence_label(confidence)} level: each holds both no drop and a drop to 0% accuracy); use "
                f"more seeds; {_standing(rows, original, chance, words['examples'])}.")  # fmt: skip
    note = FULL_SHUFFLE not in start  # the full shuffle is named once in the sentence
    drops = [row for row in rows if row["status"] == "drop"]
    gains = [row for row in rows if row["status"] == "gain"]
    named = drops[0] if drops else None  # the row whose interval the claims give
    if len(rows) == 1:  # the shape above names its one size
        status = {"drop": "significant", "gain": "a significant gain", "none": "not significant"}[rows[0]["status"]]
        claims, named = f"{status} ({_drop_points(rows[0], confidence)})", rows[0]
    elif not drops:
        claims = "no size costs a significant drop"
    elif len(drops) == len(rows):
        claims = f"significant at every size, already at {_at(named, _drop_points(named, confidence), note)}"
    else:
        spared = [row for row in rows if row["status"] != "drop"]
        claims = (f"significant at k = {_sizes(drops)}, not at k = {_sizes(spared)}; first at "
                  f"{_at(named, _drop_points(named, confidence), note)}")  # fmt: skip
    largest = _largest(max(rows, key=lambda row: row["drop"]), named, full_shuffle, confidence, note)
    claims += f"; {largest}" if largest else ""
    if gains and len(rows) > 1:
        claims += f"; a significant gain at k = {_sizes(gains)}"
    if original is not None:
        claims += f"; {_standing(rows, original, chance, words['examples'])}"
    return f"{start}; {claims}."


def flatness_sentence(check: dict, confidence: float, units: str = "pixels") -> str:
    """The verdict on a position-blind model's curve (see ``flatness_check``); ``units``: what the conditions
    permute ("pixels", or "positions" of sequences)."""
    model, level = check["model"], stats.confidence_label(check["confidence"])
    if check["status"] == "moved":
        moved = [row for row in check["rows"] if row["status"] == "moved"]
        where = "; ".join(f"{row['condition']}: {100 * row['difference']:+.1f} points ({level} CI "
                          f"{100 * row['ci_low']:+.1f} to {100 * row['ci_high']:+.1f})" for row in moved)  # fmt: skip
        return (f"BUG: {model} sees only a permutation of the {units} in every condition, so its accuracy cannot "
                f"depend on it, yet it moved ({where}). This is a bug in spatiallab, not a finding: check the saved "
                "permutations and that train and test used the same one.")
    if check["status"] == "unchecked":
        return (f"{model}'s flatness (it must not move: every condition permutes the {units}) cannot be checked: "
                f"{_unchecked_reasons(check)}.")
    largest = max(check["rows"], key=lambda row: abs(row["difference"]))
    move = (f"{largest['condition']}: {100 * largest['difference']:+.1f} points, {level} CI "
            f"{100 * largest['ci_low']:+.1f} to {100 * largest['ci_high']:+.1f}")  # fmt: skip
    if check["comparisons"] == 1:
        intervals = f"its one paired interval, at {level}, holds 0; the move, {move}"
    else:
        intervals = (f"each of {check['comparisons']} paired intervals at {level}, Bonferroni for "
                     f"{stats.confidence_label(confidence)} over the curve, holds 0; the largest move, {move}")
    return (f"{model} stays flat, as a model that flattens its input must: no condition differs measurably from "
            f"the original ({intervals}).")


def _unchecked_reasons(check: dict) -> str:
    """Why an "unchecked" flatness check (``scale.flatness_check``) checks nothing, naming only the reasons that
    apply: conditions not finished, conditions without an interval (one seed, or a zero-width one away from 0), and
    conditions whose interval is too wide to rule anything out (the unchecked ones that have an interval)."""
    unchecked = [row for row in check["rows"] if row["status"] == "unchecked"]
    reasons = []
    unfinished = check["comparisons"] - len(check["rows"])
    if unfinished > 0:
        reasons.append(f"{unfinished} of {check['comparisons']} conditions {'is' if unfinished == 1 else 'are'} not "
                       "finished")  # fmt: skip
    for found, words in ((False, "no interval (one seed, or a zero-width one)"),
                         (True, "an interval too wide to rule anything out")):  # fmt: skip
        named = [row["condition"] for row in unchecked if has_interval(row) is found]
        if named:
            reasons.append(f"{', '.join(named)} {'has' if len(named) == 1 else 'have'} {words}")
    advice = [words for wanted, words in ((unfinished > 0, "finish the run (--resume)"),
                                          (unchecked, "use more seeds")) if wanted]  # fmt: skip
    return f"{'; '.join(reasons)}; {' and '.join(advice)}"


def identity_words(identity: list[str], examples: str = "images") -> str:
    """``between k = 28 leaves the images as they are``: what the conditions in ``identity``
    (``scale.identity_conditions``, e.g. ``["between-28"]``) do, in words."""
    names = " and ".join(name.replace("-", " k = ") for name in identity)
    return f"{names} {'leaves' if len(identity) == 1 else 'leave'} the {examples} as they are"


def identity_sentence(identity: list[str], examples: str = "images") -> str | None:
    """Why the asked-for conditions in ``identity`` (``scale.identity_conditions``, e.g. ``["between-28"]``) were
    not trained; None when there are none."""
    if not identity:
        return None
    pronoun = "it" if len(identity) == 1 else "them"
    return (f"Not trained: {identity_words(identity, examples)}, so {pronoun} would repeat the original condition; "
            f"the original's accuracy stands for {pronoun} on the curve.")


def scale_verdict(record: dict, summary: list[dict], curve: list[dict], flatness: list[dict], *,
                  drop_confidence: float, identity: list[str] = ()) -> list[str]:  # fmt: skip
    """Verdict sentences from the numbers: the conditions not trained (``identity_sentence``); position-blind models
    get the flatness check (a move is a bug); every other model one sentence per family (``family_sentence``, with
    the model's full-shuffle row, its original accuracy and chance as references), unless its accuracy on the
    original images is not distinguishable from chance (``no_learning_warning``); then the level of the drop
    intervals (``drop_confidence``, Bonferroni over each curve), a note where a drop bound is clipped to
    ``stats.DIFFERENCE_BOUNDS`` (as the tables print it) and the missing cells."""
    config = record["config"]
    confidence = config.get("confidence", stats.CONFIDENCE)
    chance = record.get("chance")
    checks = {check["model"]: check for check in flatness}
    words = position_words(record.get("dataset"))
    examples = words["examples"]
    lines = [line for line in [identity_sentence(list(identity), examples)] if line]
    described = False
    for model in config["models"]:
        if model in checks:
            lines.append(flatness_sentence(checks[model], confidence, words["units"]))
            continue
        original = next((row for row in summary if (row["model"], row["condition"]) == (model, "original")), None)
        if original is None:
            lines.append(f"{model}: no claim: no cell on the original {examples} finished.")
            continue
        no_learning = no_learning_warning(model, original, chance, confidence, f"the original {examples}",
                                          "a permutation")  # fmt: skip
        if no_learning:
            lines.append(no_learning)
            continue
        model_curve = [row for row in curve if row["model"] == model]
        for family in config["families"]:
            rows = [row for row in model_curve if row["family"] == family]
            full_shuffle = next((row for row in model_curve if row.get("full_shuffle") and row not in rows), None)
            if rows:
                lines.append(family_sentence(model, family, rows, drop_confidence, words, full_shuffle, original,
                                             chance))  # fmt: skip
                described = True
    if described:
        lines.append(f"Each drop interval above is at {stats.confidence_label(drop_confidence)}: Bonferroni for "
                     f"{stats.confidence_label(confidence)} over the permuted conditions of a model's curve, so all "
                     "the claims on one curve hold together at the run's level; the accuracy intervals are at "
                     f"{stats.confidence_label(confidence)}.")
    low, high = stats.DIFFERENCE_BOUNDS
    if any(row["drop_ci_low"] is not None and (row["drop_ci_low"] <= low or row["drop_ci_high"] >= high)
           for row in curve):  # fmt: skip
        lines.append(f"A drop bound of {100 * low:+.1f} or {100 * high:+.1f} points is clipped: its t interval reaches "
                     "past the largest possible difference of two accuracies.")
    return lines + missing_cells(record.get("failed_cells", []))
