"""Train/test splits with a fixed seed: stratified by class, or grouped so related samples stay on one side; and
the stratified subset that --train-limit / --test-limit take.

Both split functions return ``(train_idx, test_idx)``: int64 index arrays into the labels, disjoint, together covering
every sample once, each in a seeded random order (so the first k of either side are a random sample of it).
"""

from __future__ import annotations

import numpy as np


def _check_fraction(test_fraction: float) -> float:
    test_fraction = float(test_fraction)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be strictly between 0 and 1; got {test_fraction}")
    return test_fraction


def _as_labels(labels) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) < 2:
        raise ValueError(f"labels must be a 1-D array of at least 2 samples; got shape {labels.shape}")
    return labels


def stratified_split(labels, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split each class separately so train and test keep the class proportions.

    A class of ``n`` samples sends ``round(test_fraction * n)`` of them, drawn at random, to the test side, clipped so
    that a class of 2 or more samples has at least one sample on each side (a class of one goes to train).

    Args:
        labels: (N,) class labels of any dtype that ``numpy.unique`` can sort.
        test_fraction: share of each class in the test set, strictly between 0 and 1.
        seed: seed of ``numpy.random.default_rng``; the same seed and labels give the same split.

    Returns:
        ``(train_idx, test_idx)``: int64 arrays, disjoint, together ``0..N-1``, each in a seeded random order.

    Raises:
        ValueError: labels not 1-D with at least 2 samples, or test_fraction outside (0, 1).
    """
    labels = _as_labels(labels)
    test_fraction = _check_fraction(test_fraction)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_test = int(round(test_fraction * len(members)))
        n_test = min(max(n_test, 1 if len(members) >= 2 else 0), len(members) - 1)
        test.append(members[:n_test])
        train.append(members[n_test:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def grouped_split(labels, groups, test_fraction: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split whole groups, so that no group has members on both sides; stratify the classes approximately.

    Use it when several samples are versions of one thing (one program built for several architectures, one image
    cropped several times): a random split would put near-copies in train and test and flatter the test score.

    Rule (greedy, in the spirit of scikit-learn's ``StratifiedGroupKFold``): the groups are visited in a seeded
    random order; each goes to the test side when that brings the test set's per-class counts closer (in L1 distance)
    to ``test_fraction`` times the per-class totals, and to train otherwise. The test share therefore lands near
    ``test_fraction``, exactly only when group sizes allow it.

    Args:
        labels: (N,) class labels.
        groups: (N,) group keys (strings or integers); samples with equal keys stay together.
        test_fraction: target share of each class in the test set, strictly between 0 and 1.
        seed: seed of ``numpy.random.default_rng``.

    Returns:
        ``(train_idx, test_idx)``: int64 arrays, disjoint, together ``0..N-1``, each in a seeded random order;
        every group lies entirely in one of them.

    Raises:
        ValueError: shapes disagree, fewer than 2 groups, or test_fraction outside (0, 1).
    """
    labels = _as_labels(labels)
    test_fraction = _check_fraction(test_fraction)
    groups = np.asarray(groups)
    if groups.shape != labels.shape:
        raise ValueError(f"groups must have the shape of labels {labels.shape}; got {groups.shape}")
    class_values, class_index = np.unique(labels, return_inverse=True)
    group_values, group_index = np.unique(groups, return_inverse=True)
    if len(group_values) < 2:
        raise ValueError(f"a grouped split needs at least 2 groups; found {len(group_values)}")
    # counts[g, c]: members of group g in class c.
    counts = np.zeros((len(group_values), len(class_values)), dtype=np.int64)
    np.add.at(counts, (group_index, class_index), 1)
    target = test_fraction * counts.sum(axis=0)
    in_test = np.zeros(len(group_values), dtype=bool)
    test_counts = np.zeros(len(class_values), dtype=np.float64)
    rng = np.random.default_rng(seed)
    for group in rng.permutation(len(group_values)):
        with_group = test_counts + counts[group]
        if np.abs(with_group - target).sum() < np.abs(test_counts - target).sum():
            in_test[group] = True
            test_counts = with_group
    if in_test.all() or not in_test.any():  # only possible with very few groups
        in_test[:] = False
        in_test[rng.integers(len(group_values))] = True
    test_mask = in_test[group_index]
    return rng.permutation(np.flatnonzero(~test_mask)), rng.permutation(np.flatnonzero(test_mask))


LIMIT_SEED = 0  # the seed of every --train-limit / --test-limit draw, recorded with the dataset (Dataset.subset)


def stratified_limit(labels, limit: int, seed: int = LIMIT_SEED) -> np.ndarray:
    """Indices of ``limit`` samples drawn per class in proportion to its share, so that a limit keeps the class
    proportions (and with them chance) of the whole split: 10 equal classes and a limit of 100 give 10 of each.

    A class of ``n`` of ``N`` samples gets ``floor(limit * n / N)`` places; the places left over go to the classes
    with the largest remainders (ties: the lower class first), Hamilton's largest-remainder rule (computed in
    integers, so equal shares get equal places exactly). Within a class
    the samples are drawn at random with ``numpy.random.default_rng(seed)``.

    Args:
        labels: (N,) integer class labels.
        limit: how many samples to keep, >= 1; a limit of N or more keeps every sample.
        seed: seed of the draw within each class; the same seed and labels give the same indices.

    Returns:
        int64 (min(limit, N),) indices into ``labels``, ascending (the source's order is kept).

    Raises:
        ValueError: labels not 1-D, or a limit below 1.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D array; got shape {labels.shape}")
    if int(limit) != limit or limit < 1:
        raise ValueError(f"limit must be a whole number >= 1; got {limit}")
    if limit >= len(labels):
        return np.arange(len(labels), dtype=np.int64)
    classes, counts = np.unique(labels, return_counts=True)
    places, remainders = np.divmod(limit * counts, len(labels))  # exact integers: limit * n / N = places + r / N
    by_remainder = np.lexsort((np.arange(len(classes)), -remainders))  # largest remainder first, then lower class
    places[by_remainder[: limit - places.sum()]] += 1
    rng = np.random.default_rng(seed)
    chosen = [rng.choice(np.flatnonzero(labels == label), size=count, replace=False)
              for label, count in zip(classes, places)]  # fmt: skip
    return np.sort(np.concatenate(chosen)).astype(np.int64)
