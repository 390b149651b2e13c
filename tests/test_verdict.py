"""The verdict's sentences: each claim (at chance, collapse, drop, gain, order) only where an interval supports it."""

import numpy as np
from scipy import stats as scipy_stats

from spatiallab.experiments import shuffled_pixels
from spatiallab.experiments.verdict import (
    no_learning_warning,
    verdict_line,
    write_verdict,
)

CHANCE = {"mnist": 0.1}


def reliance(model="cnn", original=0.99, shuffled=0.95, low=0.03, high=0.05, n_pairs=3):
    """A reliance row: original - shuffled, paired by seed, with its interval."""
    return {"dataset": "mnist", "model": model, "original": original, "shuffled": shuffled,
            "difference": original - shuffled, "ci_low": low, "ci_high": high, "n_pairs": n_pairs}  # fmt: skip


def accuracy(model, condition, mean, low, high, n=3):
    """A summary row: one condition's accuracy over seeds, with its interval and the sample std it implies (the
    unclipped side's half-width is t(n - 1) * std / sqrt(n))."""
    std = None if low is None else max(high - mean, mean - low) * np.sqrt(n) / scipy_stats.t.ppf(0.975, df=n - 1)
    return {"dataset": "mnist", "model": model, "condition": condition, "mean": mean, "ci_low": low, "ci_high": high,
            "n": n, "std": std}  # fmt: skip


def summary_for(model="cnn", original=(0.99, 0.98, 1.0), shuffled=(0.95, 0.94, 0.96)):
    """The two summary rows of one model: (mean, ci_low, ci_high) per condition."""
    return [accuracy(model, "original", *original), accuracy(model, "shuffled", *shuffled)]


# ------------------------------------------------------------------------------------------------ one model's sentence


def test_one_seed_gives_no_interval_and_no_claim():
    row = reliance(original=0.1, shuffled=0.1, low=None, high=None, n_pairs=1)
    rows = [accuracy("cnn", "original", 0.1, None, None, n=1), accuracy("cnn", "shuffled", 0.1, None, None, n=1)]
    assert write_verdict([row], CHANCE, summary=rows) == [
        "cnn on mnist: 10.0% -> 10.0% (+0.0 points; one seed, so no interval: use more seeds to tell this from noise)."
    ]  # exactly at chance, but one seed is no interval, so the sentence does not claim "at chance"


def seed_verdict(original: tuple[float, ...], shuffled: tuple[float, ...], chance: float = 0.1) -> list[str]:
    """The verdict of a cnn on mnist trained on seeds 0, 1, ... (two unless told), scoring ``original`` and
    ``shuffled``."""
    seeds = list(range(len(original)))
    record = {
        "config": {"datasets": ["mnist"], "models": ["cnn"], "conditions": ["original", "shuffled"], "seeds": seeds},
        "chance": {"mnist": chance},
        "cells": [{"dataset": "mnist", "model": "cnn", "condition": condition, "seed": seed, "test_accuracy": value,
                   "train_seconds": 1.0, "params": 10}
                  for condition, values in (("original", original), ("shuffled", shuffled))
                  for seed, value in enumerate(values)],
    }  # fmt: skip
    return shuffled_pixels.summarize(record)["verdict"]


def test_two_seeds_a_large_estimate_is_not_yet_a_drop():
    # differences 0.04 and 0.05 (paired by seed: seed 1 is 6 points worse in both conditions): mean 0.045, sd
    # 0.00707; t(0.975, df=1) = 12.706, so 0.045 -+ 0.0635. Unpaired (Welch), the seed offset makes it 3x as wide.
    assert seed_verdict((0.99, 0.93), (0.95, 0.88)) == [
        "cnn on mnist: 96.0% -> 91.5%, not distinguishable from no change (+4.5 points, 95% CI -1.9 to +10.9 points)."
    ]


def test_two_seeds_far_above_chance_are_too_few_not_a_model_that_learned_nothing():
    # 90% and 70%: mean 80%, sd 14.1 points; t(0.975, df=1) = 12.706 stretches 80% -+ 127 points down to chance
    # (clipped to 0%..100%), where a normal quantile (1.96) would give 80% -+ 19.6 points, far above 10%
    assert seed_verdict((0.9, 0.7), (0.85, 0.62)) == [
        "cnn on mnist: 80.0% -> 73.5%: 80.0% on original pixels, above chance (10.0%) by more than its seeds' spread "
        "explains (mean - chance 70.0 points > 1.96 x sd / sqrt(2) = 19.6), but its 95% CI 0.0% to 100.0% reaches "
        "chance: 2 seeds are too few to tell whether the model learned anything for shuffling to remove (+6.5 "
        "points); use --seeds 3 or more."
    ]
    # the walk-through's 54.2%, 54.2%, 50.0% against chance 50%: 2.78 points above it, just past 1.96 x 2.41 /
    # sqrt(3) = 2.72: the test passed, not by far, and the sentence gives both figures
    walk = (0.5417, 0.5417, 0.5)
    assert "52.8% on original pixels, above chance (50.0%) by more than its seeds' spread explains (mean - chance " \
        "2.8 points > 1.96 x sd / sqrt(3) = 2.7), but its 95% CI 46.8% to 58.8% reaches chance: 3 seeds are too " \
        "few" in seed_verdict(walk, walk, chance=0.5)[0]  # fmt: skip
    # 2.74 points against 2.72: at one decimal both read 2.7, so the figures keep two
    row = {"n": 3, "mean": 0.5274, "std": 0.0272 * np.sqrt(3) / 1.959964, "ci_low": 0.46, "ci_high": 0.59}
    assert "(mean - chance 2.74 points > 1.96 x sd / sqrt(3) = 2.72)" in no_learning_warning("cnn", row, 0.5, 0.95,
                                                                                             "x", "y")  # fmt: skip
    # 15% and 7%: mean 11%, 1 point above chance, within 1.96 * 5.66 / sqrt(2) = 7.8 points: the mean is at chance
    assert seed_verdict((0.15, 0.07), (0.12, 0.08)) == [
        "cnn on mnist: 11.0% -> 10.0%: not distinguishable from chance (10.0%) already on original pixels (95% CI "
        "0.0% to 61.8%), so the model learned nothing measurable for shuffling to remove (+1.0 points); train longer "
        "or check the data."
    ]


def test_a_drop_whose_shuffled_interval_stays_above_chance_is_not_a_collapse():
    # the shuffled mean is 2 points above chance (inside the old fixed 5-point band), but its interval excludes chance
    row = reliance(original=0.99, shuffled=0.12, low=0.85, high=0.89)
    line = verdict_line(row, 0.1, original=accuracy("cnn", "original", 0.99, 0.98, 1.0),
                        shuffled=accuracy("cnn", "shuffled", 0.12, 0.115, 0.125))  # fmt: skip
    assert line == "cnn on mnist: 99.0% -> 12.0%, an 87.0-point drop (95% CI +85.0 to +89.0 points): not a collapse " \
                   "to chance (10.0%)."  # fmt: skip


def test_collapse_when_the_shuffled_interval_reaches_chance():
    # the shuffled mean is 7 points above chance (outside the old 5-point band), but its interval reaches chance
    row = reliance(original=0.99, shuffled=0.17, low=0.78, high=0.86)
    line = verdict_line(row, 0.1, original=accuracy("cnn", "original", 0.99, 0.98, 1.0),
                        shuffled=accuracy("cnn", "shuffled", 0.17, 0.09, 0.25))  # fmt: skip
    assert line == "cnn on mnist: 99.0% -> 17.0%, an 82.0-point drop (95% CI +78.0 to +86.0 points): a collapse, not " \
                   "distinguishable from chance (10.0%)."  # fmt: skip


def test_at_chance_on_original_pixels_follows_the_interval_not_a_band():
    # mean 20%, 10 points above chance, but the interval reaches chance, and the seeds' spread (sd 10 points) puts the
    # mean near chance (1.96 * 10 / sqrt(3) = 11.4 points): no sign of learning
    wide = accuracy("cnn", "original", 0.2, 0.0, 0.45)
    assert verdict_line(reliance(original=0.2, shuffled=0.19, low=-0.02, high=0.04), 0.1, original=wide) == (
        "cnn on mnist: 20.0% -> 19.0%: not distinguishable from chance (10.0%) already on original pixels (95% CI "
        "0.0% to 45.0%), so the model learned nothing measurable for shuffling to remove (+1.0 points); train longer "
        "or check the data."
    )
    # the same mean with a narrower spread (sd 6 points): 3 seeds are too few, not a model at chance
    assert "3 seeds are too few to tell" in verdict_line(reliance(original=0.2, shuffled=0.19, low=-0.02, high=0.04),
                                                          0.1, original=accuracy("cnn", "original", 0.2, 0.05, 0.35))
    # mean 14%, inside the old 5-point band, but the interval excludes chance: the model learned something
    narrow = accuracy("cnn", "original", 0.14, 0.13, 0.15)
    line = verdict_line(reliance(original=0.14, shuffled=0.13, low=-0.02, high=0.04), 0.1, original=narrow)
    assert "at chance" not in line and "not distinguishable from no change" in line


def test_gain_is_worded_as_a_gain_with_the_gain_interval():
    gain = reliance(original=0.90, shuffled=0.92, low=-0.03, high=-0.01)
    line = verdict_line(gain, 0.1, shuffled=accuracy("cnn", "shuffled", 0.92, 0.91, 0.93))
    assert line == "cnn on mnist: 90.0% -> 92.0%, a 2.0-point gain (95% CI +1.0 to +3.0 points)."
    assert "drop" not in line and "lost" not in line and "collapse" not in line
    uncertain = reliance(original=0.90, shuffled=0.92, low=-0.05, high=0.01)
    assert "not distinguishable from no change (-2.0 points" in verdict_line(uncertain, 0.1)


def test_zero_width_intervals_claim_nothing():
    # every seed gave the same accuracy above chance: the difference's zero-width interval says nothing
    flat = reliance(original=0.5, shuffled=0.5, low=0.0, high=0.0, n_pairs=3)
    rows = [accuracy("cnn", "original", 0.5, 0.5, 0.5), accuracy("cnn", "shuffled", 0.5, 0.5, 0.5)]
    assert write_verdict([flat], CHANCE, summary=rows) == [
        "cnn on mnist: 50.0% -> 50.0% (+0.0 points; all 3 seeds gave the same difference, so the interval has zero "
        "width and says nothing of the uncertainty: use more seeds)."
    ]
    # a real drop whose shuffled accuracy has a zero-width interval: no collapse claim either way
    drop = reliance(original=0.99, shuffled=0.1, low=0.87, high=0.91)
    line = verdict_line(drop, 0.1, shuffled=accuracy("cnn", "shuffled", 0.1, 0.1, 0.1))
    assert line == "cnn on mnist: 99.0% -> 10.0%, an 89.0-point drop (95% CI +87.0 to +91.0 points)."
    # 7 of 411 test files on every seed: equal in exact arithmetic, a last bit apart after float subtraction
    identical = reliance(low=0.01703163017031628, high=0.01703163017031639, n_pairs=2)
    assert "both seeds gave the same difference" in verdict_line(identical, 0.1)


def test_every_seed_at_chance_is_warned_despite_the_zero_width_interval():
    # bytes1d stuck at the majority class on every seed: the accuracy is chance exactly, with no spread at all
    stuck = reliance(model="bytes1d", original=0.1, shuffled=0.1, low=0.0, high=0.0, n_pairs=3)
    rows = [accuracy("bytes1d", "original", 0.1, 0.1, 0.1), accuracy("bytes1d", "shuffled", 0.1, 0.1, 0.1),
            *summary_for("cnn")]  # fmt: skip
    lines = write_verdict([stuck, reliance()], CHANCE, summary=rows)
    assert lines[0] == (
        "bytes1d on mnist: 10.0% -> 10.0%: no better than chance (10.0%) already on original pixels (all 3 seeds "
        "scored 10.0%, a zero-width interval), so the model learned nothing measurable for shuffling to remove "
        "(+0.0 points); train longer or check the data."
    )
    assert len(lines) == 2  # left out of the ranking, like a model whose interval reaches chance
    # a last bit above chance (7/411 computed two ways) is still chance; two seeds are "both seeds"
    chance = 7 / 411
    bit_above = accuracy("bytes1d", "original", chance + 1e-16, chance + 1e-16, chance + 1e-16, n=2)
    assert "(both seeds scored 1.7%" in verdict_line(stuck, chance, original=bit_above)
    # Keras's float32 accuracy of exactly one in ten is 0.10000000149: still chance
    float32_tenth = float(np.float32(0.1))
    assert "no better than chance" in verdict_line(stuck, 0.1, original=accuracy(
        "bytes1d", "original", float32_tenth, float32_tenth, float32_tenth))
    # the same zero-width accuracy one point above chance: no warning
    above = accuracy("bytes1d", "original", 0.11, 0.11, 0.11)
    assert "chance" not in verdict_line(stuck, 0.1, original=above)


def test_no_chance_claims_without_the_summary_or_the_chance_level():
    at_chance = reliance(original=0.1, shuffled=0.1, low=-0.01, high=0.01)
    assert "chance" not in write_verdict([at_chance], CHANCE)[0]  # no summary rows: no accuracy interval
    assert "chance" not in write_verdict([at_chance], {}, summary=summary_for(original=(0.1, 0.05, 0.15)))[0]


def test_the_runs_confidence_level_is_quoted():
    line = verdict_line(reliance(), 0.1, 0.9, shuffled=accuracy("cnn", "shuffled", 0.95, 0.94, 0.96))
    assert line == "cnn on mnist: 99.0% -> 95.0%, a 4.0-point drop (90% CI +3.0 to +5.0 points): not a collapse to " \
                   "chance (10.0%)."  # fmt: skip
    at_chance = summary_for(original=(0.1, 0.05, 0.15))
    line = write_verdict([reliance(original=0.1, shuffled=0.1)], CHANCE, confidence=0.975, summary=at_chance)[0]
    assert "not distinguishable from chance (10.0%) already on original pixels (97.5% CI 5.0% to 15.0%)" in line


# ---------------------------------------------------------------------------------------------------- the ranking


def ranking(*rows, summary=(), confidence=0.95) -> str:
    return write_verdict(list(rows), CHANCE, confidence=confidence, summary=list(summary))[-1]


def test_order_only_when_the_intervals_do_not_overlap():
    apart = ranking(reliance("cnn", 0.9, 0.86, 0.03, 0.05), reliance("dense", 0.9, 0.9, -0.003, 0.003))
    assert apart == ("On mnist, cnn relies more on pixel positions than dense: with shuffled pixels cnn lost "
                     "4.0 points, dense changed by 0.0 points (their 95% intervals do not overlap).")
    overlapping = ranking(reliance("cnn", 0.9, 0.85, -0.01, 0.11), reliance("dense", 0.9, 0.9, -0.1, 0.1))
    assert overlapping == ("On mnist, cnn and dense are not distinguishable in their reliance on pixel positions: "
                           "their 95% intervals overlap.")
    assert "relies more" not in overlapping
    assert "90% intervals" in ranking(reliance("cnn", 0.9, 0.85, -0.01, 0.11), reliance("dense", 0.9, 0.9, -0.1, 0.1),
                                      confidence=0.9)  # fmt: skip


def test_a_gain_in_the_ranking_is_called_a_gain():
    line = ranking(reliance("cnn", 0.9, 0.86, 0.03, 0.05), reliance("dense", 0.9, 0.92, -0.03, -0.01))
    assert line == ("On mnist, cnn relies more on pixel positions than dense: with shuffled pixels cnn lost "
                    "4.0 points, dense gained 2.0 points (their 95% intervals do not overlap).")


def test_ties_are_not_distinguishable_never_the_same():
    tied = ranking(reliance("cnn", 0.9, 0.88, 0.01, 0.03), reliance("dense", 0.9, 0.88, 0.01, 0.03))
    assert tied == ("On mnist, cnn and dense are not distinguishable in their reliance on pixel positions: "
                    "their 95% intervals overlap.")
    tied_one_seed = ranking(reliance("cnn", 0.9, 0.9, None, None, 1), reliance("dense", 0.9, 0.9, None, None, 1))
    assert tied_one_seed == "On mnist, the models cannot be ranked: with one seed there is no interval; use more seeds."
    assert all("the same" not in line for line in (tied, tied_one_seed))


def test_no_order_without_intervals():
    one_seed = ranking(reliance("cnn", 0.9, 0.85, None, None, 1), reliance("dense", 0.9, 0.9, None, None, 1))
    assert one_seed == "On mnist, the models cannot be ranked: with one seed there is no interval; use more seeds."
    zero_width = ranking(reliance("cnn", 0.9, 0.85, 0.05, 0.05), reliance("dense", 0.9, 0.9, -0.1, 0.1))
    assert zero_width == ("On mnist, the models cannot be ranked: cnn's interval has zero width, which says nothing "
                          "of the uncertainty; use more seeds.")


def test_a_model_at_chance_is_left_out_of_the_ranking():
    rows = [reliance("cnn", 0.9, 0.85, 0.03, 0.07), reliance("dense", 0.1, 0.1, -0.1, 0.1)]
    summary = [*summary_for("cnn", (0.9, 0.89, 0.91)), *summary_for("dense", (0.1, 0.08, 0.12), (0.1, 0.08, 0.12))]
    lines = write_verdict(rows, CHANCE, summary=summary)
    assert len(lines) == 2 and "not distinguishable from chance" in lines[1] and lines[1].startswith("dense on mnist")
    with_third = write_verdict([*rows, reliance("cnn_gap", 0.9, 0.9, -0.01, 0.01)], CHANCE,
                               summary=[*summary, *summary_for("cnn_gap", (0.9, 0.89, 0.91))])  # fmt: skip
    assert with_third[-1].startswith("On mnist, cnn relies more on pixel positions than cnn_gap:")
