"""The lesson's experiment written the plain way, as a user would without spatiallab: side A of speed_vs_lesson.py.

Usage: python benchmarks/lesson_script.py --data mnist.npz --seeds 0,1,2 --epochs 5
float32, inputs /255, batch 128, Adam (Keras defaults), plain ``model.fit`` then ``model.evaluate``; the keras-io
MNIST convnet and the lesson's 784-128-10 Dense; one fixed permutation for the shuffled condition. Prints one JSON
line per cell: model, condition, seed, test_accuracy, seconds (fit + evaluate).
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--seeds", default="0,1,2")
parser.add_argument("--epochs", type=int, default=5)
args = parser.parse_args()

with np.load(args.data) as mnist:
    x_train, y_train = mnist["x_train"].astype("float32") / 255.0, mnist["y_train"]
    x_test, y_test = mnist["x_test"].astype("float32") / 255.0, mnist["y_test"]
perm = np.random.default_rng(0).permutation(784)
shuffled = {"original": (x_train, x_test),
            "shuffled": (x_train.reshape(-1, 784)[:, perm].reshape(-1, 28, 28),
                         x_test.reshape(-1, 784)[:, perm].reshape(-1, 28, 28))}


def dense():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10)])


def cnn():
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(32, 3, activation="relu"),
                             keras.layers.MaxPooling2D(2), keras.layers.Conv2D(64, 3, activation="relu"),
                             keras.layers.MaxPooling2D(2), keras.layers.Flatten(), keras.layers.Dropout(0.5),
                             keras.layers.Dense(10)])


for condition, (train, test) in shuffled.items():
    for name, build in (("dense", dense), ("cnn", cnn)):
        for seed in [int(s) for s in args.seeds.split(",")]:
            keras.utils.set_random_seed(seed)
            model = build()
            model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
            start = time.perf_counter()
            model.fit(train[..., None], y_train, batch_size=128, epochs=args.epochs, verbose=0)
            accuracy = model.evaluate(test[..., None], y_test, batch_size=128, verbose=0)[1]
            print(json.dumps({"model": name, "condition": condition, "seed": seed, "test_accuracy": accuracy,
                              "seconds": time.perf_counter() - start}), flush=True)
