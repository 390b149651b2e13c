"""Summary statistics over seeds: means with Student-t confidence intervals, and seed-paired differences."""

from __future__ import annotations

import math

import numpy as np

CONFIDENCE = 0.95  # the default coverage of every interval; a run records the one it used
ACCURACY_BOUNDS = (0.0, 1.0)  # the range an accuracy can take, for ``t_interval(..., bounds=...)``
DIFFERENCE_BOUNDS = (-1.0, 1.0)  # the range of a difference of two accuracies
# A spread below this is rounding, not variation: accuracies come from float32 metrics (Keras), so two seeds with the
# same count of correct test examples can differ by ~1e-8, which a t quantile of 2 seeds (12.7 at 95%, over 100 at a
# Bonferroni level) would turn into a small non-zero interval instead of the zero-width one the values call for.
# 1e-6 is far below one example's share of any test split up to 100,000 examples.
RESOLUTION = 1e-6


def t_interval(values, confidence: float = 0.95, bounds: tuple[float, float] | None = None) -> dict:
    """Mean and two-sided Student-t confidence interval of ``values`` (e.g. test accuracies over seeds).

    Args:
        values: 1-D sequence of floats (at least one).
        confidence: coverage of the interval, e.g. 0.95.
        bounds: the values' possible range, e.g. (0, 1) for accuracies. The symmetric t interval can pass it
            (three seeds near 100% give an upper end above 100%); ``ci_low``/``ci_high`` are then clipped to it,
            while ``half_width`` stays the unclipped t half-width.

    Returns:
        {"n", "mean", "std" (sample, ddof=1), "ci_low", "ci_high", "half_width"}; with one value the interval
        fields are None (no interval can be estimated from one seed). When every value is equal (to within
        ``RESOLUTION``) the interval has zero width: the sample shows no spread, which understates the uncertainty
        of a few seeds.

    Raises:
        ValueError: empty input, confidence outside (0, 1), or bounds with low > high.
    """
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("t_interval needs at least one value; got none")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    low, high = bounds if bounds is not None else (-math.inf, math.inf)
    if low > high:
        raise ValueError(f"bounds must be (low, high) with low <= high; got {bounds}")
    mean = float(values.mean())
    if values.size == 1:
        return {"n": 1, "mean": mean, "std": None, "ci_low": None, "ci_high": None, "half_width": None}
    std = float(values.std(ddof=1))
    if std < RESOLUTION:
        std = 0.0
    from scipy import stats as scipy_stats  # here, not at the top: the command line starts without SciPy

    quantile = float(scipy_stats.t.ppf(0.5 + confidence / 2.0, df=values.size - 1))
    half_width = quantile * std / math.sqrt(values.size)
    return {
        "n": int(values.size),
        "mean": mean,
        "std": std,
        "ci_low": max(mean - half_width, low),
        "ci_high": min(mean + half_width, high),
        "half_width": half_width,
    }


def paired_difference(first, second, confidence: float = 0.95, bounds: tuple[float, float] | None = None) -> dict:
    """Mean of ``first[i] - second[i]`` (pairs share a seed) with its t interval.

    Pairing by seed removes the seed-to-seed variation both conditions share, so the interval is the one of the
    per-seed differences (a paired t interval). ``bounds`` clips it as in ``t_interval`` (``DIFFERENCE_BOUNDS``
    for a difference of two accuracies).

    Returns:
        {"difference", "ci_low", "ci_high", "n_pairs"}.

    Raises:
        ValueError: the two sequences differ in length.
    """
    first = np.asarray(first, dtype=np.float64)
    second = np.asarray(second, dtype=np.float64)
    if first.shape != second.shape:
        raise ValueError(f"paired values must have the same shape; got {first.shape} and {second.shape}")
    interval = t_interval(first - second, confidence, bounds)
    return {
        "difference": interval["mean"],
        "ci_low": interval["ci_low"],
        "ci_high": interval["ci_high"],
        "n_pairs": interval["n"],
    }


def confidence_label(confidence: float) -> str:
    """``0.95`` -> ``"95%"`` (``0.975`` -> ``"97.5%"``, a Bonferroni level ``1 - 0.05 / 9`` -> ``"99.44%"``): how a
    run's confidence level is printed, to at most four significant digits."""
    return f"{100 * confidence:.4g}%"


def format_interval(low: float, high: float, signed: bool = False, decimals: int = 1) -> str:
    """An interval of fractions in percent (or points, ``signed``): ``[91.6, 94.5]``, ``[+9.5, +10.3]``. The one
    formatter of intervals (``format_estimate`` and the report's tables use it)."""
    spec = f"{'+' if signed else ''}.{decimals}f"
    return f"[{100 * low:{spec}}, {100 * high:{spec}}]"


def format_estimate(value: float, low: float | None, high: float | None, signed: bool = False,
                    decimals: int = 1) -> str:  # fmt: skip
    """A fraction and its interval in percent or points: ``93.1 [91.6, 94.5]``, or ``+9.9 [+9.5, +10.3]`` with
    ``signed`` (differences); just the value when there is no interval."""
    text = f"{100 * value:{'+' if signed else ''}.{decimals}f}"
    if low is None or high is None:
        return text
    return f"{text} {format_interval(low, high, signed, decimals)}"
