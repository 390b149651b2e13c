"""The lab's state and the work behind each tab, without any web framework: ``app.py`` only wires these to widgets.

Every method takes plain values (numbers, strings, Pillow images, file paths) and returns plain values
(NumPy images, matplotlib Figures, markdown text, dicts of probabilities), so each can be tested directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spatiallab.runs import RunFolder
from spatiallab.transforms import PixelPermutation
from spatiallab.web import binaries, compare, explore, predict, views

EXPLORE_SHAPE = (28, 28)
# The lesson's four models, always given a place on the Try-it tab (other models of the run are added after them).
LESSON_MODELS = (("dense", "original"), ("dense", "shuffled"), ("cnn", "original"), ("cnn", "shuffled"))


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an (H, W[, C]) image by an integer factor, for display (pixels stay square)."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def model_label(model: str, condition: str) -> str:
    return f"{model}, trained on {condition} pixels"


class Lab:
    """What one ``spatiallab lab`` serves.

    Args:
        run_dir: the run whose models answer the Try-it tab (None: that tab explains how to make one).
        runs_root: the folder the Compare tab lists and the quick run writes to.
        explore_images: uint8 (N, 28, 28) images to pick from on the Explore tab (the bundled sample's test set).
        upload_root: the private folder uploads are stored in (deleted after use; never anything outside it).
        upload_limit: largest accepted upload, in bytes.
    """

    def __init__(self, run_dir, runs_root, explore_images: np.ndarray, upload_root, upload_limit: int):
        self.run = RunFolder(run_dir) if run_dir is not None else None
        self.runs_root = Path(runs_root)
        self.explore_images = explore_images
        self.upload_root = Path(upload_root)
        self.upload_limit = int(upload_limit)
        self.explore_permutation = PixelPermutation(0, EXPLORE_SHAPE)
        dataset = self.run.datasets[0] if self.run else None
        if dataset and self.run.image_shape(dataset)[:2] == EXPLORE_SHAPE and self.run.has_samples(dataset):
            self.explore_permutation = self.run.permutation(dataset)  # the saved array, not a re-draw from the seed
        self._models: dict[str, predict.TrainedModels] = {}

    # Explore -------------------------------------------------------------------------------------------------
    def explore_image(self, index: int, drawing=None) -> tuple[np.ndarray, str]:
        """(uint8 (28, 28) image, what it is): the drawing (converted like the Try-it tab) when it has ink, else
        test image ``index``."""
        if drawing is not None:
            try:
                return predict.to_model_input(drawing, (*EXPLORE_SHAPE, 1))["image"][..., 0], "your drawing"
            except predict.BlankImageError:
                pass
        index = int(index) % len(self.explore_images)
        return self.explore_images[index], f"test image {index}"

    def explore(
        self, image: np.ndarray, kernel_choice: str, custom_kernel: str, row: int, column: int, source: str = "image"
    ) -> dict:
        """The Explore tab's views of ``image`` (named ``source``) under one 3x3 filter at feature-map position
        (row, column).

        Returns:
            {"grid", "vector", "shuffled", "feature_maps": Figures, "arithmetic": markdown,
             "field_in_shuffled": [(row, column)] where the window's 9 pixels land in the shuffled image}.

        Raises:
            ValueError: a bad custom kernel or a position outside the feature map.
        """
        kernel = explore.kernel_for(kernel_choice, custom_kernel)
        field = explore.receptive_field(image, kernel, int(row), int(column))
        window = (field["rows"], field["columns"])
        shuffled = self.explore_permutation(image[np.newaxis])[0]
        inverse = self.explore_permutation.inverse_
        moved = [divmod(int(inverse[r * image.shape[1] + c]), image.shape[1])
                 for r in range(field["rows"][0], field["rows"][1] + 1)
                 for c in range(field["columns"][0], field["columns"][1] + 1)]  # fmt: skip
        maps = (explore.correlate_valid(image, kernel), explore.correlate_valid(shuffled, kernel))
        return {
            "grid": views.grid_figure(image, window),
            "vector": views.vector_figure(image, window),
            "shuffled": views.shuffled_figure(shuffled, moved),
            "feature_maps": views.feature_maps_figure(*maps, (int(row), int(column))),
            "arithmetic": f"**{source.capitalize()}.** " + _arithmetic_markdown(field, kernel, int(row), int(column)),
            "field_in_shuffled": moved,
        }

    @staticmethod
    def parameter_markdown(units: int, filters: int, kernel_size: int) -> str:
        """The live Dense vs Conv2D parameter count on a 28x28x1 image, with the formulas."""
        counts = explore.parameter_counts(int(units), int(filters), int(kernel_size))
        k, output = int(kernel_size), counts["conv_output"]
        return (
            f"**Dense({units})** on the flat {counts['inputs']}-vector: {counts['inputs']} x {units} weights + "
            f"{units} biases = **{counts['dense']:,}** parameters\n\n"
            f"**Conv2D({filters}, {k}x{k})** on the 28x28x1 grid: {k} x {k} x 1 x {filters} weights + {filters} "
            f"biases = **{counts['conv']:,}** parameters (output {output[0]}x{output[1]}x{output[2]})\n\n"
            f"Dense has **{counts['ratio']:,.1f}x** as many: a filter's weights are shared by every position."
        )

    # Try it --------------------------------------------------------------------------------------------------
    def use_run(self, run_dir: str | os.PathLike) -> None:
        """Answer the Try-it tab with this run's models from now on (e.g. a quick run trained from the page)."""
        self.run = RunFolder(run_dir)
        self._models = {}

    def datasets(self) -> list[str]:
        """Datasets the Try-it tab offers: the run's, or the quick run's before there is a run."""
        return self.run.datasets if self.run else ["mnist-sample"]

    def prediction_keys(self) -> list[tuple[str, str]]:
        """(model, condition) pairs shown on the Try-it tab: the lesson's four, then the run's other models."""
        keys = list(LESSON_MODELS)
        if self.run is not None:
            for dataset in self.run.datasets:
                for model in self.run.models(dataset):
                    keys += [(model, c) for c in self.run.results["config"]["conditions"] if (model, c) not in keys]
        return keys

    def trained_models(self, dataset: str) -> predict.TrainedModels:
        """The run's models on ``dataset`` (loaded once, then cached)."""
        if dataset not in self._models:
            self._models[dataset] = predict.TrainedModels.from_run(self.run, dataset)
        return self._models[dataset]

    def classify(self, image, dataset: str, centre: bool = True) -> dict:
        """Predictions of every trained model for a drawn or uploaded image.

        Returns:
            {"message": markdown, "input": uint8 display image or None, "shuffled_input": likewise,
             "predictions": {label: {class name: probability}}}; a blank drawing gives a message and no predictions.
        """
        empty = {"input": None, "shuffled_input": None, "predictions": {}}
        if self.run is None:
            return {**empty, "message": "No trained models yet: train a quick run on the Compare tab, then try again."}
        if image is None:
            return {**empty, "message": "Nothing to classify: draw a digit or upload an image first."}
        trained = self.trained_models(dataset)
        try:
            converted = predict.to_model_input(image, trained.image_shape, centre=centre)
        except predict.BlankImageError as error:
            return {**empty, "message": f"Nothing to classify: {error}."}
        except ValueError as error:
            return {**empty, "message": f"This image cannot be used: {error}."}
        if not trained.models:
            return {**empty, "message": f"This run saved no models for {dataset}."}
        probabilities = trained.predict(converted["image"])
        notes = [f"Converted to {'x'.join(map(str, trained.image_shape))} as the loaders do"]
        notes += ["inverted (dark ink on a light background)"] * converted["inverted"]
        notes += ["centred like MNIST"] * converted["centred"]
        factor = max(1, 168 // trained.image_shape[0])
        shown = converted["image"][..., 0] if trained.image_shape[2] == 1 else converted["image"]
        return {
            "message": "; ".join(notes) + ". The shuffled models get the permuted image, as in training.",
            "input": enlarge(shown, factor),
            "shuffled_input": enlarge(trained.permutation(shown[np.newaxis])[0], factor),
            "predictions": {
                model_label(*key): dict(zip(trained.class_names, map(float, values)))
                for key, values in probabilities.items()
            },
        }

    # Binaries ------------------------------------------------------------------------------------------------
    def byte_plot(self, upload_path: str | os.PathLike | None) -> tuple[str, np.ndarray | None]:
        """(message, rendered byte plot or None) for an upload, which is deleted afterwards in every case."""
        if upload_path is None:
            return "Upload a file to see its byte plot.", None
        try:
            drawn = binaries.byte_plot_with_sections(upload_path, self.upload_limit)
        except binaries.UploadTooLargeError as error:
            return f"**Refused:** {error}.", None
        except (OSError, ValueError) as error:
            return f"**Cannot read this file:** {error}", None
        finally:
            binaries.discard_upload(upload_path, self.upload_root)
        described = drawn["format"] or "not an executable"
        rows, width = drawn["plot_shape"]
        note = f" ({drawn['note']})" if drawn["note"] else ""
        return (
            f"Read {drawn['size']:,} bytes: {rows} rows of {width} bytes; {described}, {drawn['regions']} regions"
            f"{note}. The uploaded copy has been deleted.",
            drawn["figure"],
        )

    # Compare -------------------------------------------------------------------------------------------------
    def run_choices(self) -> list[tuple[str, str]]:
        """Runs under ``runs_root`` plus the lab's own run when it lives elsewhere."""
        choices = compare.run_choices(self.runs_root)
        if self.run is not None and str(self.run.path) not in {path for _, path in choices}:
            choices.insert(0, (self.run.name, str(self.run.path)))
        return choices


def _arithmetic_markdown(field: dict, kernel: np.ndarray, row: int, column: int) -> str:
    def term(value: float, weight: float) -> str:
        return f"{value:g} × {weight:g}" if weight >= 0 else f"{value:g} × ({weight:g})"

    lines = [" + ".join(term(p, k) for p, k in zip(patch_row, kernel_row))
             for patch_row, kernel_row in zip(field["patch"], kernel)]  # fmt: skip
    (top, bottom), (left, right) = field["rows"], field["columns"]
    return (
        f"Feature map ({row}, {column}) looks at input rows {top}-{bottom}, columns {left}-{right}: "
        f"pixel × filter weight, summed\n\n" + "\n".join(f"    {line}" for line in lines)
        + f"\n\n= **{field['value']:g}**"
    )
