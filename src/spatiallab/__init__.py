"""spatiallab: measure how much an image model relies on spatial structure.

Layers, lowest first (a module only imports from layers below it):
data -> transforms -> architecture/params -> models -> training -> stats -> experiment -> report / cli / web.
"""

__version__ = "0.1.0"
