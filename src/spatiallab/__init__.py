"""spatiallab: measure how much an image model relies on spatial structure.

Layers, lowest first (a module only imports from layers below it):
data -> transforms -> models -> training -> stats -> runs -> runner -> experiments -> report / cli / web.
"""

__version__ = "0.1.0"
