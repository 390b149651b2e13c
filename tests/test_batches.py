"""The batches that reach Keras: every example once per epoch, inputs beside their own labels, a new seeded order each
epoch for training, the given order for evaluation, and (on TensorFlow) no tf.data autotuning."""

import keras
import numpy as np
import pytest

from spatiallab import batches

tensorflow_only = pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the tf.data pipeline")


def _arrays(count=10):
    # each input holds its own index, so a batch says which examples it took
    x = np.arange(count, dtype="float32").reshape(count, 1, 1, 1) * np.ones((1, 2, 2, 1), "float32")
    return x, np.arange(count, dtype="int64") % 3


def _epochs(dataset, count):
    """``count`` passes over ``dataset`` (what ``fit`` does epoch by epoch): per pass, its batches' example indices."""
    passes = []
    for _ in range(count):
        passes.append([])
        for x, y in dataset:
            indices = x.numpy()[:, 0, 0, 0].astype(int)
            np.testing.assert_array_equal(y.numpy(), indices % 3)  # each input with its own label
            passes[-1].append(list(indices))
    return passes


@tensorflow_only
def test_training_batches_cover_every_example_once_per_epoch_in_a_new_seeded_order():
    x, y = _arrays(10)
    given = batches.fit_arguments(x, y, batch_size=4, seed=7)
    assert set(given) == {"x", "shuffle"} and given["shuffle"] is False  # the dataset shuffles, not Keras
    first, second = _epochs(given["x"], 2)
    for epoch in (first, second):
        assert [len(batch) for batch in epoch] == [4, 4, 2]  # the remainder in a last, smaller batch
        assert sorted(sum(epoch, [])) == list(range(10))
    assert sum(first, []) != sum(second, []) and sum(first, []) != list(range(10))
    # the same seed: the same orders, epoch by epoch; another seed: others
    assert _epochs(batches.fit_arguments(x, y, 4, seed=7)["x"], 2) == [first, second]
    assert _epochs(batches.fit_arguments(x, y, 4, seed=8)["x"], 1)[0] != first


@tensorflow_only
def test_evaluation_batches_keep_the_order_and_autotuning_is_off():
    x, y = _arrays(7)
    dataset = batches.evaluate_arguments(x, y, batch_size=3)["x"]
    assert _epochs(dataset, 2) == [[[0, 1, 2], [3, 4, 5], [6]]] * 2
    validation = batches.validation_arguments(x, y, batch_size=3)
    assert set(validation) == {"validation_data"}
    assert _epochs(validation["validation_data"], 1) == [[[0, 1, 2], [3, 4, 5], [6]]]
    for made in (dataset, batches.fit_arguments(x, y, 3, seed=0)["x"]):
        assert made.options().autotune.enabled is False


def test_other_backends_get_the_arrays_themselves(monkeypatch):
    x, y = _arrays(5)
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    fit = batches.fit_arguments(x, y, 2, seed=0)
    assert fit["x"] is x and fit["y"] is y and fit["batch_size"] == 2 and fit["shuffle"] is True
    assert batches.evaluate_arguments(x, y, 2) == {"x": x, "y": y, "batch_size": 2}
    validation = batches.validation_arguments(x, y, 2)
    assert validation["validation_data"][0] is x and validation["validation_batch_size"] == 2


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_bad_arguments_are_named(monkeypatch, backend):
    x, y = _arrays(5)
    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    with pytest.raises(ValueError, match="as many labels as inputs; got 5 inputs and 4 labels"):
        batches.fit_arguments(x, y[:4], 2, seed=0)
    with pytest.raises(ValueError, match="batch_size must be >= 1; got 0"):
        batches.evaluate_arguments(x, y, 0)
    with pytest.raises(ValueError, match="expected at least one example; got none"):
        batches.validation_arguments(x[:0], y[:0], 2)
