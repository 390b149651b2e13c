"""t intervals against values computed by hand from the t table."""

import pytest
from scipy import stats as scipy_stats

from spatiallab import stats


def test_t_interval_known_values():
    result = stats.t_interval([1.0, 2.0, 3.0])
    # mean 2, sample std 1, t(0.975, df=2) = 4.302653 -> half width 4.302653 / sqrt(3) = 2.484138
    assert result["mean"] == pytest.approx(2.0)
    assert result["half_width"] == pytest.approx(2.484138, abs=1e-6)
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((2 - 2.484138, 2 + 2.484138), abs=1e-6)


def test_bounds_clip_the_interval_not_the_half_width():
    result = stats.t_interval([0.99, 1.0, 1.0], bounds=stats.ACCURACY_BOUNDS)
    # mean 0.996667, sample std 0.005774 -> half width 4.302653 * 0.005774 / sqrt(3) = 0.014343
    assert result["half_width"] == pytest.approx(0.014343, abs=1e-6)
    assert result["ci_low"] == pytest.approx(0.996667 - 0.014343, abs=1e-6)
    assert result["ci_high"] == 1.0
    assert stats.t_interval([0.99, 1.0, 1.0])["ci_high"] == pytest.approx(1.01101, abs=1e-5)


def test_one_value_has_no_interval():
    assert stats.t_interval([0.5])["ci_low"] is None


def test_paired_difference_removes_shared_seed_effect():
    # each seed moves both conditions by a large shared offset (0.62, 0.91, 0.77); the per-seed differences are
    # 0.05, 0.07, 0.06: mean 0.06, sample std 0.01 -> half width 4.302653 * 0.01 / sqrt(3) = 0.024841
    original, shuffled = [0.62, 0.91, 0.77], [0.57, 0.84, 0.71]
    result = stats.paired_difference(original, shuffled)
    assert result["difference"] == pytest.approx(0.06) and result["n_pairs"] == 3
    assert (result["ci_low"], result["ci_high"]) == pytest.approx((0.06 - 0.024841, 0.06 + 0.024841), abs=1e-6)
    # unpaired, the seeds' offsets swamp the effect: Welch's interval of the two means is some 0.64 wide and
    # includes 0, and pairing seed 0 with seed 2's shuffled value (and so on) gives another interval again
    welch = scipy_stats.ttest_ind(original, shuffled, equal_var=False).confidence_interval(0.95)
    assert welch.low < 0 < welch.high and welch.high - welch.low > 0.5
    mispaired = stats.paired_difference(original, shuffled[::-1])
    assert mispaired["ci_high"] - mispaired["ci_low"] > 0.5


def test_errors():
    with pytest.raises(ValueError, match="at least one"):
        stats.t_interval([])
    with pytest.raises(ValueError, match="low <= high"):
        stats.t_interval([0.5, 0.6], bounds=(1.0, 0.0))
    with pytest.raises(ValueError, match="same shape"):
        stats.paired_difference([1, 2], [1])


def test_other_confidence_levels_use_their_own_t_quantile():
    # t(0.95, df=2) = 2.919986 -> 90% half width 2.919986 / sqrt(3) = 1.685855
    assert stats.t_interval([1.0, 2.0, 3.0], 0.90)["half_width"] == pytest.approx(1.685855, abs=1e-6)
    assert stats.CONFIDENCE == 0.95 and stats.t_interval([1.0, 2.0, 3.0])["half_width"] == pytest.approx(2.484138,
                                                                                                         abs=1e-6)
    with pytest.raises(ValueError, match=r"confidence must be in \(0, 1\); got 1.0"):
        stats.t_interval([1.0, 2.0], 1.0)


def test_confidence_label_and_format_estimate():
    assert stats.confidence_label(0.95) == "95%" and stats.confidence_label(0.975) == "97.5%"
    assert stats.format_estimate(0.9312, 0.9157, 0.9449) == "93.1 [91.6, 94.5]"
    assert stats.format_estimate(0.099, 0.0951, 0.1032, signed=True) == "+9.9 [+9.5, +10.3]"
    assert stats.format_estimate(-0.004, -0.01, 0.002, signed=True) == "-0.4 [-1.0, +0.2]"
    assert stats.format_estimate(0.5, None, None) == "50.0"  # one seed: no interval to show
