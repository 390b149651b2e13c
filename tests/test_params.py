"""Every parameter count, analytic, against Keras's own count_params."""

import pytest

from spatiallab import architecture as arch
from spatiallab import models, params


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
    model = models.build_model("cnn_gap", (28, 28, 1), 10)
    assert model.layers[-1].activation.__name__ == "linear"
