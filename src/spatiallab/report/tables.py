"""The report's tables as plain rows (header list + lists of display strings), shared by the HTML report and the lab.

Accuracies are shown in percent with two decimals; intervals are the t intervals of results.json, at the run's
confidence level.
"""

from __future__ import annotations

from spatiallab import models, stats
from spatiallab.experiments import lesson
from spatiallab.models import params

Table = tuple[list[str], list[list[str]]]


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def confidence_level(results: dict) -> str:
    """The run's confidence level as shown ("95%"): its config's ``confidence``, or spatiallab's default."""
    return stats.confidence_label(results.get("config", {}).get("confidence", stats.CONFIDENCE))


def interval(row: dict) -> str:
    """"[low, high]" in percent, or "n/a (1 seed)" when results.json holds no interval."""
    if row.get("ci_low") is None:
        return f"n/a ({row.get('n', row.get('n_pairs', 1))} seed)"
    return stats.format_interval(row["ci_low"], row["ci_high"], decimals=2)


def accuracy_table(results: dict) -> Table:
    """One row per dataset, model and condition: mean test accuracy over seeds with its interval."""
    level = confidence_level(results)
    header = ["dataset", "model", "condition", "seeds", "test accuracy (%)", f"{level} CI (%)", "params",
              "train s/cell"]  # fmt: skip
    rows = [
        [row["dataset"], row["model"], row["condition"], str(row["n"]), percent(row["mean"]), interval(row),
         f"{row['params']:,}", f"{row['mean_train_seconds']:.1f}"]  # fmt: skip
        for row in results.get("summary", [])
    ]
    return header, rows


def reliance_table(results: dict) -> Table:
    """One row per dataset and model: original, shuffled, their seed-paired difference in points, and the published
    numbers, original -> shuffled, the terminal's column too (``lesson.claim_header``: the lesson's for MNIST,
    MNIST-1D's README's for mnist1d)."""
    level = confidence_level(results)
    header = ["dataset", "model", "original (%)", "shuffled (%)", "reliance (points)", f"{level} CI (points)",
              lesson.claim_header(results.get("config", {}).get("datasets", []))]  # fmt: skip
    rows = [
        [row["dataset"], row["model"], percent(row["original"]), percent(row["shuffled"]),
         f"{100 * row['difference']:+.2f}", interval(row), lesson.shuffled_pixels_claim(row["dataset"], row["model"])]
        for row in results.get("reliance", [])
    ]  # fmt: skip
    return header, rows


def _estimate(row: dict | None, value: str = "mean", low: str = "ci_low", high: str = "ci_high",
              signed: bool = False) -> str:  # fmt: skip
    """``93.0 [91.4, 94.6]`` (``stats.format_estimate``), or "-" without a row."""
    return "-" if row is None else stats.format_estimate(row[value], row[low], row[high], signed)


def translation_table(results: dict) -> Table:
    """One row per model and shift distance of a translation run: accuracy (mean over the four directions, then over
    seeds) and the drop from the unshifted test set (paired by seed), each with its interval."""
    level = confidence_level(results)
    header = ["model", "shift (px)", "seeds", f"test accuracy (%) [{level} CI]",
              f"drop from 0 px (points) [{level} CI]"]  # fmt: skip
    rows = [[row["model"], str(row["distance"]), str(row["n"]), _estimate(row),
             _estimate(row, "drop", "drop_ci_low", "drop_ci_high", signed=True)]
            for row in results.get("curve", [])]  # fmt: skip
    return header, rows


def direction_table(results: dict) -> Table:
    """One row per model and shift distance of a translation run, one column per direction: accuracy [CI]."""
    by_direction = results.get("by_direction", [])
    directions = list(dict.fromkeys(row["direction"] for row in by_direction if row["direction"] != "none"))
    found = {(row["model"], row["distance"], row["direction"]): row for row in by_direction}
    keys = list(dict.fromkeys((row["model"], row["distance"]) for row in by_direction if row["distance"] > 0))
    rows = [[model, str(distance), *[_estimate(found.get((model, distance, direction))) for direction in directions]]
            for model, distance in keys]  # fmt: skip
    return ["model", "shift (px)", *[f"{direction} (%)" for direction in directions]], rows


def scale_table(results: dict) -> Table:
    """One row per model and block size of a scale run (the original first): each family's accuracy and its drop
    from the original (points, paired by seed), each with its interval, and the drop's status."""
    families = results["config"]["families"]
    header = ["model", "block size k"] + [f"{family}: {what}" for family in families
                                          for what in ("accuracy (%)", "drop (points)", "status")]  # fmt: skip
    curve = {(row["model"], row["family"], row["block_size"]): row for row in results.get("curve", [])}
    rows = []
    for model in results["config"]["models"]:
        original = next((row for row in results.get("summary", [])
                         if (row["model"], row["condition"]) == (model, "original")), None)  # fmt: skip
        if original is not None:
            rows.append([model, "original", *[value for _ in families for value in (_estimate(original), "", "")]])
        for size in sorted(results["config"]["block_sizes"]):
            cells = []
            for family in families:
                row = curve.get((model, family, size))
                cells += ([_estimate(row), _estimate(row, "drop", "drop_ci_low", "drop_ci_high", signed=True),
                           row["status"]] if row else ["-", "-", "-"])  # fmt: skip
            rows.append([model, str(size), *cells])
    return header, rows


def flatness_table(results: dict) -> Table:
    """One row per position-blind model of a scale run: the check's outcome, its (Bonferroni) level and how many
    conditions it compared."""
    rows = [[check["model"], check["status"], stats.confidence_label(check["confidence"]), str(check["comparisons"])]
            for check in results.get("flatness", [])]  # fmt: skip
    return ["model", "flatness", "level of each interval", "conditions compared"], rows


def cell_table(results: dict) -> Table:
    """One row per trained cell: accuracy, loss and time (seconds of ``fit``, wall clock); a translation cell's
    accuracy is on the unshifted test set."""
    header = ["dataset", "model", "condition", "seed", "test accuracy (%)", "test loss", "epochs", "train s", "s/epoch"]
    rows = [
        [cell["dataset"], cell["model"], cell["condition"], str(cell["seed"]), percent(cell["test_accuracy"]),
         f"{cell['test_loss']:.4f}", str(cell["epochs"]), f"{cell['train_seconds']:.1f}",
         f"{cell['seconds_per_epoch']:.2f}"]  # fmt: skip
        for cell in results.get("cells", [])
    ]
    return header, rows


def parameter_table(results: dict) -> Table:
    """Per-layer parameter counts of every model on every dataset: the analytic count and Keras's own."""
    header = ["dataset", "model", "layer", "input", "output", "params", "Keras count_params"]
    rows = []
    for dataset, described in results.get("datasets", {}).items():
        for model in results["config"]["models"]:
            specs = models.model_specs(model, described["num_classes"])
            table = params.layer_table(specs, input_shape(described))
            for row in table:
                rows.append([dataset, model, row.layer, _shape(row.input_shape), _shape(row.output_shape),
                             f"{row.analytic:,}", f"{row.keras:,}"])  # fmt: skip
            rows.append([dataset, model, "total", "", "", f"{sum(r.analytic for r in table):,}",
                         f"{sum(r.keras for r in table):,}"])  # fmt: skip
    return header, rows


def _items(mapping: dict) -> str:
    """ "key value; key value" of the non-empty entries, lists written out as "a, b"."""
    return "; ".join(f"{key} {', '.join(map(str, value)) if isinstance(value, list) else value}"
                     for key, value in mapping.items() if value not in (None, "", [], {}))


def input_shape(described: dict) -> tuple[int, ...]:
    """One example's shape from a dataset's description: (H, W, C) or (L, C) (runs before sequences: image_shape)."""
    return tuple(described.get("input_shape") or described["image_shape"])


def dataset_table(results: dict) -> Table:
    """One row per dataset: source, example shape, classes (train/test examples each), split, chance and loader
    details (``Dataset.info``: e.g. the binaries' view and the classes left out, MNIST-1D's generation arguments)."""
    header = ["dataset", "source", "example (H x W x C image, or L x C sequence)", "classes (train / test examples)",
              "train / test", "split", "chance (%)", "details"]
    rows = []
    for name, described in results.get("datasets", {}).items():
        counts = described.get("class_counts")
        classes = [f"{cls} ({counts['train'][index]} / {counts['test'][index]})" if counts else str(cls)
                   for index, cls in enumerate(described.get("class_names", []))]
        rows.append([name, str(described.get("source", "")), _shape(input_shape(described)),
                     f"{described['num_classes']}: {', '.join(classes)}",
                     f"{described['n_train']:,} / {described['n_test']:,}",
                     _items(described.get("split") or {}) or "the source's own",
                     percent(chance(results, name)), _items(described.get("info", {}))])  # fmt: skip
    return header, rows


def chance(results: dict, dataset: str) -> float | None:
    """A dataset's chance level: results.json's ``chance`` is one number in a one-dataset experiment (translation,
    scale) and ``{dataset: number}`` in the shuffled-pixels grid."""
    value = results.get("chance")
    return value.get(dataset) if isinstance(value, dict) else value


def key_value_table(mapping: dict) -> Table:
    """A two-column table of a flat mapping (configuration, versions); lists are joined with commas."""
    rows = [[str(key), ", ".join(map(str, value)) if isinstance(value, list) else str(value)]
            for key, value in mapping.items()]  # fmt: skip
    return ["setting", "value"], rows


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))
