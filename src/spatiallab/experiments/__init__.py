"""The experiments. Each declares its cells, how one cell is trained and evaluated, and how cells are summarised
(see ``base.Experiment``); ``run_experiment`` runs any of them into a run folder through the common runner.

- ``shuffled_pixels``: the lesson's experiment, original vs one fixed permutation of the pixels.
- ``translation``: train on original images, test on shifted copies.
- ``scale``: structured shuffles (within and between k x k blocks): at which scale each model uses the layout.
- ``layouts``: finished shuffled-pixels runs of one corpus of executables on several views (1D byte sequence,
  2D byte plot, 2D head tile) side by side, with 1-NN and the verdict on whether the 2D layout helps.
"""

from spatiallab.experiments.base import ConfigError, Experiment, default_run_dir, resume_config, run_experiment
from spatiallab.experiments.scale import Scale, ScaleConfig
from spatiallab.experiments.shuffled_pixels import GridConfig, ShuffledPixels
from spatiallab.experiments.translation import Translation, TranslationConfig

EXPERIMENTS = {ShuffledPixels.kind: ShuffledPixels, Translation.kind: Translation, Scale.kind: Scale}

__all__ = ["EXPERIMENTS", "ConfigError", "Experiment", "GridConfig", "Scale", "ScaleConfig", "ShuffledPixels",
           "Translation", "TranslationConfig", "default_run_dir", "resume_config", "run_experiment"]
