"""Models: framework-free layer specs (``specs``), the registry of named models (``registry``), their Keras build
(``build``, the only module here that imports Keras with ``layers``), and the parameter tables (``params``).

Importing this package does not import Keras, so listing models or counting parameters answers at once.
"""

from spatiallab.models.registry import (
    INPUT_KINDS,
    ModelEntry,
    check_input,
    data_kinds,
    get_entry,
    model_names,
    model_params,
    model_specs,
    models_for_input,
    position_blind,
    register_model,
)

__all__ = ["INPUT_KINDS", "ModelEntry", "check_input", "data_kinds", "get_entry", "model_names", "model_params",
           "model_specs", "models_for_input", "position_blind", "register_model"]
