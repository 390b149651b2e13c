"""The ``spatiallab`` command line: a thin click group; each command lives in its own module.

Command modules import only click at the top and import the experiment API inside the command, so that
``spatiallab --help`` answers without loading Keras.
"""

from __future__ import annotations

import logging
import os
import signal

import click

# Quiet TensorFlow's C++ start-up logging before any command imports Keras.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# A grid builds a new model per cell, so TensorFlow warns that its functions were traced again: expected, not a fault.
logging.getLogger("tensorflow").addFilter(lambda record: "triggered tf.function retracing" not in record.getMessage())

from spatiallab import __version__  # noqa: E402
from spatiallab.cli import binimage as binimage_command  # noqa: E402
from spatiallab.cli import compare as compare_command  # noqa: E402
from spatiallab.cli import datasets as datasets_command  # noqa: E402
from spatiallab.cli import lab as lab_command  # noqa: E402
from spatiallab.cli import params as params_command  # noqa: E402
from spatiallab.cli import report as report_command  # noqa: E402
from spatiallab.cli import run as run_command  # noqa: E402
from spatiallab.cli import scale as scale_command  # noqa: E402
from spatiallab.cli import translation as translation_command  # noqa: E402


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="spatiallab")
def main():
    """Measure how much an image model relies on spatial structure (the shuffled-pixels experiment)."""


def _exit_on_sigterm(signum, _frame):
    """SIGTERM (``kill``, a batch scheduler) exits like Ctrl-C does: ``finally`` blocks run, so no temporary file of
    an atomic write is left behind."""
    raise SystemExit(128 + signum)


def console_main() -> None:
    """The ``spatiallab`` console script: ``main`` with SIGTERM handled as above (only here, not in library use)."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    main()


main.add_command(run_command.run)
main.add_command(params_command.params)
main.add_command(binimage_command.binimage)
main.add_command(compare_command.compare)
main.add_command(report_command.report)
main.add_command(lab_command.lab)
main.add_command(datasets_command.datasets)
main.add_command(translation_command.translation)
main.add_command(scale_command.scale)
