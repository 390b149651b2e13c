"""``spatiallab params`` with impossible layers: a one-line error naming the layer as written, never a traceback."""

import pytest
from click.testing import CliRunner

from spatiallab.cli import main
from spatiallab.models import params
from spatiallab.models import specs as arch


def error_lines(arguments: list[str]) -> list[str]:
    """The ``Error:`` lines of ``spatiallab params ARGUMENTS``, which must fail without a traceback."""
    result = CliRunner().invoke(main, ["params", *arguments])
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (ValueError, ZeroDivisionError))
    return [line for line in result.output.splitlines() if line.startswith("Error:")]


@pytest.mark.parametrize("layers, expected", [
    (["pool:0"], "layer 'pool:0': MaxPool2D: pool_size must be a whole number >= 1; got 0; expected pool:SIZE"),
    (["pool:-2"], "layer 'pool:-2': MaxPool2D: pool_size must be a whole number >= 1; got -2"),
    (["conv:0:3"], "layer 'conv:0:3': Conv2D: filters must be a whole number >= 1; got 0; "
                   "expected conv:FILTERS:KERNEL[:same][:nobias]"),
    (["conv:32:0"], "layer 'conv:32:0': Conv2D: kernel_size must be a whole number >= 1; got 0"),
    (["conv:32:-3"], "layer 'conv:32:-3': Conv2D: kernel_size must be a whole number >= 1; got -3"),
    (["lc:-1:3"], "layer 'lc:-1:3': LocallyConnected2D: filters must be a whole number >= 1; got -1"),
    (["flatten", "dense:0"], "layer 'dense:0': Dense: units must be a whole number >= 1; got 0"),
    (["dropout:1"], "layer 'dropout:1': Dropout: rate must be a number in [0, 1); got 1.0; expected dropout:RATE"),
    (["dropout:-0.5"], "layer 'dropout:-0.5': Dropout: rate must be a number in [0, 1); got -0.5"),
    (["dropout:nan"], "layer 'dropout:nan': Dropout: rate must be a number in [0, 1); got nan"),
    (["conv:32:29"], "layer 'conv:32:29' on a 28x28x1 input: Conv2D: the 29x29 kernel is larger than the 28x28 "
                     "input, which gives an empty output; use a kernel of at most 28, or 'same' padding"),
    (["conv:8:3", "pool:2", "lc:4:14"], "layer 'lc:4:14' on a 13x13x8 input: LocallyConnected2D: the 14x14 kernel is "
                                        "larger than the 13x13 input"),
    (["pool:29"], "layer 'pool:29' on a 28x28x1 input: MaxPool2D: the 29x29 pool is larger than the 28x28 input"),
    (["dense:10"], "layer 'dense:10' on a 28x28x1 input: Dense expects a flat input (n,); got (28, 28, 1) "
                   "(add a flatten layer first)"),
    (["dense:ten"], "layer 'dense:ten': UNITS must be a whole number; got 'ten'; expected dense:UNITS[:nobias]"),
    (["conv:32"], "layer 'conv:32': missing KERNEL; expected conv:FILTERS:KERNEL[:same][:nobias]"),
    (["flatten:3"], "layer 'flatten:3': unknown option(s) ['3']; expected flatten"),
])  # fmt: skip
def test_invalid_layer_lists_get_one_line_naming_the_layer(layers, expected):
    lines = error_lines(layers)
    assert len(lines) == 1 and expected in lines[0], lines


def test_an_input_too_small_for_a_registered_model_names_the_model():
    (line,) = error_lines(["--input", "2,2,1"])
    assert "model 'cnn' does not fit a 2x2x1 input: Conv2D: the 3x3 kernel is larger than the 2x2 input" in line


def test_a_large_kernel_with_same_padding_is_valid():
    # Conv2D: 30*30*1*2 + 2 = 1,802 on a 28x28 output; Dense: 28*28*2*3 + 3 = 4,707
    result = CliRunner().invoke(main, ["params", "conv:2:30:same", "flatten", "dense:3"])
    assert result.exit_code == 0, result.output
    assert "Total: 6,509 parameters" in result.output and "MISMATCH" not in result.output  # 1,802 + 4,707


@pytest.mark.parametrize("make, message", [
    (lambda: arch.Dense(0), "Dense: units must be a whole number >= 1; got 0"),
    (lambda: arch.Dense(2.5), "Dense: units must be a whole number >= 1; got 2.5"),
    (lambda: arch.Conv2D(8, 0), "Conv2D: kernel_size must be a whole number >= 1; got 0"),
    (lambda: arch.Conv2D(8, 3, padding="full"), "Conv2D: padding must be 'valid' or 'same'; got 'full'"),
    (lambda: arch.LocallyConnected2D(8, -1), "LocallyConnected2D: kernel_size must be a whole number >= 1; got -1"),
    (lambda: arch.MaxPool2D(0), "MaxPool2D: pool_size must be a whole number >= 1; got 0"),
    (lambda: arch.Dropout(1.0), "Dropout: rate must be a number in [0, 1); got 1.0"),
])  # fmt: skip
def test_specs_refuse_impossible_sizes(make, message):
    with pytest.raises(ValueError) as raised:
        make()
    assert str(raised.value) == message


def test_parse_layers_checks_each_layer_against_the_one_before():
    specs = params.parse_layers(["conv:8:3", "pool", "flatten", "dropout", "dense:10"], (28, 28, 1))
    assert specs == [arch.Conv2D(8, 3), arch.MaxPool2D(2), arch.Flatten(), arch.Dropout(0.5), arch.Dense(10)]
    assert params.parse_layer("dropout:0") == arch.Dropout(0.0)  # no dropout is a valid rate
    with pytest.raises(ValueError, match=r"^layer 'gap' on a 1352 input: GlobalAveragePooling2D expects"):
        params.parse_layers(["conv:8:3", "pool:2", "flatten", "gap"], (28, 28, 1))


def test_a_model_too_large_to_build_is_refused_before_keras():
    from click.testing import CliRunner

    from spatiallab.cli import main

    result = CliRunner().invoke(main, ["params", "--input", "28,28,1", "flatten", "dense:10000000"])
    assert result.exit_code == 2 and "7,850,000,000 parameters" in result.output and "Traceback" not in result.output
