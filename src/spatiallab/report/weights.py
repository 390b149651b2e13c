"""What a trained model learned in its first layer, as images.

A Dense layer that receives the flattened image has one weight per input pixel and hidden unit, so each unit's weights
can be drawn as an H x W image (Keras's Flatten is row-major: input index (row * W + column) * C + channel). A model
trained on shuffled pixels saw pixel ``permutation[i]`` at input position i; applying the inverse permutation puts
each weight back over the pixel it multiplies, so its images are comparable with the original model's.

A Conv2D layer's kernel (k, k, C_in, filters) holds one k x k x C_in filter per output channel.
"""

from __future__ import annotations

import numpy as np

from spatiallab.transforms import PixelPermutation


def _kernel(layer) -> np.ndarray | None:
    """The layer's kernel as float32 NumPy (any Keras backend), or None for no layer."""
    import keras

    return None if layer is None else keras.ops.convert_to_numpy(layer.kernel).astype(np.float32)


def first_weighted_layer(model):
    """The first layer of ``model`` that has weights (Dense, Conv2D, Conv1D, a GRU, an embedding...), or None."""
    for layer in model.layers:
        if layer.weights:
            return layer
    return None


def first_layer_kind(model) -> str | None:
    """"dense" when the first weighted layer is Dense on the flattened input, "conv" for Conv2D, else None (a
    Conv1D, a GRU or an embedding first: nothing drawn)."""
    import keras

    layer = first_weighted_layer(model)
    if isinstance(layer, keras.layers.Conv2D):
        return "conv"
    if isinstance(layer, keras.layers.Dense):
        return "dense"
    return None


def feeds_the_output(model) -> bool:
    """True when the first weighted layer is the model's only one (linear: Flatten -> Dense(classes)), so its units
    are the class logits, one per class, and the model has no hidden units."""
    return sum(bool(layer.weights) for layer in model.layers) == 1


def dense_weight_images(
    model, image_shape: tuple[int, ...], permutation: PixelPermutation | None = None
) -> np.ndarray:
    """The first Dense layer's weights as one image (or one sequence) per unit: per hidden unit, or per class where
    the layer is the model's only one (``feeds_the_output``).

    Args:
        model: a Keras model whose first weighted layer is Dense on the flattened input.
        image_shape: the model's input: (H, W, C) of images, or (L, C) of sequences.
        permutation: the permutation the model was trained with (shuffled condition), or None.

    Returns:
        float32 (units, H, W, C) or (units, L, C): weight of each input position for each unit, in the original
        layout.

    Raises:
        ValueError: the first weighted layer is not a Dense layer with H*W*C (or L*C) inputs.
    """
    layer = first_weighted_layer(model)
    kernel = _kernel(layer) if hasattr(layer, "kernel") else None
    inputs = int(np.prod(image_shape))
    if kernel is None or kernel.ndim != 2 or kernel.shape[0] != inputs:
        found = "no weighted layer" if kernel is None else f"a kernel of shape {kernel.shape}"
        raise ValueError(f"expected a first Dense layer with {inputs} inputs; found {found}")
    images = np.moveaxis(kernel.reshape(*image_shape, kernel.shape[1]), -1, 0)
    return permutation.inverse(images) if permutation is not None else images


def conv_filters(model) -> np.ndarray:
    """The first Conv2D layer's filters.

    Returns:
        float32 (filters, k, k, C_in).

    Raises:
        ValueError: the first weighted layer is not a 2-D convolution.
    """
    layer = first_weighted_layer(model)
    kernel = _kernel(layer)
    if kernel is None or kernel.ndim != 4:
        found = "no weighted layer" if kernel is None else f"a kernel of shape {kernel.shape}"
        raise ValueError(f"expected a first Conv2D layer with a (k, k, C_in, filters) kernel; found {found}")
    return np.moveaxis(kernel, -1, 0)
