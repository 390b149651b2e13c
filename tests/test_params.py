"""Every parameter count, analytic, against Keras's own count_params."""

import subprocess
import sys

import pytest

from spatiallab import models
from spatiallab.models import params
from spatiallab.models import specs as arch
from spatiallab.models.build import build_model


def test_lesson_table():
    dense, conv = params.lesson_table()
    assert (dense.analytic, dense.keras) == (100_480, 100_480)
    assert (conv.analytic, conv.keras) == (320, 320)
    assert round(dense.analytic / conv.analytic) == 314


@pytest.mark.parametrize("name, expected", [("dense", 101_770), ("cnn", 34_826), ("cnn_gap", 19_466)])
def test_model_totals_on_mnist(name, expected):
    row = next(row for row in params.model_totals() if row.layer == name)
    assert row.analytic == expected == row.keras


def test_every_registered_model_agrees_with_keras_on_colour_input():
    for row in params.model_totals((32, 32, 3), 7):
        assert row.agrees, row


def test_user_layer_list_multichannel_and_no_bias():
    specs = [params.parse_layer(text) for text in ["conv:16:5:nobias", "pool:2", "conv:8:3:same", "gap", "dense:4"]]
    rows = params.layer_table(specs, (32, 32, 3))
    assert [row.analytic for row in rows] == [5 * 5 * 3 * 16, 0, 3 * 3 * 16 * 8 + 8, 0, 8 * 4 + 4]
    assert all(row.agrees for row in rows)
    assert rows[0].output_shape == (28, 28, 16) and rows[2].output_shape == (14, 14, 8)


@pytest.mark.parametrize("text", ["dense", "conv:32", "dense:x", "conv:3:3:bogus", "lstm:4"])
def test_bad_layer_text(text):
    with pytest.raises(ValueError, match=f"layer {text!r}"):
        params.parse_layer(text)


def test_dense_on_grid_is_refused_with_hint():
    with pytest.raises(ValueError, match="add a flatten layer"):
        arch.walk([arch.Dense(4)], (28, 28, 1))


def test_models_output_logits():
    model = build_model("cnn_gap", (28, 28, 1), 10)
    assert model.layers[-1].activation.__name__ == "linear"


@pytest.mark.parametrize("input_shape, num_classes", [((28, 28, 1), 10), ((32, 32, 3), 7), ((64, 64, 1), 3)])
def test_model_params_from_the_registry_equals_keras(input_shape, num_classes):
    for name in models.models_for_input(input_shape):
        expected = build_model(name, input_shape, num_classes).count_params()
        assert models.model_params(name, input_shape, num_classes) == expected, name
    assert models.model_params("dense", (28, 28, 1)) == 101_770  # the lesson's model, 10 classes by default


def test_the_registry_answers_without_importing_keras():
    code = ("import sys; from spatiallab import models; models.model_params('cnn', (28, 28, 1)); "
            "print(sorted(name for name in ('keras', 'tensorflow') if name in sys.modules))")
    imported = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert imported.strip() == "[]"
    assert not hasattr(models, "build_model")  # the Keras build lives in models.build
