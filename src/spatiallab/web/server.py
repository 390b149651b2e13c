"""Start the lab: pick the run, make the private upload folder, serve on the loopback interface, clean up.

Which run: the RUN_DIR given; else the newest complete run on image data under the runs folder (a run on sequences,
MNIST-1D's say, has nothing to draw or explore); else none (the Explore, Compare and Binaries tabs work without one,
and a quick run trained on the Build tab becomes the lab's run).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path

from spatiallab.runs import RunFolder, find_runs
from spatiallab.web.binaries import DEFAULT_LIMIT_BYTES

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (the operating system's choice)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def newest_image_run(runs_root: str | os.PathLike) -> Path | None:
    """The most recently written shuffled-pixels run under ``runs_root`` whose results.json says complete and which
    holds at least one image dataset (``lab.holds_images``), or None. Runs on sequences only are passed over: the
    Build, Explore and Try-it tabs draw and classify images."""
    from spatiallab.web.lab import holds_images

    for path in find_runs(runs_root, kind="shuffled_pixels"):
        try:
            run = RunFolder(path)
            if run.results.get("complete") and any(holds_images(run, name) for name in run.datasets):
                return path
        except ValueError:
            continue
    return None


def choose_run(run_dir: str | os.PathLike | None, runs_root: str | os.PathLike) -> tuple[Path | None, str]:
    """The lab's run and the line that says which it is: ``run_dir`` when given, else ``newest_image_run``, named
    with why it was picked; None when there is none, and the line says what to do."""
    if run_dir is not None:
        return Path(run_dir), f"Run: {run_dir}"
    newest = newest_image_run(runs_root)
    if newest is None:
        return None, f"Run: none (no complete run on images under {runs_root}); train a quick run on the Build tab"
    return newest, f"Run: {newest} (the newest complete run on images under {runs_root}; pass RUN_DIR for another)"


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into KeyboardInterrupt so Gradio closes the server and the upload folder is removed."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def serve(
    run_dir: str | os.PathLike | None,
    runs_root: str | os.PathLike = "runs",
    host: str = "127.0.0.1",
    port: int = 7860,
    upload_limit: int = DEFAULT_LIMIT_BYTES,
    announce=print,
) -> None:
    """Serve the lab until interrupted (Ctrl-C or SIGTERM); blocks the calling (main) thread.

    Args:
        run_dir: the run whose models answer the Try-it tab; None picks ``newest_image_run(runs_root)``
            (``choose_run``).
        runs_root: folder listed on the Compare tab; quick runs are written there.
        host: interface to listen on; the default keeps the lab on this machine.
        port: TCP port; 0 picks a free one.
        upload_limit: largest upload accepted, in bytes (refused by the server above it).
        announce: called with one line of text (the address, the run used).
    """
    upload_root = Path(tempfile.mkdtemp(prefix="spatiallab-lab-uploads-"))
    os.environ["GRADIO_TEMP_DIR"] = str(upload_root)  # read by Gradio when the page and server are created
    # Gradio's /file= route also serves its examples cache, by default .gradio/cached_examples under the current
    # folder (whatever another app left there); the lab has no examples, so that folder is its own, inside uploads.
    os.environ["GRADIO_EXAMPLES_CACHE"] = str(upload_root / "cached_examples")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    try:
        from spatiallab.data import load
        from spatiallab.web.app import create_app, launch
        from spatiallab.web.lab import Lab, holds_images

        run_dir, run_line = choose_run(run_dir, runs_root)
        explore_images = load("mnist-sample").x_test[..., 0]
        lab = Lab(run_dir, runs_root, explore_images, upload_root, upload_limit, explore_name="mnist-sample")
        if lab.run is not None and holds_images(lab.run, lab.datasets()[0]):
            lab.trained_models(lab.datasets()[0])  # load the models before the first visitor waits for them
        port = free_port(host) if port == 0 else port
        blocks = create_app(lab)
        _stop_on_sigterm()
        announce(run_line)
        if host not in LOOPBACK_HOSTS:
            announce(f"Warning: serving on {host}: other machines on the network can open the lab.")
        announce(f"Lab: http://{host}:{port}/  (Ctrl-C to stop)")
        launch(blocks, host, port, upload_limit)
    finally:
        shutil.rmtree(upload_root, ignore_errors=True)
