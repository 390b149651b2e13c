"""Position transforms: the shuffled-pixels permutation, the block-structured permutations of the scale experiment,
translation with zero fill, and the model input (float32).

Every permutation here moves the positions of an example, the axes between N and the channels: (H, W) of
(N, H, W[, C]) images, or (L,) of (N, L[, C]) sequences; the channels of a position move together. The
positions' shape is called ``image_shape`` throughout (the name results files and saved permutations use).
"""

from __future__ import annotations

import math

import numpy as np


def positions_shape(shape) -> tuple[int, ...]:
    """``shape`` as the positions' shape: (H, W) of images or (L,) of sequences, as ints.

    Raises:
        ValueError: not one or two sizes of at least 1.
    """
    shape = tuple(int(size) for size in shape)
    if len(shape) not in (1, 2) or min(shape) < 1:
        raise ValueError(f"expected the positions' shape (H, W) of images or (L,) of sequences; got {shape}")
    return shape


def _shape_text(shape: tuple[int, ...]) -> str:
    """``28x28 images`` / ``40-position sequences``."""
    return f"{shape[0]}x{shape[1]} images" if len(shape) == 2 else f"{shape[0]}-position sequences"


class PixelPermutation:
    """One fixed random permutation of the positions of an example: the H*W pixels of an image, or the L positions
    of a sequence.

    The same permutation is applied to every example (train and test alike); the channels of a position move
    together. This is the lesson's ``X[:, perm]`` generalised to (N, H, W[, C]) images and (N, L[, C]) sequences.

    Args:
        seed: seed of ``numpy.random.default_rng`` that draws the permutation (saved with results).
        image_shape: the positions' shape: (H, W) of images (default 28x28), or (L,) of sequences.

    Attributes:
        permutation_: int64 (H*W,) or (L,) -- output position i takes input position ``permutation_[i]`` (row-major).
        inverse_: int64, the same shape -- the inverse permutation.

    Raises:
        ValueError: ``image_shape`` is not (H, W) or (L,).
    """

    def __init__(self, seed: int, image_shape: tuple[int, ...] = (28, 28)):
        self.seed = int(seed)
        self.image_shape = positions_shape(image_shape)
        self.permutation_ = np.random.default_rng(self.seed).permutation(math.prod(self.image_shape))
        self.inverse_ = np.argsort(self.permutation_)

    @classmethod
    def from_array(cls, permutation: np.ndarray, image_shape: tuple[int, ...], seed: int | None = None):
        """The permutation saved in a run folder (int (H*W,) or (L,)), as a ``PixelPermutation``; ``seed`` is
        metadata only.

        Raises:
            ValueError: ``permutation`` is not a permutation of the positions of ``image_shape``.
        """
        permutation = np.asarray(permutation, dtype=np.int64)
        shape = positions_shape(image_shape)
        size = math.prod(shape)
        if permutation.shape != (size,) or not np.array_equal(np.sort(permutation), np.arange(size)):
            found = f"shape {permutation.shape}" if permutation.shape != (size,) else "repeated or missing positions"
            raise ValueError(f"expected a permutation of the {size} positions 0..{size - 1}; got an array with {found}")
        self = cls.__new__(cls)
        self.seed = None if seed is None else int(seed)
        self.image_shape = shape
        self.permutation_ = permutation
        self.inverse_ = np.argsort(permutation)
        return self

    def _apply(self, examples: np.ndarray, order: np.ndarray) -> np.ndarray:
        examples = np.asarray(examples)
        rank = len(self.image_shape)
        if examples.ndim not in (1 + rank, 2 + rank) or tuple(examples.shape[1 : 1 + rank]) != self.image_shape:
            layout = ", ".join(map(str, self.image_shape))
            kind = "images" if rank == 2 else "sequences"
            raise ValueError(f"expected {kind} (N, {layout}[, C]); got {examples.shape}")
        count = examples.shape[0]
        flat = examples.reshape(count, len(order), *examples.shape[1 + rank :])
        return flat[:, order].reshape(examples.shape)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """Permute the positions of (N, H, W[, C]) images or (N, L[, C]) sequences; dtype and shape are kept."""
        return self._apply(images, self.permutation_)

    def inverse(self, images: np.ndarray) -> np.ndarray:
        """Undo the permutation: ``p.inverse(p(x)) == x``."""
        return self._apply(images, self.inverse_)

    def to_dict(self) -> dict:
        return {"seed": self.seed, "image_shape": list(self.image_shape)}


BLOCK_FAMILIES = ("within", "between")


def valid_block_sizes(image_shape: tuple[int, ...]) -> list[int]:
    """The block sizes k that tile the positions, ascending: the common divisors of H and W (k x k blocks of an
    (H, W) image), or the divisors of L (blocks of k positions of an (L,) sequence)."""
    shape = positions_shape(image_shape)
    return [k for k in range(1, min(shape) + 1) if all(size % k == 0 for size in shape)]


def check_block_size(block_size: int, image_shape: tuple[int, ...]) -> None:
    """Raise ValueError unless ``block_size`` tiles the positions (k divides H and W, or L), listing the sizes
    that do."""
    shape = positions_shape(image_shape)
    valid = valid_block_sizes(shape)
    if block_size not in valid:
        divides = "the height and the width" if len(shape) == 2 else "the length"
        raise ValueError(f"block size {block_size} does not tile {_shape_text(shape)} (k must divide {divides}); "
                         f"valid sizes: {', '.join(map(str, valid))}")  # fmt: skip


def _block_positions(block_size: int, image_shape: tuple[int, ...]) -> np.ndarray:
    """int64 (blocks, k*k) for an (H, W) image: row b lists the flat (row-major) positions of block b's pixels,
    row-major inside the block, blocks numbered row-major over the image; int64 (blocks, k) for an (L,) sequence:
    row b holds positions b*k .. b*k + k - 1."""
    k = block_size
    if len(image_shape) == 1:
        return np.arange(image_shape[0], dtype=np.int64).reshape(-1, k)
    height, width = image_shape
    positions = np.arange(height * width, dtype=np.int64).reshape(height // k, k, width // k, k)
    return positions.transpose(0, 2, 1, 3).reshape(-1, k * k)


def block_permutation(family: str, block_size: int, seed: int, image_shape: tuple[int, ...]) -> np.ndarray:
    """The position array of a block-structured permutation (``PixelPermutation.permutation_``'s convention).

    A block is k x k pixels of an (H, W) image, or k consecutive positions of an (L,) sequence.

    - ``"within"``: the positions are cut into blocks; the positions inside each block are shuffled, each block with
      its own permutation (drawn one block after the other, row-major, from one generator). Detail finer than k is
      destroyed, the layout of the blocks is kept. k = 1 is the identity.
    - ``"between"``: the blocks are moved as wholes to shuffled places, each block's positions together and in
      their order. The layout above k is destroyed, detail within k is kept. k = 1 is a full shuffle.

    One block covers everything only when k = L of a sequence, or k = H = W of a square image: then "within" is a
    full shuffle and "between" the identity. On an H != W image no block size reaches the whole image, so neither
    endpoint at the image's scale exists there (the largest k, gcd(H, W), still leaves several blocks).

    A draw that leaves every position in place is drawn again, from the same generator (one seed still gives one
    array), whenever the family has another permutation at k: blocks of at least 2 positions for "within", at least
    2 blocks for "between". Otherwise a condition would be trained as a shuffle while being the original under
    another name (between 20 on 40 positions has 2 blocks: half of all seeds would leave them in place). So the
    identity comes only from within 1 and from "between" with one block.
    One block of "within" left in its order is the family, not an identity draw, and is kept: a block of n positions
    keeps its order with probability 1/n!, so about half of the 2-position blocks of within 2 on a sequence stay.
    A full shuffle from ``seed`` is exactly ``PixelPermutation(seed)``: ``numpy.random.default_rng(seed)``'s first
    ``permutation(H*W)`` (or ``permutation(L)``), unless that draw is the identity (1 chance in (H*W)!, or L!).

    Raises:
        ValueError: unknown ``family``, or a ``block_size`` that does not divide H and W, or L (the valid sizes
        listed).
    """
    if family not in BLOCK_FAMILIES:
        raise ValueError(f"unknown block family {family!r}; expected one of {list(BLOCK_FAMILIES)}")
    image_shape = positions_shape(image_shape)
    check_block_size(block_size, image_shape)
    blocks = _block_positions(block_size, image_shape)
    generator = np.random.default_rng(seed)
    movable = blocks.shape[1] > 1 if family == "within" else len(blocks) > 1  # a non-identity permutation exists
    identity = np.arange(blocks.size, dtype=np.int64)
    permutation = _draw_block_permutation(family, blocks, generator)
    while movable and np.array_equal(permutation, identity):
        permutation = _draw_block_permutation(family, blocks, generator)
    return permutation


def _draw_block_permutation(family: str, blocks: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """One draw of ``family``'s permutation over ``blocks`` (``_block_positions``), as int64 (positions,), from
    ``generator``; it may be the identity (``block_permutation`` draws again)."""
    if family == "within":  # output pixel j of block b takes pixel order_b[j] of the same block
        source = np.stack([block[generator.permutation(len(block))] for block in blocks])
    else:  # output block b takes the whole of block order[b]
        source = blocks[generator.permutation(len(blocks))]
    permutation = np.empty(blocks.size, dtype=np.int64)
    permutation[blocks.ravel()] = source.ravel()
    return permutation


class BlockPermutation(PixelPermutation):
    """A fixed block-structured permutation of the positions (see ``block_permutation``), applied exactly as a
    ``PixelPermutation`` is (same ``__call__``, ``inverse``, ``permutation_`` and ``inverse_``).

    Args:
        family: ``"within"`` (positions shuffled inside each block) or ``"between"`` (blocks moved as wholes).
        block_size: k, a divisor of the image's height and width (k x k blocks), or of the sequence's length.
        seed: seed of the generator that draws the permutation (saved with results).
        image_shape: the positions' shape: (H, W) of images (default 28x28), or (L,) of sequences.
    """

    def __init__(self, family: str, block_size: int, seed: int, image_shape: tuple[int, ...] = (28, 28)):
        self.family, self.block_size = family, int(block_size)
        self.seed = int(seed)
        self.image_shape = positions_shape(image_shape)
        self.permutation_ = block_permutation(family, self.block_size, self.seed, self.image_shape)
        self.inverse_ = np.argsort(self.permutation_)

    @classmethod
    def from_array(cls, permutation: np.ndarray, image_shape: tuple[int, ...], seed: int | None = None, *,
                   family: str, block_size: int):  # fmt: skip
        """A saved position array (int (H*W,) or (L,)) as a ``BlockPermutation``; ``seed`` is metadata only.

        Raises:
            ValueError: not a permutation of the positions, an invalid family or block size, or an array that
                does not have the family's structure (a position leaving its block, or a block broken up).
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
            size = f"{self.block_size}" + (f"x{self.block_size}" if len(self.image_shape) == 2 else "-position")
            raise ValueError(f"expected a {family!r} block permutation with {size} blocks; the array {broken}")
        return self

    def to_dict(self) -> dict:
        return {"family": self.family, "block_size": self.block_size, **super().to_dict()}


def to_float(examples: np.ndarray) -> np.ndarray:
    """The model input of a dataset's examples (any shape), the one place where the data decide it: uint8 (grey
    levels, or byte values of a byte sequence) -> float32 in [0, 1], divided by 255; float32 signals (MNIST-1D's
    standardised sequences) -> unchanged.

    Raises:
        ValueError: any other dtype (a ``Dataset`` holds only uint8 or float32).
    """
    examples = np.asarray(examples)
    if examples.dtype == np.uint8:
        return examples.astype(np.float32) / np.float32(255.0)
    if examples.dtype == np.float32:
        return examples
    raise ValueError(f"expected uint8 (divided by 255) or float32 (kept) examples; got {examples.dtype}")


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
