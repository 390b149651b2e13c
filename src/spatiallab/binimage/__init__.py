"""Executables as images: the byte plot of Nataraj et al. (2011), its structure, and datasets of such images.

    to_image(path_or_bytes, width=None)   uint8 (H, W) byte plot; width from Nataraj's file-size table
    resize_plot(image, size=64)           fixed-size view for models (Pillow BILINEAR)
    head_tile(path_or_bytes, 4096)        the first N bytes as a raw tile, no resampling
    byte_prefix(path_or_bytes, 65536)     the first N bytes in file order (a byte sequence), zero-padded
    parse_layout(path)                    header / code / data / resources regions, read with LIEF
    draw_layout(image, layout, png, ...)  the byte plot with those regions drawn over it
    build_corpus(folder) / write_corpus   one subfolder per class -> npz (the shared corpora's layout)

Files are only ever read: never executed, loaded or imported.
"""

from spatiallab.binimage.convert import byte_prefix, checked_file_size, head_tile, read_bytes, resize_plot, to_image
from spatiallab.binimage.corpus import build_corpus, write_corpus
from spatiallab.binimage.output import save_png
from spatiallab.binimage.overlay import draw_layout
from spatiallab.binimage.sections import FileLayout, Region, parse_layout
from spatiallab.binimage.width import nataraj_width, plot_shape

__all__ = [
    "FileLayout",
    "Region",
    "build_corpus",
    "byte_prefix",
    "checked_file_size",
    "draw_layout",
    "head_tile",
    "nataraj_width",
    "parse_layout",
    "plot_shape",
    "read_bytes",
    "resize_plot",
    "save_png",
    "to_image",
    "write_corpus",
]
