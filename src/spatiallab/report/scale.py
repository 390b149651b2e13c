"""The scale run's report: sample images under each saved block permutation, accuracy against the block size with
both families per model (the endpoints marked), the tables and the flatness check. Sequence runs (MNIST-1D) say
sequences, positions and blocks of k positions where image runs say images, pixels and k x k blocks
(``sections.terms``)."""

from __future__ import annotations

from spatiallab import stats
from spatiallab.experiments import lesson
from spatiallab.experiments import scale as experiment
from spatiallab.report import curves, grids, page, sections, tables
from spatiallab.runs import RunFolder


def _published(record: dict) -> tuple[str, str]:
    """Who measured the two endpoints before and what they found for the run's models: the MNIST-1D README's
    numbers on mnist1d (``lesson.shuffled_pixels_claim``), the lesson's MNIST numbers on any other data."""
    dataset, names = record["dataset"]["name"], record["config"]["models"]
    if lesson.claim_source(dataset) == "MNIST-1D README":
        claims = [f"{model} {claim}" for model in names
                  if (claim := lesson.shuffled_pixels_claim(dataset, model)) != "-"]  # fmt: skip
        return "MNIST-1D's README", f": {'; '.join(claims)}." if claims else "."
    claims = [f"{model} {lesson.SHUFFLED_PIXELS[model][0]} -> {lesson.SHUFFLED_PIXELS[model][1]}"
              for model in names if model in lesson.SHUFFLED_PIXELS]  # fmt: skip
    return "The lesson", f": on MNIST {'; '.join(claims)}." if claims else "."


def opening(record: dict) -> page.Opening:
    words = sections.terms(record)
    source, claims = _published(record)
    return page.Opening(
        does=(f"Two families of fixed {words.position} permutations fill the scales between the lesson's two "
              f"conditions. \"within k\" shuffles the {words.positions} inside every {words.block}: detail finer "
              f"than k is destroyed, the layout of the blocks is kept. \"between k\" moves whole {words.blocks}: the "
              "layout above k is destroyed, the detail inside each block is kept. Every model is trained and tested "
              f"under each permutation (the same one for training and test) and on the original {words.examples}."),
        predicted=[
            f"{source} tested only the endpoints: the original {words.examples}, and the full shuffle (within k = "
            f"the {words.extent}, or between k = 1){claims}",
            "It said nothing of the scales between them. One thing follows without it: every condition is a "
            f"permutation of the {words.positions}, so a model that flattens its input first (Dense) must give flat "
            "curves; one that moves is a bug in spatiallab, not a finding.",
        ],
        look_first=("The accuracy-vs-block-size figure, one panel per model: read the within line from k = 1 "
                    "rightward (where it starts to fall is the finest detail the model needs) and the between line "
                    f"from the {words.extent} leftward (where it starts to fall is the largest layout it needs). A "
                    "position-blind model's lines must stay flat; the flatness table checks it."),
    )  # fmt: skip


def no_verdict(record: dict) -> str:
    """What the verdict says before any model has a verdict line (the report's and the terminal's words)."""
    return (f"No model has finished cells on the original {sections.terms(record).examples} and a permuted one "
            "yet.")


def _permutations(run: RunFolder, record: dict) -> dict:
    """The saved permutation of every condition, by name (``permutations/<dataset>.npz``), in the run's order."""
    saved = record["permutations"]
    permuted = experiment.conditions(record["config"]["families"], record["config"]["block_sizes"],
                                     tuple(saved["image_shape"]))[1:]  # fmt: skip
    return experiment.read_permutations(run.path / saved["file"], permuted, tuple(saved["image_shape"]),
                                        saved["seed"])  # fmt: skip


def drop_note(record: dict) -> str:
    """What the table's drop and status mean, and the level of each interval: the accuracy's at the run's
    confidence, the drop's at the curve's Bonferroni level (``experiment.drop_level``), or at the run's confidence
    in a run written before that level was recorded."""
    level = tables.confidence_level(record)
    if "drop_confidence" in record:
        drop_level = (f"{stats.confidence_label(record['drop_confidence'])} interval: Bonferroni for {level} over "
                      "the permuted conditions of a model's curve, as the verdict and the flatness check read them "
                      "all at once")  # fmt: skip
    else:
        drop_level = f"{level} interval (a run written before the drops' Bonferroni level was recorded)"
    return (f"Accuracy: {level} t interval over seeds. Drop: accuracy on the original {sections.terms(record).examples}"
            f" minus under the permutation, paired by seed, with its {drop_level}; status "
            "\"drop\" or \"gain\" when that interval excludes 0, \"none\" when it holds 0, \"unknown\" without an "
            "interval.")


def build(run: RunFolder, writer) -> page.Page:
    """The page of a scale run (``"kind": "scale"``).

    Raises:
        DataFormatError: the saved permutations are not those the results name.
    """
    record = run.results
    level, words = tables.confidence_level(record), sections.terms(record)
    image_shape = tuple(record["permutations"]["image_shape"])
    try:
        permutations = _permutations(run, record)
    except FileNotFoundError:
        permutations = None

    def permuted(dataset, saved):
        images = saved.x[: sections.SHOWN_SAMPLES]
        rows = [("original", images)] + [(name, permutation(images)) for name, permutation in permutations.items()]
        return grids.example_rows(rows, saved.y, saved.class_names)

    if permutations is None:
        samples = page.Section("samples", f"Sample {words.examples}", [page.text(
            f"The run's permutations ({record['permutations']['file']}) are missing, so no sample is drawn.")])
    else:
        samples = sections.samples(writer, run, permuted,
                                   f"Test {words.examples} (top row) under each of the run's permutations, drawn "
                                   "with the arrays saved in the run folder, which are the ones the models were "
                                   "trained and tested with.")  # fmt: skip
    blocks = []
    if record.get("summary"):
        figure = curves.scale_curves(record.get("curve", []), record["summary"], image_shape, record.get("chance"),
                                     level, words)  # fmt: skip
        blocks.append(writer.add("scale_curves", figure, "test accuracy against the block size, per model",
                                 "Test accuracy under each family's permutations, mean over seeds; the band is the "
                                 f"{level} t interval over seeds (none with one seed); the dashed line is chance. "
                                 f"Square: the original {words.examples} (within k = 1 and between k = the "
                                 f"{words.extent} leave them unchanged); round: the lesson's full shuffle (within k = "
                                 f"the {words.extent}, between k = 1), where the run measured it; the legend says "
                                 "which one it did not run."))  # fmt: skip
    blocks += [page.table(tables.scale_table(record)), page.note(drop_note(record))]
    if record.get("flatness"):
        blocks += [page.heading("Flatness of the position-blind models"), page.table(tables.flatness_table(record)),
                   page.note("Each condition's paired drop interval (the table's above, at the level shown) must "
                             "hold 0; its level is Bonferroni over the curve, so a false \"moved\" has at most the "
                             "run's error rate.")]  # fmt: skip
    return page.Page(
        title="Scale experiment",
        sources="results.json, samples/ and permutations/",
        opening=opening(record),
        no_verdict=no_verdict(record),
        sections=[samples, page.Section("curve", "Accuracy against the block size", blocks),
                  sections.parameters(record), sections.setup(record)],
    )

