"""From per-seed cells to the grid's summary: accuracy intervals per cell and spatial reliance per model."""

from __future__ import annotations

from spatiallab import stats
from spatiallab.verdict import write_verdict


def _cells_of(record: dict, dataset: str, model: str, condition: str) -> list[dict]:
    cells = [
        cell
        for cell in record["cells"]
        if (cell["dataset"], cell["model"], cell["condition"]) == (dataset, model, condition)
    ]
    return sorted(cells, key=lambda cell: cell["seed"])


def summarize(record: dict, confidence: float = 0.95) -> dict:
    """Summary rows, spatial reliance and verdict for a results record (see docs/architecture.md).

    Spatial reliance = accuracy(original) - accuracy(shuffled), paired by seed, with a paired t interval.

    Returns:
        {"summary": [...], "reliance": [...], "verdict": [str, ...]}.
    """
    config = record["config"]
    summary, reliance = [], []
    for dataset in config["datasets"]:
        for model in config["models"]:
            by_condition = {}
            for condition in config["conditions"]:
                cells = _cells_of(record, dataset, model, condition)
                if not cells:
                    continue
                accuracies = [cell["test_accuracy"] for cell in cells]
                by_condition[condition] = {cell["seed"]: cell["test_accuracy"] for cell in cells}
                summary.append(
                    {
                        "dataset": dataset,
                        "model": model,
                        "condition": condition,
                        **stats.t_interval(accuracies, confidence, bounds=stats.ACCURACY_BOUNDS),
                        "accuracies": accuracies,
                        "seeds": [cell["seed"] for cell in cells],
                        "mean_train_seconds": sum(cell["train_seconds"] for cell in cells) / len(cells),
                        "params": cells[0]["params"],
                    }
                )
            if {"original", "shuffled"} <= by_condition.keys():
                seeds = sorted(by_condition["original"].keys() & by_condition["shuffled"].keys())
                original = [by_condition["original"][seed] for seed in seeds]
                shuffled = [by_condition["shuffled"][seed] for seed in seeds]
                reliance.append(
                    {
                        "dataset": dataset,
                        "model": model,
                        "original": sum(original) / len(original),
                        "shuffled": sum(shuffled) / len(shuffled),
                        **stats.paired_difference(original, shuffled, confidence, stats.DIFFERENCE_BOUNDS),
                    }
                )
    verdict = write_verdict(reliance, record.get("chance", {}), record.get("datasets"))
    return {"summary": summary, "reliance": reliance, "verdict": verdict}
