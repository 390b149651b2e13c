"""Pixel transforms: the shuffled-pixels permutation, the block-structured permutations of the scale experiment,
translation with zero fill, and scaling to float32."""

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

    @classmethod
    def from_array(cls, permutation: np.ndarray, image_shape: tuple[int, int], seed: int | None = None):
        """The permutation saved in a run folder (int (H*W,)), as a ``PixelPermutation``; ``seed`` is metadata only.

        Raises:
            ValueError: ``permutation`` is not a permutation of the ``H*W`` positions.
        """
        permutation = np.asarray(permutation, dtype=np.int64)
        size = int(image_shape[0]) * int(image_shape[1])
        if permutation.shape != (size,) or not np.array_equal(np.sort(permutation), np.arange(size)):
            found = f"shape {permutation.shape}" if permutation.shape != (size,) else "repeated or missing positions"
            raise ValueError(f"expected a permutation of the {size} positions 0..{size - 1}; got an array with {found}")
        self = cls.__new__(cls)
        self.seed = None if seed is None else int(seed)
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.permutation_ = permutation
        self.inverse_ = np.argsort(permutation)
        return self

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


BLOCK_FAMILIES = ("within", "between")


def valid_block_sizes(image_shape: tuple[int, int]) -> list[int]:
    """The block sizes k that tile an (H, W) image with k x k blocks: the common divisors of H and W, ascending."""
    height, width = int(image_shape[0]), int(image_shape[1])
    return [k for k in range(1, min(height, width) + 1) if height % k == 0 and width % k == 0]


def check_block_size(block_size: int, image_shape: tuple[int, int]) -> None:
    """Raise ValueError unless ``block_size`` tiles the image (k divides H and W), listing the sizes that do."""
    valid = valid_block_sizes(image_shape)
    if block_size not in valid:
        raise ValueError(f"block size {block_size} does not tile {image_shape[0]}x{image_shape[1]} images (k must "
                         f"divide the height and the width); valid sizes: {', '.join(map(str, valid))}")  # fmt: skip


def _block_positions(block_size: int, image_shape: tuple[int, int]) -> np.ndarray:
    """int64 (blocks, k*k): row b lists the flat (row-major) positions of block b's pixels, row-major inside the
    block; blocks are numbered row-major over the image."""
    height, width = image_shape
    k = block_size
    positions = np.arange(height * width, dtype=np.int64).reshape(height // k, k, width // k, k)
    return positions.transpose(0, 2, 1, 3).reshape(-1, k * k)


def block_permutation(family: str, block_size: int, seed: int, image_shape: tuple[int, int]) -> np.ndarray:
    """The position array of a block-structured permutation (``PixelPermutation.permutation_``'s convention).

    - ``"within"``: the image is cut into k x k blocks; the pixels inside each block are shuffled, each block with
      its own permutation (drawn one block after the other, row-major, from one generator). Detail finer than k is
      destroyed, the layout of the blocks is kept. k = 1 is the identity.
    - ``"between"``: the k x k blocks are moved as wholes to shuffled positions, each block's pixels together and in
      their order. The layout above k is destroyed, detail within k is kept. k = 1 is a full shuffle.

    One k x k block covers the whole image only when the image is square and k = H = W: then "within" is a full
    shuffle and "between" the identity. On an H != W image no block size reaches the whole image, so neither
    endpoint at the image's scale exists there (the largest k, gcd(H, W), still leaves several blocks).
    A full shuffle from ``seed`` is exactly ``PixelPermutation(seed)``: ``numpy.random.default_rng(seed)``'s first
    ``permutation(H*W)``.

    Raises:
        ValueError: unknown ``family``, or a ``block_size`` that does not divide H and W (the valid sizes listed).
    """
    if family not in BLOCK_FAMILIES:
        raise ValueError(f"unknown block family {family!r}; expected one of {list(BLOCK_FAMILIES)}")
    image_shape = (int(image_shape[0]), int(image_shape[1]))
    check_block_size(block_size, image_shape)
    blocks = _block_positions(block_size, image_shape)
    generator = np.random.default_rng(seed)
    if family == "within":  # output pixel j of block b takes pixel order_b[j] of the same block
        source = np.stack([block[generator.permutation(len(block))] for block in blocks])
    else:  # output block b takes the whole of block order[b]
        source = blocks[generator.permutation(len(blocks))]
    permutation = np.empty(image_shape[0] * image_shape[1], dtype=np.int64)
    permutation[blocks.ravel()] = source.ravel()
    return permutation


class BlockPermutation(PixelPermutation):
    """A fixed block-structured permutation of the pixel positions (see ``block_permutation``), applied exactly as a
    ``PixelPermutation`` is (same ``__call__``, ``inverse``, ``permutation_`` and ``inverse_``).

    Args:
        family: ``"within"`` (pixels shuffled inside each k x k block) or ``"between"`` (blocks moved as wholes).
        block_size: k, a divisor of the image's height and width.
        seed: seed of the generator that draws the permutation (saved with results).
        image_shape: (H, W) of the images (default 28x28).
    """

    def __init__(self, family: str, block_size: int, seed: int, image_shape: tuple[int, int] = (28, 28)):
        self.family, self.block_size = family, int(block_size)
        self.seed = int(seed)
        self.image_shape = (int(image_shape[0]), int(image_shape[1]))
        self.permutation_ = block_permutation(family, self.block_size, self.seed, self.image_shape)
        self.inverse_ = np.argsort(self.permutation_)

    @classmethod
    def from_array(cls, permutation: np.ndarray, image_shape: tuple[int, int], seed: int | None = None, *,
                   family: str, block_size: int):  # fmt: skip
        """A saved position array (int (H*W,)) as a ``BlockPermutation``; ``seed`` is metadata only.

        Raises:
            ValueError: not a permutation of the H*W positions, an invalid family or block size, or an array that
                does not have the family's structure (a pixel leaving its block, or a block broken up).
        """
        self = super().from_array(permutation, image_shape, seed)
        if family not in BLOCK_FAMILIES:
            raise ValueError(f"unknown block family {family!r}; expected one of {list(BLOCK_FAMILIES)}")
        check_block_size(block_size, self.image_shape)
        self.family, self.block_size = family, int(block_size)
        blocks = _block_positions(self.block_size, self.image_shape)
        block_of = np.empty(len(self.permutation_), dtype=np.int64)  # the block number of every position
        block_of[blocks] = np.arange(len(blocks))[:, None]
        source = self.permutation_[blocks]  # (blocks, k*k): where each output block's pixels come from
        if family == "within":  # every pixel comes from its own block
            structured, broken = np.all(block_of[source] == block_of[blocks]), "moves pixels out of their block"
        else:  # each output block is one whole input block, its pixels in their order
            structured, broken = np.array_equal(source, blocks[block_of[source[:, 0]]]), "breaks blocks apart"
        if not structured:
            size = f"{self.block_size}x{self.block_size}"
            raise ValueError(f"expected a {family!r} block permutation with {size} blocks; the array {broken}")
        return self

    def to_dict(self) -> dict:
        return {"family": self.family, "block_size": self.block_size, **super().to_dict()}


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
