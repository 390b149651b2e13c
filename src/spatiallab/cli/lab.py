"""``spatiallab lab [RUN_DIR]``: the interactive web lab, served on this machine only unless --host says otherwise."""

from __future__ import annotations

import errno
import importlib.util
import os
import socket

import click

from spatiallab.web import TABS


def check_listenable(host: str, port: int) -> None:
    """Refuse, before anything starts, a host this machine cannot listen on or a port already in use.

    Raises:
        click.BadParameter: naming --host or --port and what to do.
    """
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as error:
        raise click.BadParameter(f"cannot listen on {host!r}: {error.strerror}", param_hint="--host") from None
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        if os.name == "posix":  # as the server binds (asyncio's reuse_address): a port in TIME_WAIT is not busy
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if port and error.errno == errno.EADDRINUSE:
                raise click.BadParameter(f"port {port} is in use; pass --port 0 for a free one",
                                         param_hint="--port") from None  # fmt: skip
            raise click.BadParameter(f"cannot listen on {host}:{port}: {error.strerror}", param_hint="--host") from None


def _help() -> str:
    """The command's help, its tabs listed from ``web.TABS`` (the list the page is built from)."""
    tabs = "\n".join(f"  {label}: {holds}" for label, holds in TABS.values())
    return (f"Serve the interactive lab, a web page.\n\nIts tabs, in the lesson's order:\n\n\b\n{tabs}\n\nWithout "
            "RUN_DIR the newest complete run on images under --runs is used; with none, a quick run trained on the "
            "Build tab becomes the lab's run.")


@click.command(help=_help())
@click.argument("run_dir", required=False, type=click.Path(exists=True, file_okay=False))
@click.option("--runs", "runs_root", default="runs", show_default=True, type=click.Path(file_okay=False),
              help="Folder of runs shown on the Compare tab; quick runs are written there.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on. The default keeps the lab on this machine; 0.0.0.0 exposes it.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(0, 65535), help="TCP port; 0 picks a free one.")
@click.option("--max-upload-mb", default=8.0, show_default=True, type=click.FloatRange(min=0.001),
              help="Largest upload accepted (MiB); larger files are refused.")
def lab(run_dir, runs_root, host, port, max_upload_mb):
    if importlib.util.find_spec("gradio") is None:
        raise click.ClickException("the lab needs Gradio, which is not installed: pip install 'spatiallab[lab]'")
    check_listenable(host, port)  # before the server's imports: a busy port is refused at once
    from spatiallab.web.server import serve

    try:
        if run_dir is not None:
            from spatiallab.runs import RunFolder

            kind = RunFolder(run_dir).kind
            if kind != "shuffled_pixels":
                raise ValueError(f"{run_dir}: a {kind} run; the lab shows shuffled-pixels runs (`spatiallab run`)")
        serve(run_dir, runs_root, host, port, int(max_upload_mb * 2**20), announce=click.echo)
    except (FileNotFoundError, ValueError) as error:
        raise click.ClickException(str(error)) from None
