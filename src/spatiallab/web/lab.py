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
from spatiallab.web import binaries, blocks, compare, explore, predict, reflect, views

# The lesson's four models: first on the Try-it tab when the run has them (its other models after them), and the
# four it shows before there is a run.
LESSON_MODELS = (("dense", "original"), ("dense", "shuffled"), ("cnn", "original"), ("cnn", "shuffled"))


def enlarge(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an (H, W[, C]) image by an integer factor, for display (pixels stay square)."""
    return np.repeat(np.repeat(np.asarray(image), factor, axis=0), factor, axis=1)


def model_label(model: str, condition: str) -> str:
    return f"{model}, trained on {condition} pixels"


def holds_images(run: RunFolder, dataset: str) -> bool:
    """Whether the run's ``dataset`` holds images (``RunFolder.data_kind``), not sequences: only images can be drawn,
    uploaded or shown as a grid."""
    return run.data_kind(dataset) == "image"


def _not_shown(run: RunFolder, dataset: str) -> str:
    """Why Explore cannot show ``dataset``'s own examples (grey images, saved with the run)."""
    shape = "x".join(map(str, run.input_shape(dataset)))
    if not holds_images(run, dataset):
        return f"run {run.name} holds {run.data_kind(dataset)}s ({dataset}: {shape} each); the lab's Explore shows images"
    if run.input_shape(dataset)[2] != 1:
        return f"run {run.name}'s images are in colour ({dataset}: {shape}); Explore shows grey grids"
    return f"run {run.name} saved no sample images of {dataset}"


class Lab:
    """What one ``spatiallab lab`` serves.

    Args:
        run_dir: the run whose models answer the Try-it tab (None: that tab explains how to make one).
        runs_root: the folder the Compare tab lists and the quick run writes to.
        explore_images: uint8 (N, H, W) grey images the Explore tab shows when the run has none of its own to show
            (no run, sequences, colour images); the lab serves the bundled sample's test set.
        upload_root: the private folder uploads are stored in (deleted after use; never anything outside it).
        upload_limit: largest accepted upload, in bytes.
        explore_name: the dataset ``explore_images`` come from.

    Explore shows the run's own saved test images (and applies its saved permutation) for the first of its datasets
    that is grey images; otherwise ``explore_images``, and ``explore_note`` says why.
    """

    def __init__(self, run_dir, runs_root, explore_images: np.ndarray, upload_root, upload_limit: int,
                 explore_name: str = "mnist-sample"):  # fmt: skip
        self.run = RunFolder(run_dir) if run_dir is not None else None
        self.runs_root = Path(runs_root)
        self.upload_root = Path(upload_root)
        self.upload_limit = int(upload_limit)
        self.explore_images, self.explore_dataset, self.explore_note = explore_images, explore_name, ""
        self.explore_permutation = PixelPermutation(0, explore_images.shape[1:3])
        shown = [name for name in (self.run.datasets if self.run else []) if holds_images(self.run, name)
                 and self.run.input_shape(name)[2] == 1 and self.run.has_samples(name)]  # fmt: skip
        if shown:
            samples = self.run.samples(shown[0])
            self.explore_images, self.explore_dataset = samples.x[..., 0], shown[0]
            self.explore_permutation = samples.permutation  # the saved array, not a re-draw from the seed
        elif self.run is not None:
            self.explore_note = _not_shown(self.run, self.run.datasets[0])
        self._models: dict[str, predict.TrainedModels] = {}

    @property
    def explore_shape(self) -> tuple[int, int]:
        """(H, W) of the Explore tab's images."""
        return tuple(self.explore_images.shape[1:3])

    # The page -------------------------------------------------------------------------------------------------
    def title(self) -> str:
        """The page's title: the run and its datasets, when there is a run."""
        return f"spatiallab lab: {self.run.name} ({', '.join(self.run.datasets)})" if self.run else "spatiallab lab"

    def heading(self) -> str:
        """The page's heading (markdown): the title, the question, and whose images Explore shows."""
        shown = f"Explore shows test images of {self.explore_dataset}."
        shown += f" Not the run's own: {self.explore_note}." if self.explore_note else ""
        return (f"# {self.title()}\nHow much does a model rely on where the pixels are? Shuffle them and see. "
                f"{shown}")

    # Explore -------------------------------------------------------------------------------------------------
    def explore_image(self, index: int, drawing=None) -> tuple[np.ndarray, str]:
        """(uint8 (H, W) image, what it is): the drawing (converted like the Try-it tab) when it has ink, else
        test image ``index``."""
        if drawing is not None:
            try:
                return predict.to_model_input(drawing, (*self.explore_shape, 1))["image"][..., 0], "your drawing"
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

    def explore_blocks(self, image: np.ndarray, block_size: float) -> dict:
        """``image`` under the scale experiment's two block shuffles at the valid block size nearest ``block_size``.

        Returns:
            {"block_size": k used, "original", "within", "between": Figures (block edges drawn),
             "text": markdown, one line per family on what it destroys and keeps}.
        """
        k = blocks.nearest_block_size(block_size, image.shape)
        shuffled = blocks.shuffle_blocks(image, k)
        lines = blocks.block_lines(k, image.shape)
        return {
            "block_size": k,
            "original": views.block_figure(image, k, f"original, {k}x{k} blocks marked"),
            "within": views.block_figure(shuffled["within"], k, f"shuffled within {k}x{k} blocks"),
            "between": views.block_figure(shuffled["between"], k, f"{k}x{k} blocks moved"),
            "text": f"{lines['within']}\n\n{lines['between']}",
        }

    # Try it --------------------------------------------------------------------------------------------------
    def use_run(self, run_dir: str | os.PathLike) -> None:
        """Answer the Try-it and Reflect tabs with this run from now on (e.g. a quick run trained from the page).
        Explore keeps its images; when they are this run's dataset, it applies this run's saved permutation."""
        self.run = RunFolder(run_dir)
        self._models = {}
        if self.explore_dataset in self.run.datasets and self.run.has_samples(self.explore_dataset):
            self.explore_permutation = self.run.permutation(self.explore_dataset)

    def try_intro(self) -> str:
        """The Try-it section's first line (markdown), naming the run whose models answer."""
        if self.run is None:
            return "No trained models yet: train a quick run above, then draw or upload an image here."
        images = [name for name in self.run.datasets if holds_images(self.run, name)]
        if not images:
            return (f"{_not_shown(self.run, self.run.datasets[0])}, so Try it has nothing to classify; Compare and "
                    "Reflect show its numbers.")
        missing = [model_label(*key) for key in LESSON_MODELS if key not in self.prediction_keys()]
        absent = f" Not in this run, so not shown: {'; '.join(missing)}." if missing else ""
        return (f"Predictions of the models of run **{self.run.name}** ({', '.join(images)}).{absent} Draw a digit "
                f"(white on black, like MNIST) or upload an image (any mode: RGBA, LA, palette, 16-bit). Uploads up "
                f"to {binaries.describe_limit(self.upload_limit)}.")

    def datasets(self) -> list[str]:
        """Datasets the Try-it tab offers: the run's image datasets (all of its datasets when none is images), or
        the quick run's before there is a run."""
        if self.run is None:
            return ["mnist-sample"]
        return [name for name in self.run.datasets if holds_images(self.run, name)] or self.run.datasets

    def prediction_keys(self) -> list[tuple[str, str]]:
        """(model, condition) pairs shown on the Try-it tab, one panel each: the run's own, the lesson's four first
        (in ``LESSON_MODELS`` order), then its other models; without a run, the lesson's four, which a quick run
        trains. A pair the run lacks gets no panel (``try_intro`` names the lesson's missing ones)."""
        if self.run is None:
            return list(LESSON_MODELS)
        finished = {(cell["model"], cell["condition"]) for cell in self.run.results["cells"]}
        configured = [(model, condition) for model in self.run.config["models"]
                      for condition in self.run.config["conditions"]]  # fmt: skip
        return [key for key in dict.fromkeys([*LESSON_MODELS, *configured]) if key in finished]

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
            return {**empty, "message": "No trained models yet: train a quick run on the Build tab, then try again."}
        if image is None:
            return {**empty, "message": "Nothing to classify: draw a digit or upload an image first."}
        if not holds_images(self.run, dataset):
            return {**empty, "message": f"Nothing to classify: {_not_shown(self.run, dataset)}."}
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

    # Reflect -------------------------------------------------------------------------------------------------
    def reflect(self) -> dict:
        """The Reflect tab's answer, from the lab's run and the newest scale run under ``runs_root``.

        Returns:
            {"answer": markdown (``reflect.measured_answer``, or how to get a run), "scale": markdown,
             "scale_figure": Figure of the scale curve, or None without a scale run}.
        """
        if self.run is None:
            answer = "No run yet to answer from: train a quick run on the Build tab, then press the button again."
        else:
            answer = reflect.measured_answer(self.run.results, self.run.name)
        datasets = self.run.datasets if self.run else [self.explore_dataset]
        scale_run = reflect.find_scale_run(self.runs_root, datasets)
        shown = {"answer": f"{reflect.LESSON_ANSWER}\n\n{answer}", "scale_figure": None}
        if scale_run is None:
            folder = f"{self.runs_root}/"
            return {**shown, "scale": f"No scale run in {folder} yet: `spatiallab scale --out {folder}scale` makes "
                                      "one, and this tab then shows at which block size each model starts to lose "
                                      "accuracy."}  # fmt: skip
        if scale_run.results.get("curve"):
            shown["scale_figure"] = views.scale_curve_figure(scale_run.results)
        return {**shown, "scale": reflect.scale_answer(scale_run, datasets)}

    # Compare -------------------------------------------------------------------------------------------------
    def run_choices(self) -> list[tuple[str, str]]:
        """Runs under ``runs_root`` plus the lab's own run when it lives elsewhere."""
        choices = compare.run_choices(self.runs_root)
        if self.run is not None and str(self.run.path) not in {path for _, path in choices}:
            choices.insert(0, (self.run.name, str(self.run.path)))
        return choices

    def run_picker(self, preferred: str | None = None) -> tuple[list[tuple[str, str]], str | None]:
        """The Compare tab's list read from the runs folder now (``run_choices``) and the path it shows:
        ``preferred`` while it is listed (a refresh keeps the visitor's pick, a quick run names its own), else the
        first listed (the lab's run, or the newest), None when the list is empty."""
        choices = self.run_choices()
        paths = [path for _, path in choices]
        return choices, preferred if preferred in paths else (paths[0] if paths else None)


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
