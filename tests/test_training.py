"""Seeded training: the same seed on CPU gives the same per-epoch metrics, another seed does not; the reported test
accuracy is the returned model's, counted from its predictions."""

import numpy as np
import pytest

from spatiallab import training
from spatiallab.transforms import to_float


@pytest.mark.parametrize("model_name", ["dense", "cnn"])
def test_same_seed_same_history(tiny_mnist, model_name):
    x_train, x_test = to_float(tiny_mnist.x_train), to_float(tiny_mnist.x_test)

    def fit(seed):
        return training.fit_and_evaluate(
            model_name, x_train, tiny_mnist.y_train, x_test, tiny_mnist.y_test, 10, seed=seed, epochs=2
        )

    first, second, other = fit(0), fit(0), fit(1)
    assert first.history == second.history
    assert first.test_accuracy == second.test_accuracy
    assert first.history["loss"] != other.history["loss"]
    assert len(first.history["val_accuracy"]) == 2
    # the reported test accuracy is the last epoch's test evaluation, and the fraction of test images the returned
    # model labels correctly, counted here from its predictions
    assert first.test_accuracy == pytest.approx(first.history["val_accuracy"][-1], abs=1e-6)
    predicted = np.argmax(first.model.predict(x_test, verbose=0), axis=1)
    assert first.test_accuracy == pytest.approx(np.mean(predicted == tiny_mnist.y_test), abs=1e-6)
