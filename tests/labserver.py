"""Starting a real ``spatiallab lab`` for the tests: a subprocess on a free loopback port, waited for until it
answers."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest

START_SECONDS = 180  # Gradio's first start imports a lot; generous on a loaded 2-core machine


def start_lab(arguments: list[str], cwd=None, environment: dict | None = None) -> tuple[subprocess.Popen, str, int]:
    """Run ``spatiallab lab ARGUMENTS --port P`` (P free on 127.0.0.1) and wait until its page answers 200.

    Returns (the process, its URL, P); fails the test with the lab's output if it exits or does not answer in time.
    """
    from spatiallab.web.server import free_port

    port = free_port()
    command = [sys.executable, "-c", "from spatiallab.cli import main; main()", "lab", *arguments, "--port", str(port)]
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(environment or {})})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return process, url, port
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the lab did not start on {url}:\n{process.stdout.read()}")
        time.sleep(0.3)
