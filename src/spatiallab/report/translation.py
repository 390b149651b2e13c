"""The translation run's report: sample images shifted, accuracy against the shift per model (with intervals and
chance), its tables, and the learning curves."""

from __future__ import annotations

from spatiallab.experiments import lesson
from spatiallab.experiments.translation import DIRECTIONS
from spatiallab.report import curves, grids, page, sections, tables
from spatiallab.runs import RunFolder
from spatiallab.transforms import translate


def opening(record: dict) -> page.Opening:
    largest = record["config"]["max_shift"]
    return page.Opening(
        does=("Each model is trained once per seed on the training images as they are, then tested on copies of the "
              f"test images moved 1 to {largest} pixels down, up, right and left (what leaves the frame is lost, and "
              "the side it leaves is filled with black). The accuracy at each distance is the mean over the four "
              "directions; how far it falls from 0 px measures how much recognition is tied to where things are."),
        predicted=[f"{layer} layers: {claim}." for layer, claim in lesson.TRANSLATION.items()]
        + ["A convolution itself moves its output with its input; the pooling and the layers after it decide how "
           "much of that survives into the prediction, which is what the curve measures."],
        look_first=("The accuracy-vs-shift figure: a flat line means a shift costs the model nothing; compare how "
                    "fast the lines fall, with their shaded intervals. Check first that every line starts (0 px) well "
                    "above the chance line: a model at chance on unshifted images learned nothing, and its flat line "
                    "says nothing about shifts."),
    )  # fmt: skip


NO_VERDICT = ("The results hold no verdict line (no cell finished, or a run made before spatiallab wrote one per "
              "model): read the curve, and check that each model starts above chance.")


def shifted_rows(images, max_shift: int) -> list[tuple[str, object]]:
    """(title, images) rows: the unshifted images, then each direction at the largest shift (zero fill)."""
    rows = [("unshifted", images)]
    if max_shift > 0:
        for direction, (dy, dx) in DIRECTIONS.items():
            rows.append((f"{direction} {max_shift} px", translate(images, dy * max_shift, dx * max_shift)))
    return rows


def build(run: RunFolder, writer) -> page.Page:
    """The page of a translation run (``"kind": "translation"``)."""
    record = run.results
    level = tables.confidence_level(record)
    largest = record["config"]["max_shift"]

    def shifted(dataset, saved):
        images = saved.x[: sections.SHOWN_SAMPLES]
        return grids.image_rows(shifted_rows(images, largest), saved.y, saved.class_names)

    samples = sections.samples(writer, run, shifted,
                               f"Top: test images as the models were trained. Below: the same images moved {largest} "
                               "pixels in each direction, the largest shift tested; pixels pushed out of the frame are "
                               "lost and the emptied side is black.")  # fmt: skip
    blocks = []
    if record.get("curve"):
        figure = curves.translation_curve(record["curve"], record.get("chance"), level)
        blocks.append(writer.add("translation_curve", figure, "test accuracy against the shift, per model",
                                 "Test accuracy after shifting the test images, mean over the four directions and then "
                                 f"over seeds; the band is the {level} t interval over seeds (none with one seed); the "
                                 "dashed line is chance (the largest class's share of the test split)."))  # fmt: skip
    blocks += [page.table(tables.translation_table(record)),
               page.note("Drop: accuracy at 0 px minus at that shift, paired by seed (positive: the shift costs "
                         "accuracy)."),
               page.heading("Every direction"), page.table(tables.direction_table(record))]  # fmt: skip
    return page.Page(
        title="Translation experiment",
        sources="results.json and samples/",
        opening=opening(record),
        no_verdict=NO_VERDICT,
        sections=[
            samples,
            page.Section("curve", "Accuracy against the shift", blocks),
            sections.learning_curves(writer, record),
            sections.parameters(record),
            sections.setup(record, "A cell's test accuracy here is on the unshifted test set."),
        ],
    )  # fmt: skip
