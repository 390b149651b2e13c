"""LocallyConnected2D: against a direct loop, against Conv2D when its kernels are tied, counts, saving."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from spatiallab import models
from spatiallab.models import params
from spatiallab.models import specs as architecture
from spatiallab.models.build import build_model
from spatiallab.models.layers import LocallyConnected2D


def direct_loop(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, size: int) -> np.ndarray:
    """out[n, i, j, f] = sum_{a,b,c} x[n, i+a, j+b, c] * kernel[i*out_w + j, (a*size + b)*C + c, f] + bias[i, j, f]."""
    count, height, width, channels = x.shape
    out_h, out_w, filters = height - size + 1, width - size + 1, kernel.shape[-1]
    out = np.zeros((count, out_h, out_w, filters))
    for n in range(count):
        for i in range(out_h):
            for j in range(out_w):
                for f in range(filters):
                    total = bias[i, j, f]
                    for a in range(size):
                        for b in range(size):
                            for c in range(channels):
                                total += x[n, i + a, j + b, c] * kernel[i * out_w + j, (a * size + b) * channels + c, f]
                    out[n, i, j, f] = total
    return out


@pytest.mark.parametrize("size, shape, filters", [(3, (2, 5, 6, 2), 3), (2, (1, 4, 3, 1), 2), (1, (2, 3, 3, 3), 4)])
def test_matches_a_direct_loop(size, shape, filters):
    rng = np.random.default_rng(size)
    x = rng.normal(size=shape).astype(np.float32)
    layer = LocallyConnected2D(filters, size)
    layer.build((None, *shape[1:]))
    layer.bias.assign(rng.normal(size=layer.bias.shape).astype(np.float32))
    output = layer(x).numpy()
    expected = direct_loop(x, layer.kernel.numpy(), layer.bias.numpy(), size)
    assert output.shape == expected.shape
    np.testing.assert_allclose(output, expected, atol=1e-5)


def test_tied_kernels_equal_a_keras_conv2d():
    """With the same kernel at every position, the layer is a convolution: Keras's Conv2D must agree."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 7, 6, 2)).astype(np.float32)
    conv = keras.layers.Conv2D(4, 3, activation="relu")
    conv_output = conv(x).numpy()
    shared, shared_bias = (weight.numpy() for weight in conv.weights)  # (3, 3, 2, 4), (4,)
    local = LocallyConnected2D(4, 3, activation="relu")
    local.build(x.shape)
    local.kernel.assign(np.tile(shared.reshape(1, 18, 4), (local.kernel.shape[0], 1, 1)))
    local.bias.assign(np.tile(shared_bias, (*local.bias.shape[:2], 1)))
    np.testing.assert_allclose(local(x).numpy(), conv_output, atol=1e-5)


def test_no_weight_sharing_each_position_has_its_own_kernel():
    x = np.ones((1, 5, 5, 1), np.float32)
    layer = LocallyConnected2D(1, 3, use_bias=False)
    layer.build(x.shape)
    kernel = np.zeros(layer.kernel.shape, np.float32)
    kernel[4] = 1.0  # position (1, 1) of the 3x3 output grid only
    layer.kernel.assign(kernel)
    output = layer(x).numpy()[0, :, :, 0]
    expected = np.zeros((3, 3))
    expected[1, 1] = 9.0
    np.testing.assert_array_equal(output, expected)


@pytest.mark.parametrize("input_shape", [(28, 28, 1), (32, 32, 3), (9, 11, 2)])
def test_param_count_formula_matches_keras(input_shape):
    spec = architecture.LocallyConnected2D(8, 3, use_bias=True)
    layer = LocallyConnected2D(8, 3)
    layer.build((None, *input_shape))
    out_h, out_w = input_shape[0] - 2, input_shape[1] - 2
    assert layer.count_params() == spec.param_count(input_shape) == out_h * out_w * (9 * input_shape[2] * 8 + 8)
    assert spec.output_shape(input_shape) == (out_h, out_w, 8)
    no_bias = architecture.LocallyConnected2D(8, 3, use_bias=False)
    unbiased = LocallyConnected2D(8, 3, use_bias=False)
    unbiased.build((None, *input_shape))
    assert unbiased.count_params() == no_bias.param_count(input_shape) == out_h * out_w * 9 * input_shape[2] * 8


def test_locally_connected_model_counts_and_save_load(tmp_path):
    model = build_model("locally_connected", (28, 28, 1), 10)
    analytic = architecture.total_params(models.model_specs("locally_connected"), (28, 28, 1))
    # 26*26*(9*32 + 32) + 11*11*(288*64 + 64) + (5*5*64*10 + 10): far more than the cnn's 34,826
    assert model.count_params() == analytic == 216_320 + 2_238_016 + 16_010
    x = np.random.default_rng(1).random((4, 28, 28, 1)).astype(np.float32)
    model.save(tmp_path / "lc.keras")
    restored = keras.saving.load_model(tmp_path / "lc.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
    assert isinstance(restored.layers[0], LocallyConnected2D) and restored.layers[0].get_config()["filters"] == 32


def test_initialisation_matches_the_conv2d_it_replaces():
    keras.utils.set_random_seed(0)
    layer = LocallyConnected2D(64, 3)
    layer.build((None, 13, 13, 32))
    limit = np.sqrt(6.0 / (9 * 32 + 9 * 64))  # Glorot uniform with a 3x3x32 -> 64 convolution's fans
    kernel = layer.kernel.numpy()
    assert np.float32(0.99 * limit) < np.abs(kernel).max() <= np.float32(limit)  # float32 bounds
    assert abs(kernel.std() - limit / np.sqrt(3)) < 0.01 * limit


def test_bad_arguments():
    with pytest.raises(ValueError, match="larger than the input"):
        LocallyConnected2D(2, 5)(np.zeros((1, 4, 4, 1), np.float32))
    with pytest.raises(ValueError, match="filters and kernel_size must be >= 1"):
        LocallyConnected2D(0, 3)


def test_params_syntax_lc_builds_the_layer_and_agrees_with_keras():
    assert params.parse_layer("lc:8:3:nobias") == architecture.LocallyConnected2D(8, 3, use_bias=False)
    row = params.layer_table([params.parse_layer("lc:4:2")], (5, 6, 3))[0]
    assert row.analytic == row.keras == 4 * 5 * (2 * 2 * 3 * 4 + 4) and row.output_shape == (4, 5, 4)
