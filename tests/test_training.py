"""Seeded training: the same seed on CPU gives the same per-epoch metrics, another seed does not; the reported test
accuracy is the returned model's, counted from its predictions."""

import numpy as np
import pytest

from spatiallab import training
from spatiallab.transforms import to_float


@pytest.mark.parametrize("model_name", ["dense", "cnn"])
def test_same_seed_same_history_also_when_the_compiled_model_is_reused(tiny_mnist, model_name, monkeypatch):
    x_train, x_test = to_float(tiny_mnist.x_train), to_float(tiny_mnist.x_test)
    monkeypatch.setattr(training, "_compiled", {})  # the first fit compiles a new model

    def fit(seed):
        return training.fit_and_evaluate(
            model_name, x_train, tiny_mnist.y_train, x_test, tiny_mnist.y_test, 10, seed=seed, epochs=2
        )

    first = fit(0)
    # the reported test accuracy is the last epoch's test evaluation, and the fraction of test images the returned
    # model labels correctly, counted here from its predictions
    assert first.test_accuracy == pytest.approx(first.history["val_accuracy"][-1], abs=1e-6)
    predicted = np.argmax(first.model.predict(x_test, verbose=0), axis=1)
    assert first.test_accuracy == pytest.approx(np.mean(predicted == tiny_mnist.y_test), abs=1e-6)
    first_history = first.history
    second, other = fit(0), fit(1)
    # the same compiled model, given the seed's weights, dropout seeds and a fresh optimizer: a new model's numbers
    assert second.model is first.model and other.model is first.model
    assert second.history == first_history and second.test_accuracy == first.test_accuracy
    assert second.history["loss"] != other.history["loss"]
    assert len(first_history["val_accuracy"]) == 2
