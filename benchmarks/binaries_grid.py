"""Executables as images on real data: the shuffled-pixels grid next to a 1-nearest-neighbour baseline.

Runs on the two shared corpora (../shared/data/binaries: Debian ELF by architecture, Windows PE by toolchain; see its
README) and on a small corpus built here with ``spatiallab binimage dataset`` from executables on this machine:
ELF programs in /usr/bin, ELF shared libraries under /usr/lib, and the Windows PE launchers inside pip and
setuptools. Nothing is executed; the files are only read.

    .venv/bin/python benchmarks/binaries_grid.py --epochs 10          # everything (hours on 2 shared cores)
    .venv/bin/python benchmarks/binaries_grid.py --skip-grid          # width check, corpus, 1-NN only (minutes)

Prints: the width-rule check (every row of both shared files), the 1-NN accuracy on our split beside the README's,
and per grid the accuracy mean [95% CI] per model and condition and the spatial reliance (original - shuffled).
Results land in benchmarks/results/binaries/<grid>/results.json (one run folder per grid).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from spatiallab import data
from spatiallab.binimage.width import plot_shape
from spatiallab.experiments import shuffled_pixels
from spatiallab.experiments.layouts import nearest_neighbour_accuracy

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "binaries"
DEBIAN, PE = SHARED / "debian_arch9_nataraj64.npz", SHARED / "pe_toolchain_nataraj64.npz"
# README baselines (1-NN on raw pixels): Debian grouped 80/20 split; PE, three large classes.
SPATIALLAB = str(Path(sys.executable).parent / "spatiallab")  # the console script beside this interpreter
README_1NN = {("debian", "x64"): 0.829, ("debian", "head4096"): 0.901, ("pe", "x64"): 0.990}
PER_CLASS_CAP = 300  # ELF files per class in the local corpus: enough for a grid that runs in minutes
LOCAL_MAX_FILE_BYTES = 20 * 2**20  # skip the few huge libraries (libLLVM...): they dominate reading time only


def check_width_rule() -> None:
    for path in (DEBIAN, PE):
        with np.load(path) as archive:
            sizes, widths, heights = archive["file_size"], archive["orig_width"], archive["orig_height"]
        shapes = np.array([plot_shape(int(size), kilobyte=1024) for size in sizes])
        agree = (shapes[:, 1] == widths) & (shapes[:, 0] == heights)
        print(f"width rule (kB=1024) vs {path.name}: {agree.sum()} of {len(agree)} rows reproduce orig_width/height")


def _is_elf(path: str) -> bool:
    with open(path, "rb") as stream:
        return stream.read(4) == b"\x7fELF"


def _regular(paths, max_bytes=LOCAL_MAX_FILE_BYTES) -> list[str]:
    return sorted(path for path in paths
                  if os.path.isfile(path) and not os.path.islink(path) and 0 < os.path.getsize(path) <= max_bytes)


def _shared_objects(folder: str) -> list[str]:
    """Files named *.so or *.so.N under ``folder`` (os.walk: symlinked folders are not followed, unlike glob's **)."""
    return [os.path.join(root, name) for root, _, names in os.walk(folder) for name in names
            if name.endswith(".so") or ".so." in name]


def build_local_corpus(folder: Path, sequence_bytes: int | None = None) -> Path:
    """A class tree of symlinks (usr-bin, usr-lib, pe-launcher), then ``spatiallab binimage dataset`` on it (with
    ``--bytes sequence_bytes`` when given: the sequence view bytes<N> beside the image views)."""
    out = folder / (f"local_corpus_bytes{sequence_bytes}.npz" if sequence_bytes else "local_corpus.npz")
    if out.is_file():
        print(f"reusing {out} (delete it to rebuild)")
        return out
    rng = np.random.default_rng(0)
    site_packages = glob.glob(f"{sys.prefix}/lib/python*/site-packages") + glob.glob(
        os.path.expanduser("~/.pyenv/versions/*/lib/python*/site-packages"))
    classes = {
        "usr-bin": [p for p in _regular(glob.glob("/usr/bin/*")) if _is_elf(p)],
        "usr-lib": [p for p in _regular(_shared_objects("/usr/lib")) if _is_elf(p)],
        "pe-launcher": _regular(path for root in site_packages for pattern in ("pip/**/*.exe", "setuptools/*.exe")
                                for path in glob.glob(f"{root}/{pattern}", recursive=True)),
    }
    tree = folder / "tree"
    for name, paths in classes.items():
        if len(paths) > PER_CLASS_CAP:
            paths = sorted(rng.choice(paths, PER_CLASS_CAP, replace=False).tolist())
        (tree / name).mkdir(parents=True, exist_ok=True)
        for path in paths:
            link = tree / name / path.strip("/").replace("/", "__")
            if not link.is_symlink():
                link.symlink_to(path)
    sequence = ["--bytes", str(sequence_bytes)] if sequence_bytes else []
    subprocess.run([SPATIALLAB, "binimage", "dataset", str(tree), "--out", str(out), *sequence], check=True)
    return out


def train_grid(name: str, path: Path, view: str, options: list[str], epochs: int, seeds: int, out: Path) -> dict:
    run_folder = out / name
    results = run_folder / "results.json"
    if not results.is_file() or not json.loads(results.read_text())["complete"]:
        command = [SPATIALLAB, "run", "--dataset", "binaries", "--data", str(path),
                   "--view", view, *options, "--models", "dense,cnn,cnn_gap", "--seeds", str(seeds),
                   "--epochs", str(epochs), "--out", str(run_folder), "--no-report", "--overwrite"]
        print("$", " ".join(command), flush=True)
        subprocess.run(command, check=True)
    return json.loads(results.read_text())


def _interval(low, high) -> str:
    return "" if low is None else f" [{100 * low:.1f}, {100 * high:.1f}]"


def print_grid(name: str, record: dict, knn: float, readme: float | None) -> None:
    summarized = shuffled_pixels.summarize(record)  # today's statistics, also for a run folder an older version wrote
    summary = {(row["model"], row["condition"]): row for row in summarized["summary"]}
    print(f"\n{name}: {record['datasets']['binaries']['n_train']} train / {record['datasets']['binaries']['n_test']} "
          f"test, {record['config']['epochs']} epochs, seeds {record['config']['seeds']}; chance "
          f"{100 * record['chance']['binaries']:.1f}%; 1-NN on our split {100 * knn:.1f}%"
          + (f" (README: {100 * readme:.1f}%)" if readme else ""))
    print(f"  {'model':8} {'original % [95% CI]':>24} {'shuffled % [95% CI]':>24} {'reliance points [95% CI]':>26}")
    for row in summarized["reliance"]:
        original, shuffled = summary[(row["model"], "original")], summary[(row["model"], "shuffled")]
        cells = [f"{100 * cell['mean']:7.1f}{_interval(cell['ci_low'], cell['ci_high']):>17}"
                 for cell in (original, shuffled)]
        print(f"  {row['model']:8} {cells[0]} {cells[1]}"
              f" {100 * row['difference']:+8.1f}{_interval(row['ci_low'], row['ci_high']):>18}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "binaries")
    parser.add_argument("--skip-grid", action="store_true", help="only the width check, local corpus and 1-NN")
    parser.add_argument("--only", default=None, help="comma-separated grid names to run (default: all)")
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit(f"{SHARED} is absent: the shared corpora are needed")
    check_width_rule()
    local = build_local_corpus(args.out / "local")
    grids = [  # name, npz, view, loader options, README's 1-NN
        ("debian-x64", DEBIAN, "x64", [], README_1NN[("debian", "x64")]),
        ("pe3-x64", PE, "x64", ["--min-class-size", "100"], README_1NN[("pe", "x64")]),
        ("local-x64", local, "x64", [], None),
        ("pe3-head4096", PE, "head4096", ["--min-class-size", "100"], None),
        ("local-head4096", local, "head4096", [], None),
        ("debian-head4096", DEBIAN, "head4096", [], README_1NN[("debian", "head4096")]),
    ]
    if args.only:
        grids = [grid for grid in grids if grid[0] in args.only.split(",")]
    knn = {}
    for name, path, view, options, readme in grids:
        min_class_size = int(options[1]) if options else 1
        dataset = data.load("binaries", path, view=view, min_class_size=min_class_size)
        knn[name] = nearest_neighbour_accuracy(dataset)
        readme_text = f" (README: {100 * readme:.1f}%)" if readme else ""
        print(f"1-NN {name}: {100 * knn[name]:.1f}% on {dataset.split}{readme_text}", flush=True)
    if args.skip_grid:
        return
    records = {name: train_grid(name, path, view, options, args.epochs, args.seeds, args.out)
               for name, path, view, options, _ in grids}
    for name, _, _, _, readme in grids:
        print_grid(name, records[name], knn[name], readme)


if __name__ == "__main__":
    main()
