"""Pixel transforms: the shuffled-pixels permutation, translation with zero fill, and scaling to float32."""

from __future__ import annotations

import numpy as np


class PixelPermutation:
    """One fixed random permutation of the H*W spatial positions of an image.

    The same permutation is applied to every image (train and test alike); the channels of a pixel move together.
    This is the lesson's ``X[:, perm]`` generalised to (N, H, W) and (N, H, W, C) arrays.

    Args:
        seed: seed of ``numpy.random.default_rng`` that draws the permutation (saved with results).
        image_shape: (H, W) of the images (default 28x28).

    Attributes:
        permutation_: int64 (H*W,) -- output position i takes input position ``permutation_[i]`` (row-major).
        inverse_: int64 (H*W,) -- the inverse permutation.
    """

    def __init__(self, seed: int, image_shape: tuple[int, int] = (28, 28)):
        self.seed = int(seed)
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        size = self.image_shape[0] * self.image_shape[1]
        self.permutation_ = np.random.default_rng(self.seed).permutation(size)
        self.inverse_ = np.argsort(self.permutation_)

    def _apply(self, images: np.ndarray, order: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim not in (3, 4) or tuple(images.shape[1:3]) != self.image_shape:
            raise ValueError(
                f"expected images (N, {self.image_shape[0]}, {self.image_shape[1]}[, C]); got {images.shape}"
            )
        count = images.shape[0]
        flat = images.reshape(count, self.image_shape[0] * self.image_shape[1], *images.shape[3:])
        return flat[:, order].reshape(images.shape)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Permute pixel positions of (N, H, W) or (N, H, W, C) ``images``; dtype and shape are kept."""
        return self._apply(images, self.permutation_)

    def inverse(self, images: np.ndarray) -> np.ndarray:
        """Undo the permutation: ``p.inverse(p(x)) == x``."""
        return self._apply(images, self.inverse_)

    def to_dict(self) -> dict:
        return {"seed": self.seed, "image_shape": list(self.image_shape)}


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 grey levels (any shape) -> float32 in [0, 1] (divided by 255)."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


def translate(images: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """Shift image content ``dy`` pixels down and ``dx`` pixels right (negative: up / left), filling with zeros.

    ``out[n, i, j] = images[n, i - dy, j - dx]`` where that index lies inside the image, else 0; content pushed past
    an edge is lost (no wrap-around). A shift of the image size or more leaves an all-zero image.

    Args:
        images: (N, H, W) or (N, H, W, C) array of any dtype (uint8 grey levels or floats).
        dy, dx: integer shifts in pixels.

    Returns:
        A new array of the same shape and dtype.

    Raises:
        ValueError: images not 3-D or 4-D, or a non-integer shift.
    """
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"expected images (N, H, W[, C]); got shape {images.shape}")
    if int(dy) != dy or int(dx) != dx:
        raise ValueError(f"shifts must be whole pixels; got dy={dy}, dx={dx}")
    dy, dx = int(dy), int(dx)
    height, width = images.shape[1:3]
    shifted = np.zeros_like(images)
    if abs(dy) >= height or abs(dx) >= width:
        return shifted
    source_rows = slice(max(0, -dy), height - max(0, dy))
    source_columns = slice(max(0, -dx), width - max(0, dx))
    target_rows = slice(max(0, dy), height - max(0, -dy))
    target_columns = slice(max(0, dx), width - max(0, -dx))
    shifted[:, target_rows, target_columns] = images[:, source_rows, source_columns]
    return shifted
