"""Build the bundled MNIST sample: 1,000 train + 200 test images per class, drawn with a fixed seed.

Usage: python scripts/make_mnist_sample.py [PATH/TO/mnist.npz]
Writes src/spatiallab/data/sample/mnist_sample.npz (compressed, Keras layout, uint8). The source is a full MNIST
mnist.npz in Keras's layout (the README's Data section says which copy the bundled sample was drawn from);
MNIST is CC BY-SA 3.0.
"""

import sys
from pathlib import Path

import numpy as np

SEED = 20261130
TRAIN_PER_CLASS = 1000
TEST_PER_CLASS = 200
ROOT = Path(__file__).resolve().parents[1]


def stratified_indices(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """``per_class`` indices of each class, drawn without replacement, then shuffled together."""
    chosen = [rng.choice(np.flatnonzero(labels == label), per_class, replace=False) for label in range(10)]
    return rng.permutation(np.concatenate(chosen))


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "mnist.npz"
    rng = np.random.default_rng(SEED)
    with np.load(source, allow_pickle=False) as full:
        train = stratified_indices(full["y_train"], TRAIN_PER_CLASS, rng)
        test = stratified_indices(full["y_test"], TEST_PER_CLASS, rng)
        arrays = {
            "x_train": full["x_train"][train],
            "y_train": full["y_train"][train],
            "x_test": full["x_test"][test],
            "y_test": full["y_test"][test],
        }
    target = ROOT / "src" / "spatiallab" / "data" / "sample" / "mnist_sample.npz"
    temporary = target.with_name(".mnist_sample.tmp.npz")
    np.savez_compressed(temporary, **arrays)
    temporary.replace(target)
    print(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB) from {source}, seed {SEED}")


if __name__ == "__main__":
    main()
