"""The one-dimensional models (MNIST-1D's linear, mlp1d, cnn1d, gru1d; the MalConv-style bytes1d): exact shapes and
parameter counts against Keras, the residual sum, the byte tokens, and the check that refuses a model/data pair."""

import re

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from spatiallab import models
from spatiallab.cli import main
from spatiallab.models import layers, params
from spatiallab.models import specs as arch
from spatiallab.models.build import build_model
from spatiallab.transforms import to_float

MNIST1D = (40, 1)  # one MNIST-1D sequence: 40 positions, one channel
HEAD = (4096, 1)  # a 4,096-byte view of an executable


@pytest.mark.parametrize("name, input_shape, num_classes, expected", [
    ("linear", MNIST1D, 10, 40 * 10 + 10),
    ("mlp1d", MNIST1D, 10, (40 * 100 + 100) + (100 * 100 + 100) + (100 * 10 + 10)),
    ("cnn1d", MNIST1D, 10, (5 * 1 * 25 + 25) + 2 * (3 * 25 * 25 + 25) + (5 * 25 * 10 + 10)),
    ("gru1d", MNIST1D, 10, 2 * 3 * (6 * (1 + 6) + 2 * 6) + (40 * 12 * 10 + 10)),
    ("bytes1d", HEAD, 9, 256 * 8 + 2 * (32 * 8 * 64 + 64) + (64 * 64 + 64) + (64 * 9 + 9)),
])  # fmt: skip
def test_shapes_and_parameters_equal_keras_on_a_real_input(name, input_shape, num_classes, expected):
    """Each layer's spec output shape and count against the Keras layer's, run on data; the totals written out by
    hand (and equal to the MNIST-1D reference models' PyTorch counts: 410, 15,210, 5,210, 5,134)."""
    specs = models.model_specs(name, num_classes)
    walked = arch.walk(specs, input_shape)
    model = build_model(name, input_shape, num_classes)
    assert models.model_params(name, input_shape, num_classes) == expected == model.count_params()
    probe = keras.Model(model.inputs[0], [layer.output for layer in model.layers])
    x = to_float(np.random.default_rng(0).integers(0, 256, (2, *input_shape), dtype=np.uint8))
    outputs = probe(x)
    assert len(outputs) == len(walked)
    for (spec, _, output_shape, count), layer, output in zip(walked, model.layers, outputs, strict=True):
        assert tuple(output.shape) == (2, *output_shape), spec
        assert layer.count_params() == count, spec
    assert tuple(outputs[-1].shape) == (2, num_classes)
    assert np.isfinite(keras.ops.convert_to_numpy(outputs[-1])).all()


def test_cnn1d_lengths_follow_pytorch_padding_1():
    """40 -> 19 -> 10 -> 5: floor((L + 2*1 - k) / 2) + 1 for k = 5, 3, 3 (the reference's linear_in = 5 x 25)."""
    walked = arch.walk(models.model_specs("cnn1d"), MNIST1D)
    convolutions = [output for spec, _, output, _ in walked if isinstance(spec, arch.Conv1D)]
    assert convolutions == [(19, 25), (10, 25), (5, 25)]
    lengths, length = [], 40
    for kernel in (5, 3, 3):
        length = (length + 2 - kernel) // 2 + 1
        lengths.append(length)
    assert lengths == [19, 10, 5]
    assert walked[-2][2] == (125,)


def test_residual_sum():
    """Zero inner weights: the block is the identity; random ones: x + relu(x W + b), as MNIST-1D's MLP."""
    block = layers.Residual([keras.layers.Dense(6, activation="relu")])
    x = np.random.default_rng(1).normal(size=(3, 6)).astype("float32")
    block.build((None, 6))
    kernel, bias = block.inner_layers[0].weights
    kernel.assign(np.zeros((6, 6), "float32"))
    bias.assign(np.zeros(6, "float32"))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(block(x)), x)
    w = np.random.default_rng(2).normal(size=(6, 6)).astype("float32")
    b = np.random.default_rng(3).normal(size=6).astype("float32")
    kernel.assign(w)
    bias.assign(b)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(block(x)), x + np.maximum(x @ w + b, 0), rtol=1e-5, atol=1e-5)


def test_residual_refuses_a_branch_that_changes_the_shape():
    with pytest.raises(ValueError, match=r"Residual: the inner layers map \(100,\) to \(50,\)"):
        arch.walk([arch.Residual((arch.Dense(50),))], (100,))
    with pytest.raises(ValueError, match="at least one layer"):
        arch.Residual(())


def test_gru_count_is_keras_3s_reset_after_and_differs_from_reset_before():
    """The spec's formula is Keras 3's default (two bias vectors); Keras 2's reset_after=False has one."""
    spec = arch.GRU(6)
    assert spec.param_count((40, 3)) == 3 * (6 * (3 + 6) + 2 * 6)
    after = keras.Sequential([keras.Input((40, 3)), keras.layers.GRU(6, return_sequences=True)])
    before = keras.Sequential([keras.Input((40, 3)), keras.layers.GRU(6, return_sequences=True, reset_after=False)])
    assert after.count_params() == spec.param_count((40, 3))
    assert before.count_params() == 3 * (6 * (3 + 6) + 6)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_byte_tokens_restore_every_byte_value(policy):
    """to_float(byte) -> the byte, for all 256 values, also when the model computes in bfloat16."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        tokens = layers.ByteTokens()
        all_bytes = np.arange(256, dtype=np.uint8).reshape(1, 256, 1)
        restored = keras.ops.convert_to_numpy(tokens(to_float(all_bytes)))
    finally:
        keras.config.set_dtype_policy(previous)
    assert restored.dtype == np.int32 and restored.shape == (1, 256)
    np.testing.assert_array_equal(restored[0], np.arange(256))


def test_bytes1d_gives_logits_for_uint8_byte_views_and_reads_the_bytes():
    """(2, 4096, 1) uint8 -> (2, C) logits; other bytes give other logits (a token layer that lost the byte values,
    e.g. casting byte / 255 to int, would give every view the same logits)."""
    keras.utils.set_random_seed(0)
    views = np.random.default_rng(4).integers(0, 128, (2, *HEAD), dtype=np.uint8)
    model = build_model("bytes1d", HEAD, 5)
    logits = keras.ops.convert_to_numpy(model(to_float(views)))
    assert logits.shape == (2, 5) and np.isfinite(logits).all()
    shifted = keras.ops.convert_to_numpy(model(to_float(views + 1)))  # every byte one value up, all still below 255
    assert np.abs(shifted - logits).max() > 1e-4


@pytest.mark.parametrize("name, input_shape", [("mlp1d", MNIST1D), ("bytes1d", (256, 1))])
def test_saved_model_reloads_with_the_same_outputs(tmp_path, name, input_shape):
    """Run folders keep each trained model as .keras: the custom layers must serialise."""
    model = build_model(name, input_shape, 3)
    x = to_float(np.random.default_rng(5).integers(0, 256, (2, *input_shape), dtype=np.uint8))
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(x)), keras.ops.convert_to_numpy(model(x)),
                               rtol=1e-6)  # fmt: skip


@pytest.mark.parametrize("name, input_shape", [("gru1d", MNIST1D), ("bytes1d", (256, 1))])
def test_one_training_step_changes_the_weights(name, input_shape):
    keras.utils.set_random_seed(0)
    model = build_model(name, input_shape, 3)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [keras.ops.convert_to_numpy(weight).copy() for weight in model.trainable_weights]
    x = to_float(np.random.default_rng(6).integers(0, 256, (4, *input_shape), dtype=np.uint8))
    loss = model.train_on_batch(x, np.array([0, 1, 2, 0]))
    assert np.isfinite(loss)
    after = [keras.ops.convert_to_numpy(weight) for weight in model.trainable_weights]
    assert all(not np.array_equal(old, new) for old, new in zip(before, after, strict=True))


@pytest.mark.parametrize("name, shape, dtype, data, message", [
    ("cnn", (40, 1), "float32", "mnist1d",
     "model 'cnn' takes images (H, W, C); dataset 'mnist1d' holds float32 sequences (40, 1)"),
    ("cnn1d", (28, 28, 1), "uint8", "mnist",
     "model 'cnn1d' takes sequences (L, C); dataset 'mnist' holds uint8 images"),
    ("bytes1d", (40, 1), "float32", "mnist1d",
     "model 'bytes1d' takes byte sequences (L, 1) of uint8 byte values; dataset 'mnist1d' holds float32 sequences"),
    ("bytes1d", (4096, 3), "uint8", "rgb", "model 'bytes1d' takes byte sequences"),
    ("bytes1d", (28, 28, 1), "uint8", "binaries", "dataset 'binaries' holds uint8 images (28, 28, 1)"),
    ("bytes1d", (16, 1), "uint8", "elf", "model 'bytes1d' does not fit dataset 'elf' (uint8 sequences (16, 1)): its "
                                         "layers need sequences of at least 32 bytes; use a longer byte view (bytes<n> "
                                         "with n >= 32)"),
    ("cnn1d", (2, 1), "uint8", "elf", "its layers need sequences of at least 3 bytes"),  # 2 + 2 x padding 1 < 5
    ("cnn1d", (2, 1), "float32", "signal", "model 'cnn1d' does not fit dataset 'signal' (float32 sequences (2, 1)): "
                                           "Conv1D: the kernel of 5 positions is longer than the sequence of 4"),
    ("cnn", (40, 1), None, None, "model 'cnn' takes images (H, W, C); the input is sequences (40, 1)"),
    ("nope", (40, 1), None, None, "unknown model 'nope'"),
])  # fmt: skip
def test_check_input_refuses_a_pair_that_does_not_fit(name, shape, dtype, data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        models.check_input(name, shape, dtype, data)


@pytest.mark.parametrize("name, shape, dtype", [
    ("bytes1d", (4096, 1), "uint8"), ("cnn1d", (4096, 1), "uint8"), ("cnn1d", (40, 1), "float32"),
    ("gru1d", (40, 1), "float32"), ("cnn", (28, 28, 1), "uint8"),
    ("linear", (28, 28, 1), "uint8"), ("mlp1d", (40, 1), "float32"), ("dense", (40, 1), "float32"),
])  # fmt: skip
def test_check_input_accepts_a_pair_that_fits(name, shape, dtype):
    models.check_input(name, shape, dtype, "data")


def test_position_blind_models_take_every_kind_and_the_others_declare_theirs():
    for name in models.model_names():
        kinds = models.get_entry(name).input_kinds
        assert (kinds == tuple(models.INPUT_KINDS)) == models.position_blind(name), name
    assert [name for name in models.model_names() if models.position_blind(name)] == ["dense", "linear", "mlp1d"]
    assert models.get_entry("bytes1d").input_kinds == ("bytes",)
    assert models.get_entry("cnn1d").input_kinds == ("sequence",)


def test_a_convolutional_model_must_name_its_input_kinds():
    with pytest.raises(ValueError, match="name its input_kinds"):
        models.register_model("unnamed_kinds", "test")(lambda num_classes: [arch.Conv1D(4, 3)])
    with pytest.raises(ValueError, match="input kinds must be some of"):
        models.register_model("bad_kind", "test", ("audio",))(lambda num_classes: [arch.Conv1D(4, 3)])
    assert "unnamed_kinds" not in models.model_names() and "bad_kind" not in models.model_names()


def test_parameter_table_names_the_1d_layers():
    names = [row.layer for row in params.model_table("cnn1d", MNIST1D)][:2]
    assert names == ["ZeroPadding1D(1)", "Conv1D(25, 5, stride 2)"]
    assert params.describe(models.model_specs("mlp1d")[2]) == "Residual(Dense(100))"
    assert params.describe(models.model_specs("gru1d")[0]) == "GRU(6, bidirectional)"


def test_model_totals_list_the_models_of_the_inputs_kind():
    on_sequences = {row.layer: row for row in params.model_totals(MNIST1D)}
    assert list(on_sequences) == ["dense", "linear", "mlp1d", "cnn1d", "gru1d", "bytes1d"]
    assert all(row.agrees for row in on_sequences.values())
    assert "cnn1d" not in {row.layer for row in params.model_totals((28, 28, 1))}


def test_params_command_counts_one_model():
    result = CliRunner().invoke(main, ["params", "--model", "mlp1d", "--input", "40,1"])
    assert result.exit_code == 0, result.output
    assert "Residual(Dense(100))" in result.output and "Total: 15,210 parameters" in result.output
    assert "MISMATCH" not in result.output
    refused = CliRunner().invoke(main, ["params", "--model", "cnn", "--input", "40,1"])
    assert refused.exit_code == 2
    assert "--model" in refused.output and "model 'cnn' takes images (H, W, C)" in refused.output
