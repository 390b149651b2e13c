"""The Try-it tab: turn a drawn or uploaded image into a model input, and ask every trained model of a run.

Drawings (``drawing_image``) and uploads (``read_upload``) become Pillow images first; an upload is deleted as soon
as it is read, like the Binaries tab's.

Conversion (``to_model_input``): the ``folder`` loader's channel rule (``spatiallab.data.folders.to_array``: 16-bit
to 8-bit, transparency composited onto black, then luma or RGB), so an uploaded file becomes what the loaders would
have made of it. Two steps follow for greyscale datasets, both shown on the page:
    invert: MNIST-style data are light ink on a black background; an image whose border is mostly light (dark ink on
        paper) is inverted (255 - v).
    centre like MNIST: the ink's bounding box is scaled to fit a 20x20 box (aspect kept) and placed in the 28x28
        frame so that its centre of mass is at the centre -- the normalisation LeCun, Cortes and Burges describe
        for MNIST (http://yann.lecun.com/exdb/mnist/). Scaled to other sizes as 20/28 of the side.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
from PIL import Image, ImageOps

from spatiallab.data.folders import to_array
from spatiallab.transforms import PixelPermutation, to_float
from spatiallab.web import binaries

INK_LEVEL = 32  # a grey level above this counts as ink (after inversion) for blank checks and bounding boxes
MIN_INK_PIXELS = 4  # fewer ink pixels than this in the model input: a blank drawing
MNIST_BOX = 20 / 28  # share of the side the digit's bounding box is scaled to


class BlankImageError(ValueError):
    """The image has no ink to classify (an empty drawing, or a uniform picture)."""


def border_is_light(grey: np.ndarray) -> bool:
    """True when the mean of the outermost rows and columns of a uint8 (H, W) image is above mid-grey (127.5)."""
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    return float(border.mean()) > 127.5


def centre_like_mnist(grey: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale the ink's bounding box into a ``MNIST_BOX`` share of ``size`` and centre it by its centre of mass.

    Args:
        grey: uint8 (H, W), light ink on dark background.
        size: (H, W) of the output.

    Returns:
        uint8 (size).

    Raises:
        BlankImageError: no pixel above ``INK_LEVEL``.
    """
    rows, columns = np.nonzero(grey > INK_LEVEL)
    if rows.size == 0:
        raise BlankImageError("the image has no ink (no pixel brighter than the background)")
    crop = grey[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    box = (MNIST_BOX * size[0], MNIST_BOX * size[1])
    scale = min(box[0] / crop.shape[0], box[1] / crop.shape[1])
    new_height, new_width = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    scaled = np.asarray(Image.fromarray(crop).resize((new_width, new_height), Image.Resampling.LANCZOS))
    weights = scaled.astype(np.float64)
    centre = np.array([(weights.sum(1) * np.arange(new_height)).sum(), (weights.sum(0) * np.arange(new_width)).sum()])
    centre /= max(weights.sum(), 1e-9)
    top = int(np.clip(round((size[0] - 1) / 2 - centre[0]), 0, size[0] - new_height))
    left = int(np.clip(round((size[1] - 1) / 2 - centre[1]), 0, size[1] - new_width))
    out = np.zeros(size, dtype=np.uint8)
    out[top : top + new_height, left : left + new_width] = scaled
    return out


def read_upload(path: str | os.PathLike, upload_root: str | os.PathLike) -> Image.Image:
    """An uploaded image file read into memory (EXIF orientation applied), then the upload deleted whether it could
    be read or not (``binaries.discard_upload``: only inside ``upload_root``).

    Raises:
        OSError: not an image Pillow can read (``PIL.UnidentifiedImageError`` is one).
    """
    try:
        with Image.open(path) as opened:
            return ImageOps.exif_transpose(opened)  # a loaded copy, turned upright
    finally:
        binaries.discard_upload(path, upload_root)


def _as_image(item) -> Image.Image | None:
    """One image of a drawing pad's value, whichever ``type`` the component was given (pil, numpy, filepath)."""
    if item is None or isinstance(item, Image.Image):
        return item
    if isinstance(item, np.ndarray):
        return Image.fromarray(item[..., 0] if item.ndim == 3 and item.shape[2] == 1 else item)
    if isinstance(item, (str, os.PathLike)):
        with Image.open(item) as opened:
            opened.load()
            return opened.copy()
    raise ValueError(f"expected a drawing as a Pillow image, an array or a file path; got {type(item).__name__}")


def _flatten(background: Image.Image | None, layers: list[Image.Image]) -> Image.Image | None:
    """The layers composited in order over the background (or over a transparent canvas of the first layer's size)."""
    if background is None and not layers:
        return None
    size = (background or layers[0]).size
    canvas = Image.new("RGBA", size, (0, 0, 0, 0))
    for image in ([background] if background is not None else []) + layers:
        canvas.alpha_composite(image.convert("RGBA").crop((0, 0, *size)))  # crop pads a smaller layer with clear
    return canvas


def drawing_image(value) -> Image.Image | None:
    """The picture on a drawing pad, ready for ``to_model_input``; None when the pad holds nothing.

    Args:
        value: a Gradio Sketchpad / ImageEditor value, ``{"background", "layers", "composite"}``, each a Pillow image,
            a NumPy array or a file path (the component's ``type``), any of them None or empty; or a plain image.

    The composite is used when there is one, else the layers are composited over the background. A canvas with no
    paper (transparent where nothing is drawn: no background, or a clear one) is read by its opacity: the strokes are
    the ink whatever their colour, so black strokes on a clear layer count as much as white ones (composited onto
    black, as an upload's transparency is, they would vanish). An opaque canvas is returned as it is, to be read by
    its grey levels: white on black as MNIST, black on white inverted by ``to_model_input``.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        picture = _as_image(value)
    else:
        picture = _as_image(value.get("composite"))
        if picture is None:
            layers = [_as_image(layer) for layer in value.get("layers") or []]
            picture = _flatten(_as_image(value.get("background")), [layer for layer in layers if layer is not None])
    if picture is None or not ("A" in picture.getbands() or "transparency" in picture.info):
        return picture
    opacity = picture.convert("RGBA").getchannel("A")
    return picture if opacity.getextrema()[0] == 255 else opacity


def to_model_input(image: Image.Image | np.ndarray, image_shape: tuple[int, int, int], centre: bool = True) -> dict:
    """A drawn or uploaded image (any Pillow mode) as one model input of ``image_shape``.

    Args:
        image: a Pillow image (RGBA, LA, P, I;16, ...) or a uint8 array (H, W[, C]).
        image_shape: (H, W, C) the models expect.
        centre: for greyscale inputs, scale and centre the ink like MNIST (see the module docstring).

    Returns:
        {"image": uint8 (H, W, C), "inverted": bool, "centred": bool}.

    Raises:
        BlankImageError: no ink (a blank drawing). ValueError: an image mode the loaders refuse (float "F").
    """
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image)
    height, width, channels = image_shape
    if channels != 1:
        return {"image": to_array(image, channels, (height, width)), "inverted": False, "centred": False}
    grey = to_array(image, 1)[..., 0]
    inverted = border_is_light(grey)
    if inverted:
        grey = 255 - grey
    if centre:
        grey = centre_like_mnist(grey, (height, width))
    else:
        grey = to_array(Image.fromarray(grey), 1, (height, width))[..., 0]
    if np.count_nonzero(grey > INK_LEVEL) < MIN_INK_PIXELS:
        raise BlankImageError("the image is blank: draw or upload a digit")
    return {"image": grey[..., np.newaxis], "inverted": inverted, "centred": centre}


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of float logits (N, K) -> probabilities (N, K), each row summing to 1."""
    shifted = np.asarray(logits, dtype=np.float64) - np.max(logits, axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


@dataclasses.dataclass
class TrainedModels:
    """The run's trained models on one dataset (lowest seed), keyed by (model, condition).

    Attributes:
        models: {(model name, condition): keras.Model}.
        permutation: the run's pixel permutation; models of the "shuffled" condition receive ``permutation(x)``,
            exactly as in training.
        class_names: one name per class index.
        image_shape: (H, W, C) of the inputs.
    """

    models: dict
    permutation: PixelPermutation
    class_names: list[str]
    image_shape: tuple[int, int, int]

    @classmethod
    def from_run(cls, run, dataset: str) -> "TrainedModels":
        """Load every saved (model, condition) of ``dataset`` from a ``RunFolder``; {} when none was saved."""
        loaded = {}
        for model in run.models(dataset):
            for condition in run.results["config"]["conditions"]:
                keras_model = run.load_model(dataset, model, condition)
                if keras_model is not None:
                    loaded[(model, condition)] = keras_model
        names = run.results["datasets"][dataset]["class_names"]
        return cls(loaded, run.permutation(dataset), list(names), run.image_shape(dataset))

    def predict(self, image: np.ndarray) -> dict[tuple[str, str], np.ndarray]:
        """Class probabilities of every model for one uint8 (H, W, C) image.

        Returns:
            {(model, condition): float64 (num_classes,) probabilities summing to 1}.

        Raises:
            ValueError: the image's shape is not ``image_shape``.
        """
        image = np.asarray(image)
        if image.shape != tuple(self.image_shape):
            raise ValueError(f"expected an image of shape {tuple(self.image_shape)}; got {image.shape}")
        batch = image[np.newaxis]
        inputs = {"original": to_float(batch), "shuffled": to_float(self.permutation(batch))}
        return {
            key: softmax(np.asarray(model(inputs[key[1]], training=False)))[0] for key, model in self.models.items()
        }
