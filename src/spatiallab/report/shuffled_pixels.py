"""The shuffled-pixels run's report: samples under the permutation, accuracy, spatial reliance (with the published
numbers: the lesson's for MNIST, MNIST-1D's README's), learning curves and what each model's first layer learned.
Sequence runs (MNIST-1D, byte sequences) say sequences and positions where image runs say images and pixels
(``sections.terms``)."""

from __future__ import annotations

import numpy as np

from spatiallab.experiments import lesson
from spatiallab.report import grids, page, plots, sections, tables, weights
from spatiallab.runs import RunFolder

WEIGHTS_SHOWN = 16  # at most this many hidden units, classes or filters drawn per model and condition
SHOWN_AS = {"hidden unit": "first-layer weights of hidden units", "class": "weights of classes (its only layer)",
            "filter": "first convolution's filters"}  # what a weights figure's title calls its images


def _conditions(record: dict) -> list[str]:
    """The conditions the run trained on (runs made before ``--conditions``: both)."""
    return record["config"].get("conditions", ["original", "shuffled"])


def opening(record: dict) -> page.Opening:
    """What the run does, what the lesson (and MNIST-1D's README) predicted for its models, and where to look first."""
    datasets, models = record["config"]["datasets"], record["config"]["models"]
    words = sections.terms(record)
    predicted = [f"{model}: {lesson.SHUFFLED_PIXELS[model][0]} on original MNIST, {lesson.SHUFFLED_PIXELS[model][1]} "
                 "with the pixels shuffled." for model in models if model in lesson.SHUFFLED_PIXELS]
    in_readme = [dataset for dataset in datasets if lesson.claim_source(dataset) == "MNIST-1D README"]
    predicted += [f"{model} on {dataset}: {claim} (original -> shuffled positions; MNIST-1D's README)."
                  for dataset in in_readme for model in models
                  if (claim := lesson.shuffled_pixels_claim(dataset, model)) != "-"]  # fmt: skip
    predicted.append(f"Why: a Dense layer treats the {words.positions} as an unordered list, so a fixed shuffle "
                     f"changes nothing it can use; a convolution looks at neighbouring {words.positions}, and "
                     "shuffling destroys neighbourhoods.")  # fmt: skip
    if not any(lesson.applies_to(dataset) for dataset in datasets):
        source = " (the numbers above are from MNIST-1D's own README)" if in_readme else ""
        predicted.append(f"The lesson's numbers are for MNIST; it gave none for {', '.join(datasets)}{source}.")
    published = "the lesson's" if lesson.claim_sources(datasets) == ["lesson"] else "the published"
    conditions = _conditions(record)
    only = ("" if len(conditions) == 2 else f" This run trained on {conditions[0]} {words.positions} only "
            f"(--conditions {conditions[0]}): the comparison below needs both conditions, so it has no reliance to "
            "show; run again with both.")  # fmt: skip
    return page.Opening(
        does=(f"Every model is trained twice on the same {words.examples}: once as they are, and once with one fixed "
              f"random permutation applied to every {words.example}'s {words.positions} (the same for training and "
              f"test, for every model and seed). The shuffle loses no information, only where each {words.position} "
              f"sits, so the accuracy lost to it measures how much a model relies on {words.layout}.{only}"),
        predicted=predicted,
        look_first=("The spatial-reliance figure: a point at 0 means shuffling cost the model nothing, one far to the "
                    f"right that it depends on {words.layout}; its bar is the interval over seeds, and the table "
                    f"beside it puts {published} numbers next to ours. Then check in the accuracy figure that every "
                    f"model stands well above the chance line on original {words.positions}."),
    )  # fmt: skip


def _shown_as(keras_model) -> str | None:
    """What each drawn weight image is (a ``SHOWN_AS`` key): a "hidden unit" of a first Dense layer with layers after
    it, a "class" of a Dense layer that is the model's only one (linear), a Conv2D "filter"; None: nothing drawn."""
    kind = weights.first_layer_kind(keras_model)
    if kind == "dense":
        return "class" if weights.feeds_the_output(keras_model) else "hidden unit"
    return "filter" if kind == "conv" else None


def _learned_panels(run: RunFolder, dataset: str, model: str) -> tuple[str, int, dict] | None:
    """(``SHOWN_AS`` key, how many are drawn, {title: images}) for a model's first layer under each condition; None
    without models."""
    panels, shown_as, drawn = {}, None, 0
    for condition in ("original", "shuffled"):
        keras_model = run.load_model(dataset, model, condition)
        if keras_model is None:
            continue
        shown_as = shown_as or _shown_as(keras_model)
        if shown_as in ("hidden unit", "class"):
            permutation = run.permutation(dataset) if condition == "shuffled" else None
            positions = sections.terms(run.results, dataset).positions
            shuffled_title = f"trained on shuffled {positions}, inverse permutation applied"
            title = shuffled_title if permutation else "trained on original"
            images = weights.dense_weight_images(keras_model, run.input_shape(dataset), permutation)
            drawn = min(WEIGHTS_SHOWN, len(images))
            # sequences: one image of the first units' weights, a row (L positions) per unit
            panels[title] = images[np.newaxis, :WEIGHTS_SHOWN] if images.ndim == 3 else images
        elif shown_as == "filter":
            filters = weights.conv_filters(keras_model)
            drawn = min(WEIGHTS_SHOWN, len(filters))
            panels[f"trained on {condition} pixels"] = filters
    return (shown_as, drawn, panels) if panels and shown_as else None


def _dense_caption(shown_as: str, words: sections.Terms) -> str:
    """What a Dense layer's weights figure shows: a row per unit of sequences, an image per unit of images."""
    each, order = ("Each row", ", left to right") if words.example == "sequence" else ("Each image", "")
    whose, why = (("one class's", f": the model's only layer maps the {words.positions} straight to the class logits, "
                   "so it has no hidden units") if shown_as == "class" else ("one hidden unit's", ""))  # fmt: skip
    return (f"{each} is {whose} weights over the input {words.positions}{order} (red positive, blue negative){why}. "
            f"The shuffled model's weights are put back in {words.example} order with the inverse permutation: they "
            f"look alike because a Dense layer treats the {words.positions} as an unordered list either way.")


def _learned(writer, run: RunFolder) -> page.Section:
    blocks = []
    for dataset in run.datasets:
        for model in run.models(dataset):
            learned = _learned_panels(run, dataset, model)
            if learned is None:
                continue
            shown_as, drawn, panels = learned
            alt = f"{model} on {dataset}: {SHOWN_AS[shown_as]} 0-{drawn - 1}"
            if shown_as == "filter":
                caption = ("Each image is one filter's weights (red positive, blue negative; colour filters min-max "
                           "scaled). On shuffled pixels a filter's window covers pixels that were not neighbours.")
            else:
                caption = _dense_caption(shown_as, sections.terms(run.results, dataset))
            figure = grids.weight_grid(panels, count=WEIGHTS_SHOWN)
            blocks += [page.heading(alt), writer.add(f"learned_{dataset}_{model}", figure, alt, caption)]
    if not blocks:
        blocks = [page.text("Nothing to draw: this run saved no model whose first layer is Dense or Conv2D.")]
    return page.Section("learned", "What the models learned", blocks)


def _reliance(writer, record: dict, level: str) -> list[page.Block]:
    """The reliance table beside the published numbers, and its figure once a model has both conditions; a run on
    one condition gets one sentence instead (reliance is original minus shuffled accuracy)."""
    words, conditions = sections.terms(record), _conditions(record)
    if len(conditions) < 2:
        return [page.text(f"No spatial reliance: it is the accuracy on original minus that on shuffled "
                          f"{words.positions}, paired by seed, so it needs both conditions, and this run trained on "
                          f"{conditions[0]} {words.positions} only.")]  # fmt: skip
    datasets = record["config"]["datasets"]
    blocks = [page.table(tables.reliance_table(record)),
              page.note(f"\"{lesson.claim_header(datasets)}\": {lesson.claim_note(datasets)}, for comparison; the "
                        "verdict is written from this run's numbers alone.")]  # fmt: skip
    if record["reliance"]:
        blocks.append(writer.add("reliance", plots.reliance_plot(record["reliance"], level),
                                 "spatial reliance per model",
                                 f"Accuracy lost when the {words.positions} are shuffled (original minus shuffled, "
                                 f"paired by seed). Near 0: the model does not use {words.layout}; large: it "
                                 "depends on them."))  # fmt: skip
    return blocks


def build(run: RunFolder, writer) -> page.Page:
    """The page of a shuffled-pixels run (``"kind": "shuffled_pixels"``)."""
    record = run.results
    level = tables.confidence_level(record)

    def triptych(dataset, saved):
        return grids.sample_triptych(saved.x, saved.y, saved.permutation, saved.class_names, sections.SHOWN_SAMPLES)

    words = sections.terms(record)
    samples = sections.samples(writer, run, triptych,
                               f"Top: test {words.examples}. Middle: the same {words.examples} with the run's fixed "
                               f"{words.position} permutation, as the shuffled models saw them. Bottom: shuffled then "
                               "un-shuffled with the saved permutation's inverse, identical to the top row: no "
                               "information is lost.")  # fmt: skip
    accuracy = writer.add("accuracy", plots.accuracy_bars(record["summary"], record.get("chance")),
                          "test accuracy by model and condition",
                          f"Mean test accuracy over seeds; error bars are {level} t intervals (absent with one seed); "
                          "the dashed line is chance (the largest class's share of the test split).")  # fmt: skip
    return page.Page(
        title=f"Shuffled-{words.positions} experiment",
        sources="results.json, samples/ and models/",
        opening=opening(record),
        no_verdict="No model has both conditions yet.",
        sections=[
            samples,
            page.Section("accuracy", "Accuracy", [page.table(tables.accuracy_table(record)), accuracy]),
            page.Section("reliance", "Spatial reliance", _reliance(writer, record, level)),
            sections.learning_curves(writer, record),
            _learned(writer, run),
            sections.parameters(record),
            sections.setup(record),
        ],
    )
