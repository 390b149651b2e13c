"""Executables: does the image layout help? 1D byte sequences beside the 2D byte plot and head tile (issue 12).

Corpora: the shared Debian ELF corpus (9 architectures), the shared PE corpus on its three classes of at least 100
files, and a corpus built here from the executables of this machine (``binaries_grid.build_local_corpus``, with
``spatiallab binimage dataset --bytes 65536``). Nothing is executed; the files are only read.

Per corpus, each with and without ``--mask-header`` (default 1024 bytes: the ELF header and its program headers,
the PE headers up to the usual SizeOfHeaders of 0x400, where the machine and file type are stated):
    x64        dense, cnn   the whole file's byte plot, resized to 64x64 (2D)
    head4096   dense, cnn   the first 4096 bytes as a 64x64 tile (2D)
    bytes<n>   bytes1d      the first n bytes in file order (1D): bytes4096 on the shared corpora (their head4096
                            read in order), bytes65536 on the local one
original and shuffled positions, 3 seeds, ``--epochs`` epochs, permutation seed 0, the loader's grouped split. Then
``spatiallab.experiments.layouts.compare_runs`` over all runs (the same as ``spatiallab compare``): one table per
corpus and mask with 1-NN on each view, and the verdict. Run folders land in benchmarks/results/bytes/<grid>/, the
comparison in benchmarks/results/bytes/comparison.json.

    python benchmarks/bytes_grid.py --epochs 10                       # everything (many hours on 2 cores)
    python benchmarks/bytes_grid.py --only pe3 --epochs 10            # one corpus, with and without the mask
    python benchmarks/bytes_grid.py --epochs 1 --seeds 2 --train-limit 200 --test-limit 100 --out /tmp/bytes
                                                                      # a quick check that every step works
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

from binaries_grid import DEBIAN, PE, REPO, SPATIALLAB, build_local_corpus
from common import print_cpu

from spatiallab import runs
from spatiallab.cli.compare import print_comparison
from spatiallab.cli.running import result_console
from spatiallab.experiments.layouts import compare_runs

VIEWS = (("x64", "dense,cnn"), ("head4096", "dense,cnn"))  # 2D views, then the corpus's 1D view with bytes1d
MASK_BYTES = 1024
LOCAL_BYTES = 65_536


def corpora(out: Path) -> dict[str, tuple[Path, list[str], str]]:
    """name -> (npz, loader options, 1D view)."""
    return {
        "debian": (DEBIAN, [], "bytes4096"),
        "pe3": (PE, ["--min-class-size", "100"], "bytes4096"),
        "local": (build_local_corpus(out / "local", sequence_bytes=LOCAL_BYTES), [], f"bytes{LOCAL_BYTES}"),
    }


def run_grid(folder: Path, path: Path, view: str, models: str, options: list[str], args) -> Path:
    """One ``spatiallab run`` into ``folder`` (kept when it finished, resumed when it did not)."""
    results = folder / "results.json"
    if results.is_file() and json.loads(results.read_text())["complete"]:
        return folder
    limits = []
    for flag, value in (("--train-limit", args.train_limit), ("--test-limit", args.test_limit)):
        limits += [flag, str(value)] if value else []
    command = ([SPATIALLAB, "run", "--resume", str(folder)] if results.is_file() else
               [SPATIALLAB, "run", "--dataset", "binaries", "--data", str(path), "--view", view, *options,
                "--models", models, "--seeds", str(args.seeds), "--epochs", str(args.epochs), *limits,
                "--out", str(folder), "--no-report"])  # fmt: skip
    print("$", " ".join(command), flush=True)
    subprocess.run(command, check=True)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--mask-header", type=int, default=MASK_BYTES)
    parser.add_argument("--train-limit", type=int, default=None, help="first N training files (quick checks)")
    parser.add_argument("--test-limit", type=int, default=None, help="first N test files (quick checks)")
    parser.add_argument("--only", default=None, help="comma-separated corpora: debian, pe3, local (default: all)")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bytes")
    args = parser.parse_args()
    print_cpu()
    chosen = corpora(args.out)
    if args.only:
        chosen = {name: chosen[name] for name in args.only.split(",")}
    folders = []
    for name, (path, options, sequence_view) in chosen.items():
        for mask in ([], ["--mask-header", str(args.mask_header)]):
            for view, models in (*VIEWS, (sequence_view, "bytes1d")):
                grid = f"{name}-{view}" + (f"-mask{args.mask_header}" if mask else "")
                folders.append(run_grid(args.out / grid, path, view, models, [*options, *mask], args))
    comparison = compare_runs(folders)
    print_comparison(result_console(), comparison)
    print(f"\nwrote {runs.write_json(args.out / 'comparison.json', comparison)}")


if __name__ == "__main__":
    main()
