"""``python -m spatiallab``: the same as the ``spatiallab`` command."""

from spatiallab.cli import console_main

console_main()
