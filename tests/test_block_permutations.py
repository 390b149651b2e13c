"""The block-structured permutations of the scale experiment, checked pixel by pixel against their definitions:
bijections of the H*W positions, "within" keeping every pixel in its block, "between" keeping blocks whole and in
order, the endpoints, an identity draw drawn again, channels moving together, the exact inverse, refused block sizes
and rebuilding from a saved array."""

from __future__ import annotations

import numpy as np
import pytest

from spatiallab.transforms import BlockPermutation, PixelPermutation, block_permutation, valid_block_sizes

SQUARE = (28, 28)
OBLONG = (6, 12)  # H != W: no square block covers the whole image
CASES = [(family, size, shape) for shape in (SQUARE, OBLONG) for family in ("within", "between")
         for size in valid_block_sizes(shape)]  # fmt: skip


def sources(permutation: BlockPermutation) -> dict[tuple[int, int], tuple[int, int]]:
    """(row, column) of every output pixel -> the (row, column) of the input pixel it takes."""
    width = permutation.image_shape[1]
    return {divmod(out, width): divmod(int(source), width) for out, source in enumerate(permutation.permutation_)}


def test_valid_block_sizes_are_the_common_divisors():
    assert valid_block_sizes(SQUARE) == [1, 2, 4, 7, 14, 28]
    assert valid_block_sizes(OBLONG) == [1, 2, 3, 6]
    assert valid_block_sizes((29, 29)) == [1, 29]


@pytest.mark.parametrize("family, size, shape", CASES)
def test_each_is_a_bijection_of_the_positions(family, size, shape):
    permutation = BlockPermutation(family, size, seed=3, image_shape=shape)
    assert permutation.permutation_.dtype == np.int64
    assert sorted(permutation.permutation_.tolist()) == list(range(shape[0] * shape[1]))
    np.testing.assert_array_equal(permutation.permutation_, BlockPermutation(family, size, 3, shape).permutation_)


@pytest.mark.parametrize("size, shape", [(size, shape) for _, size, shape in CASES if _ == "within"])
def test_within_keeps_every_pixel_inside_its_own_block(size, shape):
    mapping = sources(BlockPermutation("within", size, seed=1, image_shape=shape))
    for (row, column), (source_row, source_column) in mapping.items():
        assert (row // size, column // size) == (source_row // size, source_column // size)
    if 1 < size:
        assert any(out != source for out, source in mapping.items())  # and it does shuffle


def test_within_gives_each_block_its_own_permutation():
    mapping = sources(BlockPermutation("within", 7, seed=0))
    orders = {(row // 7, column // 7): [] for row, column in mapping}
    for (row, column), (source_row, source_column) in sorted(mapping.items()):
        orders[(row // 7, column // 7)].append((source_row % 7, source_column % 7))
    assert len({tuple(order) for order in orders.values()}) == 16  # 16 blocks, 16 different orders
    other_seed = BlockPermutation("within", 7, seed=1).permutation_
    assert not np.array_equal(BlockPermutation("within", 7, seed=0).permutation_, other_seed)


@pytest.mark.parametrize("size, shape", [(size, shape) for _, size, shape in CASES if _ == "between"])
def test_between_keeps_the_pixels_of_each_block_together_and_in_order(size, shape):
    mapping = sources(BlockPermutation("between", size, seed=2, image_shape=shape))
    moved_to = {}
    for (row, column), (source_row, source_column) in mapping.items():
        assert (row % size, column % size) == (source_row % size, source_column % size)  # same place in its block
        block, source_block = (row // size, column // size), (source_row // size, source_column // size)
        assert moved_to.setdefault(block, source_block) == source_block  # all of a block from one block
    blocks = (shape[0] // size) * (shape[1] // size)
    assert len(set(moved_to.values())) == blocks
    if blocks > 1:
        assert any(block != source for block, source in moved_to.items())  # and it does move blocks


def test_endpoints_are_the_identity_and_the_lessons_full_shuffle():
    identity, full = np.arange(784), PixelPermutation(seed=5).permutation_
    np.testing.assert_array_equal(BlockPermutation("within", 1, 5).permutation_, identity)
    np.testing.assert_array_equal(BlockPermutation("between", 28, 5).permutation_, identity)
    np.testing.assert_array_equal(BlockPermutation("within", 28, 5).permutation_, full)
    np.testing.assert_array_equal(BlockPermutation("between", 1, 5).permutation_, full)
    # H != W: k = 1 is still the identity / the full shuffle; the largest k (6 on 6x12) leaves two blocks
    np.testing.assert_array_equal(BlockPermutation("within", 1, 5, OBLONG).permutation_, np.arange(72))
    np.testing.assert_array_equal(BlockPermutation("between", 1, 5, OBLONG).permutation_,
                                  PixelPermutation(5, OBLONG).permutation_)  # fmt: skip
    swapped = [BlockPermutation("between", 6, seed, OBLONG).permutation_ for seed in range(10)]
    assert {int(p[0]) for p in swapped} == {6}  # the two 6x6 halves swap under every seed (in place is the identity)


def test_a_draw_that_leaves_every_position_in_place_is_drawn_again_from_the_same_generator():
    # between 20 of 40 positions: the first draw of seed 0 keeps the 2 blocks in place, the next one swaps them
    assert np.random.default_rng(0).permutation(2).tolist() == [0, 1]
    swapped = np.concatenate([np.arange(20, 40), np.arange(20)])
    np.testing.assert_array_equal(block_permutation("between", 20, 0, (40,)), swapped)
    # within 2 of 2 positions: the same first draw, the identity; the only other order swaps them
    np.testing.assert_array_equal(block_permutation("within", 2, 0, (2,)), [1, 0])
    # the same seed gives the same array, and the identities of the family stay what they are
    again = block_permutation("between", 14, 1, SQUARE)
    np.testing.assert_array_equal(block_permutation("between", 14, 1, SQUARE), again)
    assert not np.array_equal(again, np.arange(784))  # seed 1 drew the identity first
    np.testing.assert_array_equal(block_permutation("between", 40, 3, (40,)), np.arange(40))
    np.testing.assert_array_equal(block_permutation("within", 1, 3, (40,)), np.arange(40))


@pytest.mark.parametrize("family, size", [("within", 4), ("between", 2), ("between", 7)])
def test_channels_move_together_and_the_inverse_restores_the_image(family, size):
    images = np.random.default_rng(0).integers(0, 256, (3, 28, 28, 3), np.uint8)
    permutation = BlockPermutation(family, size, seed=4)
    shuffled = permutation(images)
    assert shuffled.shape == images.shape and shuffled.dtype == np.uint8
    for channel in range(3):  # each channel moved exactly as a grey image would be
        np.testing.assert_array_equal(shuffled[..., channel], permutation(images[..., channel]))
    flat_in, flat_out = images.reshape(3, 784, 3), shuffled.reshape(3, 784, 3)
    for out, source in enumerate(permutation.permutation_[:50]):
        np.testing.assert_array_equal(flat_out[:, out], flat_in[:, source])
    np.testing.assert_array_equal(permutation.inverse(shuffled), images)


def test_invalid_block_sizes_are_refused_with_the_valid_ones_listed():
    with pytest.raises(ValueError, match=r"block size 5 does not tile 28x28 images .*valid sizes: 1, 2, 4, 7, 14, 28"):
        BlockPermutation("within", 5, seed=0)
    with pytest.raises(ValueError, match=r"block size 4 does not tile 6x12 images .*valid sizes: 1, 2, 3, 6$"):
        block_permutation("between", 4, 0, OBLONG)
    with pytest.raises(ValueError, match=r"block size 0 does not tile"):
        BlockPermutation("between", 0, seed=0)
    with pytest.raises(ValueError, match=r"unknown block family 'rows'; expected one of \['within', 'between'\]"):
        BlockPermutation("rows", 2, seed=0)


def test_rebuilt_from_a_saved_array_applies_exactly_that_array():
    saved = BlockPermutation("between", 7, seed=9).permutation_
    rebuilt = BlockPermutation.from_array(saved.astype(np.int32), SQUARE, 9, family="between", block_size=7)
    np.testing.assert_array_equal(rebuilt.permutation_, saved)
    assert rebuilt.to_dict() == {"family": "between", "block_size": 7, "seed": 9, "image_shape": [28, 28]}
    images = np.random.default_rng(1).integers(0, 256, (2, 28, 28), np.uint8)
    np.testing.assert_array_equal(rebuilt(images).reshape(2, 784), images.reshape(2, 784)[:, saved])
    np.testing.assert_array_equal(rebuilt.inverse(rebuilt(images)), images)


def test_a_saved_array_without_its_family_structure_is_refused():
    within = BlockPermutation("within", 7, seed=0).permutation_
    with pytest.raises(ValueError, match="expected a 'between' block permutation with 7x7 blocks; the array breaks"):
        BlockPermutation.from_array(within, SQUARE, family="between", block_size=7)
    with pytest.raises(ValueError, match="expected a 'within' block permutation .* moves pixels out of their block"):
        BlockPermutation.from_array(PixelPermutation(0).permutation_, SQUARE, family="within", block_size=7)
    with pytest.raises(ValueError, match="expected a permutation of"):
        BlockPermutation.from_array(np.zeros(784, np.int64), SQUARE, family="within", block_size=7)
    with pytest.raises(ValueError, match="valid sizes"):
        BlockPermutation.from_array(within, SQUARE, family="within", block_size=3)
