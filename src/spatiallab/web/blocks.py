"""The Explore tab's scale experiment: one image under the two block-structured shuffles of ``spatiallab scale``
(``transforms.BlockPermutation``) at a block size k that tiles it, and what each shuffle destroys and keeps.

- within k x k blocks: every pixel stays inside its block, its place there shuffled (detail finer than k destroyed);
- between blocks: the blocks trade places, each moved whole (the layout above k destroyed).
"""

from __future__ import annotations

import numpy as np

from spatiallab import transforms

BLOCK_SEED = 0  # one fixed permutation per (family, k), as in a scale run with --permutation-seed 0


def nearest_block_size(value: float, image_shape: tuple[int, int]) -> int:
    """The block size that tiles (H, W) images (``transforms.valid_block_sizes``) nearest to ``value``; the smaller
    of two equally near. A slider over 1..min(H, W) snaps to it."""
    return min(transforms.valid_block_sizes(image_shape), key=lambda size: (abs(size - float(value)), size))


def default_block_size(image_shape: tuple[int, int]) -> int:
    """A block size a quarter of the image's side or near it (7 on 28x28, 8 on 32x32): blocks large enough to hold
    a stroke, small enough that there are several of them."""
    return nearest_block_size(min(image_shape) / 4, image_shape)


def shuffle_blocks(image: np.ndarray, block_size: int, seed: int = BLOCK_SEED) -> dict[str, np.ndarray]:
    """``image`` under each block family at ``block_size``.

    Args:
        image: (H, W) or (H, W, C) array, e.g. uint8 grey levels.
        block_size: k, a divisor of H and W.

    Returns:
        {"within": ..., "between": ...}: arrays of the image's shape and dtype.

    Raises:
        ValueError: ``block_size`` does not tile the image (the valid sizes listed).
    """
    image = np.asarray(image)
    shape = image.shape[:2]
    return {family: transforms.BlockPermutation(family, block_size, seed, shape)(image[np.newaxis])[0]
            for family in transforms.BLOCK_FAMILIES}  # fmt: skip


def block_lines(block_size: int, image_shape: tuple[int, int]) -> dict[str, str]:
    """One markdown line per family on what it destroys and what it keeps at ``block_size``, the endpoints named
    (k = 1: "within" moves nothing, "between" is the full shuffle; one block covering a square image: the reverse).

    Raises:
        ValueError: ``block_size`` does not tile the image.
    """
    transforms.check_block_size(block_size, image_shape)
    k, (height, width) = int(block_size), image_shape
    size, count = f"{k}x{k}", (height // k) * (width // k)
    whole = k == height == width
    full = "the full shuffle: every neighbourhood destroyed, only the grey levels kept"
    if k == 1:
        within = "**Within 1x1 blocks**: a block of one pixel has nothing to shuffle, so this is the original."
    elif whole:
        within = f"**Within one {size} block**: the block is the whole image, so this is {full}."
    else:
        within = (f"**Within {size} blocks**: destroyed: the detail finer than {k} pixels (each pixel lands anywhere "
                  f"in its own block); kept: the layout at the {k}-pixel scale (each block's pixels, so its ink, stay "
                  "where the block is).")  # fmt: skip
    if k == 1:
        between = f"**Between 1x1 blocks**: every pixel is a block, so this is {full}."
    elif whole:
        between = f"**Between {size} blocks**: one block has nowhere to go, so this is the original."
    else:
        window = (" A 3x3 filter still reads true neighbourhoods, except where its window crosses a block edge."
                  if k >= 3 else "")  # fmt: skip
        between = (f"**Between {size} blocks**: destroyed: the layout above {k} pixels (the {count} blocks trade "
                   f"places); kept: everything inside a block, detail up to {k} pixels.{window}")  # fmt: skip
    return {"within": within, "between": between}
