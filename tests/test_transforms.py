"""PixelPermutation: a bijection of positions, the same for train and test, invertible, channels kept together."""

import numpy as np
import pytest

from spatiallab.transforms import PixelPermutation, to_float


def test_bijective_and_seeded():
    permutation = PixelPermutation(seed=7)
    assert sorted(permutation.permutation_.tolist()) == list(range(784))
    assert not np.array_equal(permutation.permutation_, np.arange(784))
    np.testing.assert_array_equal(permutation.permutation_, PixelPermutation(seed=7).permutation_)
    assert not np.array_equal(permutation.permutation_, PixelPermutation(seed=8).permutation_)


def test_matches_lesson_flat_indexing_for_train_and_test():
    rng = np.random.default_rng(1)
    train, test = rng.integers(0, 256, (5, 28, 28), np.uint8), rng.integers(0, 256, (3, 28, 28), np.uint8)
    permutation = PixelPermutation(seed=3)
    perm = permutation.permutation_
    # the lesson's code: X.reshape(-1, 784)[:, perm]
    np.testing.assert_array_equal(permutation(train).reshape(5, 784), train.reshape(5, 784)[:, perm])
    np.testing.assert_array_equal(permutation(test).reshape(3, 784), test.reshape(3, 784)[:, perm])


def test_inverse_and_multiset_of_values():
    images = np.random.default_rng(2).integers(0, 256, (4, 28, 28, 1), np.uint8)
    permutation = PixelPermutation(seed=0)
    shuffled = permutation(images)
    assert shuffled.shape == images.shape and shuffled.dtype == np.uint8
    np.testing.assert_array_equal(np.sort(shuffled.ravel()), np.sort(images.ravel()))
    np.testing.assert_array_equal(permutation.inverse(shuffled), images)


def test_colour_pixels_move_with_their_channels():
    images = np.random.default_rng(3).integers(0, 256, (2, 4, 5, 3), np.uint8)
    permutation = PixelPermutation(seed=1, image_shape=(4, 5))
    shuffled = permutation(images)
    flat_in, flat_out = images.reshape(2, 20, 3), shuffled.reshape(2, 20, 3)
    for out_position, in_position in enumerate(permutation.permutation_):
        np.testing.assert_array_equal(flat_out[:, out_position], flat_in[:, in_position])


def test_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"expected images \(N, 28, 28\[, C\]\); got \(2, 32, 32, 3\)"):
        PixelPermutation(seed=0)(np.zeros((2, 32, 32, 3), np.uint8))


def test_to_float_range():
    result = to_float(np.array([0, 255, 51], np.uint8))
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, [0.0, 1.0, 0.2])


def test_from_array_applies_exactly_the_saved_array():
    saved = PixelPermutation(seed=5, image_shape=(4, 5)).permutation_[::-1].copy()  # not any seed's draw
    permutation = PixelPermutation.from_array(saved, (4, 5), seed=5)
    images = np.random.default_rng(4).integers(0, 256, (3, 4, 5, 2), np.uint8)
    np.testing.assert_array_equal(permutation(images).reshape(3, 20, 2), images.reshape(3, 20, 2)[:, saved])
    np.testing.assert_array_equal(permutation.inverse(permutation(images)), images)
    assert permutation.to_dict() == {"seed": 5, "image_shape": [4, 5]}
    assert PixelPermutation.from_array(saved, (4, 5)).seed is None


@pytest.mark.parametrize("array", [np.arange(19), np.zeros(20, np.int64), np.arange(1, 21)])
def test_from_array_refuses_what_is_not_a_permutation(array):
    with pytest.raises(ValueError, match="expected a permutation of the 20 positions 0..19"):
        PixelPermutation.from_array(array, (4, 5))
