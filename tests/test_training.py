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


def test_auto_precision_follows_the_cpu_flags_and_a_onednn_cap(monkeypatch):
    import keras

    if keras.backend.backend() != "tensorflow" or not training._onednn_enabled():
        pytest.skip("auto chooses bfloat16 only on TensorFlow with oneDNN")
    for name in ("ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(training, "cpu_flags", lambda: {"avx2", "avx512f"})
    assert training.choose_precision("auto")["used"] == "float32"
    monkeypatch.setattr(training, "cpu_flags", lambda: {"avx512f", "avx512_bf16", "amx_bf16"})
    choice = training.choose_precision("auto")
    assert choice["used"] == "bfloat16" and "amx_bf16 and avx512_bf16" in choice["reason"]
    # capped below the bfloat16 instructions (here oneDNN's AVX2 has no bfloat16 convolution at all): float32
    for name, cap in (("ONEDNN_MAX_CPU_ISA", "avx2"), ("DNNL_MAX_CPU_ISA", "AVX512_CORE")):
        monkeypatch.setenv(name, cap)
        choice = training.choose_precision("auto")
        assert choice["used"] == "float32" and f"capped at {cap.upper()} ({name})" in choice["reason"]
        with pytest.raises(training.PrecisionUnavailable, match=f"oneDNN is capped at {cap.upper()} \\({name}\\)"):
            training.choose_precision("bfloat16")  # oneDNN has no bfloat16 kernels there: refused, not aborted
        assert training.choose_precision("float32")["used"] == "float32"
        monkeypatch.delenv(name)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "avx512_core_amx")  # a cap that keeps them
    assert training.choose_precision("auto")["used"] == "bfloat16"
    assert training.choose_precision("bfloat16") == {"requested": "bfloat16", "used": "bfloat16", "reason": "asked for"}
