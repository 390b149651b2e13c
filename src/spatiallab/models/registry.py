"""The model registry: each architecture is a list of layer specs, built into a Keras 3 model that outputs logits,
with the kinds of input it takes (``INPUT_KINDS``; ``check_input`` refuses a model/data pair that does not fit).

Registered models (``model_names()``), on images (H, W, C):
    dense     Flatten -> Dense(128, relu) -> Dense(classes): the lesson's model (101,770 parameters on MNIST).
    cnn       Conv2D(32, 3x3) -> MaxPool -> Conv2D(64, 3x3) -> MaxPool -> Flatten -> Dropout(0.5) -> Dense(classes):
              the Keras examples' MNIST convnet (34,826 parameters on MNIST).
    cnn_gap   the same convolutions, then global average pooling instead of Flatten: its head cannot memorise where
              a feature was.
    locally_connected  the cnn with both Conv2D replaced by LocallyConnected2D (same 3x3 receptive fields, no weight
              sharing): separates locality from weight sharing (2,470,346 parameters on MNIST).

On sequences (L, C), the reference models of MNIST-1D (Greydanus & Kobak, "Scaling down deep learning with
MNIST-1D", ICML 2024; github.com/greydanus/mnist1d, notebooks/models.py), counted on its (40, 1) sequences:
    linear    logistic regression: Flatten -> Dense(classes) (410 parameters).
    mlp1d     Flatten -> Dense(100, relu) -> h + relu(Dense(100)(h)) -> Dense(classes) (15,210).
    cnn1d     three Conv1D(25, relu) with PyTorch's padding 1 (kernels 5, 3, 3, stride 2: 40 -> 19 -> 10 -> 5) ->
              Flatten -> Dense(classes) (5,210).
    gru1d     bidirectional GRU(6) returning every step -> Flatten -> Dense(classes) (5,134).
On byte sequences (L, 1) of uint8 byte values:
    bytes1d   a small MalConv (Raff et al. 2018): byte embedding -> gated Conv1D with a stride -> global max pooling
              -> Dense(64, relu) -> Dense(classes) (39,754 parameters for 10 classes, at any length L >= 32).

A model that flattens its input first (dense, linear, mlp1d) is position-blind: it takes every kind of input, and a
fixed permutation of the positions only permutes the rows of its first weight matrix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from spatiallab.models import specs as arch

# The kinds of input a model can take: one sample's shape and values, as the data hold them (the model is fed
# ``transforms.to_float`` of them). A uint8 (L, 1) sequence is both a "sequence" and "bytes".
INPUT_KINDS = {
    "image": "images (H, W, C)",
    "sequence": "sequences (L, C)",
    "bytes": "byte sequences (L, 1) of uint8 byte values",
}


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    description: str
    specs: Callable[[int], list]  # num_classes -> layer specs
    input_kinds: tuple[str, ...]  # keys of INPUT_KINDS

    @property
    def takes(self) -> str:
        """The input kinds in words: "images (H, W, C)", "images (H, W, C) or sequences (L, C) or ..."."""
        return " or ".join(INPUT_KINDS[kind] for kind in self.input_kinds)


_REGISTRY: dict[str, ModelEntry] = {}

def register_model(name: str, description: str, input_kinds: tuple[str, ...] | None = None):
    """Decorator registering ``specs(num_classes) -> list of layer specs`` under ``name``.

    Args:
        input_kinds: the ``INPUT_KINDS`` the model takes; None (only for a model whose first layer flattens, which
            is position-blind) means every kind.

    Raises:
        ValueError: an unknown kind, or no kinds named for a model that does not flatten first.
    """

    def decorate(specs):
        if input_kinds is None and not isinstance(specs(2)[0], arch.Flatten):
            raise ValueError(f"model {name!r}: name its input_kinds (of {list(INPUT_KINDS)}); only a model that "
                             "flattens its input first takes every kind")  # fmt: skip
        kinds = tuple(INPUT_KINDS) if input_kinds is None else tuple(input_kinds)
        unknown = [kind for kind in kinds if kind not in INPUT_KINDS]
        if unknown or not kinds:
            raise ValueError(f"model {name!r}: input kinds must be some of {list(INPUT_KINDS)}; got {list(kinds)}")
        _REGISTRY[name] = ModelEntry(name, description, specs, kinds)
        return specs

    return decorate


def model_names() -> list[str]:
    return list(_REGISTRY)


def get_entry(name: str) -> ModelEntry:
    if name not in _REGISTRY:
        raise ValueError(f"unknown model {name!r}; expected one of {model_names()}")
    return _REGISTRY[name]


def model_specs(name: str, num_classes: int = 10) -> list:
    """The layer specs of a registered model, ending in ``num_classes`` logits."""
    return get_entry(name).specs(num_classes)


def model_params(name: str, input_shape: tuple[int, ...], num_classes: int = 10) -> int:
    """Exact trainable + non-trainable parameter count of a registered model on a channels-last ``input_shape``
    ((H, W, C) or (L, C)), from its specs' formulas (equal to Keras's ``count_params``; checked in the tests)."""
    return arch.total_params(model_specs(name, num_classes), input_shape)


def position_blind(name: str) -> bool:
    """Whether a registered model flattens its input before any layer (Dense): then a fixed permutation of the
    positions only permutes its first layer's weights, and its accuracy cannot depend on the permutation."""
    return isinstance(model_specs(name)[0], arch.Flatten)


def data_kinds(sample_shape: tuple[int, ...], dtype=None) -> set[str]:
    """The ``INPUT_KINDS`` that data of one sample's ``sample_shape`` and ``dtype`` are: (H, W, C) -> image;
    (L, C) -> sequence, and also bytes when C is 1 and the values are uint8 (or ``dtype`` is None: not known)."""
    if len(sample_shape) == 3:
        return {"image"}
    if len(sample_shape) == 2:
        is_bytes = sample_shape[1] == 1 and (dtype is None or np.dtype(dtype) == np.uint8)
        return {"sequence", "bytes"} if is_bytes else {"sequence"}
    return set()


def models_for_input(sample_shape: tuple[int, ...], dtype=None) -> list[str]:
    """The registered models whose input kinds include what data of this shape and dtype are (see ``data_kinds``);
    a model may still refuse a shape that its layers do not fit (``check_input``)."""
    kinds = data_kinds(sample_shape, dtype)
    return [name for name, entry in _REGISTRY.items() if kinds & set(entry.input_kinds)]


def _described_data(sample_shape: tuple[int, ...], dtype) -> str:
    """ "float32 sequences (40, 1)", "uint8 images (28, 28, 1)", "arrays of shape (5,)"."""
    noun = {3: "images", 2: "sequences"}.get(len(sample_shape), "arrays of shape")
    values = f"{np.dtype(dtype)} " if dtype is not None else ""
    return f"{values}{noun} {tuple(sample_shape)}"


LONGEST_SEARCHED = 1 << 30  # bytes: the longest sequence ``check_input`` tries when it finds the shortest that fits


def check_input(name: str, sample_shape: tuple[int, ...], dtype=None, data_name: str | None = None,
                num_classes: int = 10) -> None:  # fmt: skip
    """Refuse a model/data pair that does not fit, naming both; do nothing when it fits.

    Args:
        name: a registered model.
        sample_shape: one sample's channels-last shape, (H, W, C) or (L, C).
        dtype: the data's dtype (uint8, float32), None when not known (then uint8 (L, 1) bytes are assumed possible).
        data_name: the dataset's name, for the message (None: "the input").
        num_classes: the logits the model would end in.

    Raises:
        ValueError: e.g. "model 'cnn' takes images (H, W, C); dataset 'mnist1d' holds float32 sequences (40, 1)", or
        the model's kinds fit but its layers do not (a kernel longer than the sequence), naming the layer; for byte
        sequences too short for the layers, the shortest length they fit and a longer byte view (bytes<n>) instead.
    """
    entry = get_entry(name)
    subject = f"dataset {data_name!r} holds" if data_name else "the input is"
    data = _described_data(sample_shape, dtype)
    if not data_kinds(sample_shape, dtype) & set(entry.input_kinds):
        raise ValueError(f"model {name!r} takes {entry.takes}; {subject} {data}")
    specs = model_specs(name, num_classes)
    if _fits(specs, sample_shape):
        return
    where = f"dataset {data_name!r}" if data_name else "the input"
    shortest = _shortest_fitting_length(specs, sample_shape) if "bytes" in data_kinds(sample_shape, dtype) else None
    if shortest is not None:  # the data are a byte view: a longer view fits, while the kernels are the model's own
        raise ValueError(f"model {name!r} does not fit {where} ({data}): its layers need sequences of at least "
                         f"{shortest:,} bytes; use a longer byte view (bytes<n> with n >= {shortest})")  # fmt: skip
    try:
        arch.walk(specs, sample_shape)
    except ValueError as error:
        raise ValueError(f"model {name!r} does not fit {where} ({data}): {error}") from None


def _fits(specs: list, sample_shape: tuple[int, ...]) -> bool:
    try:
        arch.walk(specs, sample_shape)
    except ValueError:
        return False
    return True


def _shortest_fitting_length(specs: list, sample_shape: tuple[int, ...]) -> int | None:
    """The shortest sequence length, longer than ``sample_shape``'s (which does not fit), that ``specs`` fit with
    the same channels; None when none up to ``LONGEST_SEARCHED`` does (the refusal is not about the length). A
    longer sequence never shortens a window's output, so the lengths that fit are all those from the shortest on,
    and a binary search finds it."""
    channels = tuple(sample_shape[1:])
    too_short, fitting = sample_shape[0], LONGEST_SEARCHED
    if not _fits(specs, (fitting, *channels)):
        return None
    while fitting - too_short > 1:
        middle = (too_short + fitting) // 2
        too_short, fitting = (too_short, middle) if _fits(specs, (middle, *channels)) else (middle, fitting)
    return fitting


@register_model("dense", "Flatten -> Dense(128, relu) -> Dense(classes): the lesson's Dense model")
def dense_specs(num_classes: int) -> list:
    return [arch.Flatten(), arch.Dense(128, activation="relu"), arch.Dense(num_classes)]


def _convolutions(layer=arch.Conv2D) -> list:
    """The convnet's feature extractor; ``layer`` is Conv2D or LocallyConnected2D (same receptive fields)."""
    return [
        layer(32, 3, activation="relu"),
        arch.MaxPool2D(2),
        layer(64, 3, activation="relu"),
        arch.MaxPool2D(2),
    ]


@register_model("cnn", "Conv(32)-Pool-Conv(64)-Pool-Flatten-Dropout-Dense: the Keras examples' MNIST convnet",
                ("image",))
def cnn_specs(num_classes: int) -> list:
    return [*_convolutions(), arch.Flatten(), arch.Dropout(0.5), arch.Dense(num_classes)]


@register_model("cnn_gap", "the cnn's convolutions with global average pooling instead of Flatten", ("image",))
def cnn_gap_specs(num_classes: int) -> list:
    return [*_convolutions(), arch.GlobalAveragePooling2D(), arch.Dropout(0.5), arch.Dense(num_classes)]


@register_model("locally_connected", "the cnn with unshared 3x3 kernels (LocallyConnected2D): locality, no sharing",
                ("image",))
def locally_connected_specs(num_classes: int) -> list:
    return [*_convolutions(arch.LocallyConnected2D), arch.Flatten(), arch.Dropout(0.5), arch.Dense(num_classes)]


# -- one-dimensional models ---------------------------------------------------------------------------------------


@register_model("linear", "Flatten -> Dense(classes): logistic regression, MNIST-1D's linear baseline")
def linear_specs(num_classes: int) -> list:
    """MNIST-1D's ``LinearBase`` (Greydanus & Kobak 2024, notebooks/models.py): one dense layer on the flattened
    input, 40 x 10 + 10 = 410 parameters on its (40, 1) sequences."""
    return [arch.Flatten(), arch.Dense(num_classes)]


@register_model("mlp1d", "Flatten -> Dense(100, relu) -> h + relu(Dense(100)(h)) -> Dense(classes): MNIST-1D's MLP")
def mlp1d_specs(num_classes: int) -> list:
    """MNIST-1D's ``MLPBase`` (Greydanus & Kobak 2024, notebooks/models.py): ``h = relu(linear1(x));
    h = h + relu(linear2(h)); linear3(h)``, so the relu sits inside the residual branch, before the sum.
    15,210 parameters on (40, 1): 40*100+100, 100*100+100, 100*10+10."""
    return [arch.Flatten(), arch.Dense(100, activation="relu"),
            arch.Residual((arch.Dense(100, activation="relu"),)), arch.Dense(num_classes)]  # fmt: skip


def _padded_conv1d(filters: int, kernel_size: int) -> list:
    """PyTorch's ``Conv1d(..., kernel_size, stride=2, padding=1)`` then relu: one zero on each side, then a "valid"
    convolution, so L -> floor((L + 2 - kernel_size) / 2) + 1."""
    return [arch.ZeroPadding1D(1), arch.Conv1D(filters, kernel_size, strides=2, activation="relu")]


@register_model("cnn1d", "3 x [Conv1D(25, stride 2, padding 1), relu] -> Flatten -> Dense(classes): MNIST-1D's CNN",
                ("sequence",))
def cnn1d_specs(num_classes: int) -> list:
    """MNIST-1D's ``ConvBase`` (Greydanus & Kobak 2024, notebooks/models.py): Conv1d(1, 25, 5, stride 2, padding 1),
    then twice Conv1d(25, 25, 3, stride 2, padding 1), relu after each, flatten, linear: lengths 40 -> 19 -> 10 -> 5
    and 5,210 parameters on (40, 1), as the reference's ``linear_in=125`` (= 5 x 25). PyTorch flattens its
    channels-first (25, 5) map, Keras the channels-last (5, 25) one: the dense layer's inputs come in another fixed
    order, which is the same model up to a permutation of its weights."""
    return [*_padded_conv1d(25, 5), *_padded_conv1d(25, 3), *_padded_conv1d(25, 3), arch.Flatten(),
            arch.Dense(num_classes)]  # fmt: skip


@register_model("gru1d", "bidirectional GRU(6) over every position -> Flatten -> Dense(classes): MNIST-1D's GRU",
                ("sequence",))
def gru1d_specs(num_classes: int) -> list:
    """MNIST-1D's ``GRUBase`` (Greydanus & Kobak 2024, notebooks/models.py): a bidirectional GRU with 6 hidden units
    returning all 40 steps, flattened (40 x 12 = 480), then a linear layer: 2 x 162 + 4,810 = 5,134 parameters on
    (40, 1), the reference's count too (PyTorch's GRU has Keras 3's two bias vectors; see ``specs.GRU``)."""
    return [arch.GRU(6, bidirectional=True), arch.Flatten(), arch.Dense(num_classes)]


# bytes1d's sizes. MalConv reads whole executables of up to 2 MB with a 500-byte kernel and stride (about 4,000
# windows); our byte views are 4,096 to 65,536 bytes, where a 500-byte window would leave 8 to 131 positions for the
# max pooling to choose among. 32 bytes span one header structure (an ELF identification is 16 bytes, a COFF file
# header 20) or a few machine instructions, and leave 128 to 2,048 windows; stride = kernel, as in MalConv, so each
# byte is read once.
BYTES_EMBEDDING = 8  # MalConv's embedding size
BYTES_FILTERS = 64  # half of MalConv's 128: our corpora hold hundreds of files, not hundreds of thousands
BYTES_WINDOW = 32  # kernel = stride, in bytes
BYTES_HIDDEN = 64


@register_model("bytes1d", "bytes -> Embedding(256, 8) -> gated Conv1D(64, 32, stride 32) -> global max -> "
                "Dense(64, relu) -> Dense(classes): a small MalConv", ("bytes",))  # fmt: skip
def bytes1d_specs(num_classes: int) -> list:
    """A small MalConv (Raff et al. 2018, "Malware Detection by Eating a Whole EXE", AAAI workshops): an embedding
    of each byte value, a gated convolution (``conv_a * sigmoid(conv_b)``) with a stride, global max pooling over
    the positions, and a dense head. Sizes: see ``BYTES_WINDOW`` and the comment above it.

    Input: a byte sequence (L, 1) of uint8 byte values, fed like every model as ``transforms.to_float`` (byte / 255);
    the first layer (``ByteTokens``) restores the byte values exactly. 256 tokens, no padding token: MalConv's 257th
    marks the end of a whole file in a batch of different lengths, while our views are fixed-length heads zero-padded
    with byte 0, which a uint8 array cannot tell from a real 0 (the true length is kept beside the view). Parameters:
    256*8 + 2*(32*8*64 + 64) + (64*64 + 64) + (64*classes + classes), independent of L (39,754 for 10 classes).
    """
    return [
        arch.ByteTokens(),
        arch.Embedding(256, BYTES_EMBEDDING),
        arch.GatedConv1D(BYTES_FILTERS, BYTES_WINDOW, strides=BYTES_WINDOW),
        arch.GlobalMaxPooling1D(),
        arch.Dense(BYTES_HIDDEN, activation="relu"),
        arch.Dense(num_classes),
    ]
