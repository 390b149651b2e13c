"""The report's tables as plain rows (header list + lists of display strings), shared by the HTML report and the lab.

Accuracies are shown in percent with two decimals; intervals are the t intervals of results.json, at the run's
confidence level.
"""

from __future__ import annotations

from spatiallab import models, stats
from spatiallab.models import params

Table = tuple[list[str], list[list[str]]]


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}"


def interval(row: dict) -> str:
    """"[low, high]" in percent, or "n/a (1 seed)" when results.json holds no interval."""
    if row.get("ci_low") is None:
        return f"n/a ({row.get('n', row.get('n_pairs', 1))} seed)"
    return stats.format_interval(row["ci_low"], row["ci_high"], decimals=2)


def accuracy_table(results: dict) -> Table:
    """One row per dataset, model and condition: mean test accuracy over seeds with its interval."""
    level = stats.confidence_label(results.get("config", {}).get("confidence", stats.CONFIDENCE))
    header = ["dataset", "model", "condition", "seeds", "test accuracy (%)", f"{level} CI (%)", "params",
              "train s/cell"]  # fmt: skip
    rows = [
        [row["dataset"], row["model"], row["condition"], str(row["n"]), percent(row["mean"]), interval(row),
         f"{row['params']:,}", f"{row['mean_train_seconds']:.1f}"]  # fmt: skip
        for row in results.get("summary", [])
    ]
    return header, rows


def reliance_table(results: dict) -> Table:
    """One row per dataset and model: original, shuffled and their seed-paired difference in points."""
    level = stats.confidence_label(results.get("config", {}).get("confidence", stats.CONFIDENCE))
    header = ["dataset", "model", "original (%)", "shuffled (%)", "reliance (points)", f"{level} CI (points)"]
    rows = [
        [row["dataset"], row["model"], percent(row["original"]), percent(row["shuffled"]),
         f"{100 * row['difference']:+.2f}", interval(row)]  # fmt: skip
        for row in results.get("reliance", [])
    ]
    return header, rows


def cell_table(results: dict) -> Table:
    """One row per trained cell: accuracy, loss and time (seconds of ``fit``, wall clock)."""
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
            table = params.layer_table(specs, tuple(described["image_shape"]))
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


def dataset_table(results: dict) -> Table:
    """One row per dataset: source, image shape, classes (train/test images each), split, chance and loader details
    (``Dataset.info``: e.g. the binaries' view and the classes left out)."""
    header = ["dataset", "source", "image (H x W x C)", "classes (train / test images)", "train / test", "split",
              "chance (%)", "details"]
    rows = []
    for name, described in results.get("datasets", {}).items():
        counts = described.get("class_counts")
        classes = [f"{cls} ({counts['train'][index]} / {counts['test'][index]})" if counts else str(cls)
                   for index, cls in enumerate(described.get("class_names", []))]
        rows.append([name, str(described.get("source", "")), _shape(described["image_shape"]),
                     f"{described['num_classes']}: {', '.join(classes)}",
                     f"{described['n_train']:,} / {described['n_test']:,}",
                     _items(described.get("split") or {}) or "the source's own",
                     percent(results.get("chance", {}).get(name)), _items(described.get("info", {}))])  # fmt: skip
    return header, rows


def key_value_table(mapping: dict) -> Table:
    """A two-column table of a flat mapping (configuration, versions); lists are joined with commas."""
    rows = [[str(key), ", ".join(map(str, value)) if isinstance(value, list) else str(value)]
            for key, value in mapping.items()]  # fmt: skip
    return ["setting", "value"], rows


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))
