"""``spatiallab binimage``: executables as images (Nataraj et al. 2011 byte plots), one by one or as a dataset.

    spatiallab binimage FILE... --out DIR [--sections] [--size 64] [--head-bytes 4096]
    spatiallab binimage dataset DIR --out data.npz [--bytes 65536]

Files are only read: never executed, loaded or imported.
"""

from __future__ import annotations

import collections
import os
from pathlib import Path

import click

KILOBYTE = click.option("--kilobyte", type=click.Choice(["1024", "1000"]), default="1024", show_default=True,
                        help="Bytes per kB in Nataraj's width table (the shared corpora use 1024).")
MAX_BYTES = click.option("--max-bytes", type=click.IntRange(min=1), default=None,
                         help="Read at most this many bytes of each file for its images and structure (the plot is "
                         "the top of the full-file plot; `dataset` still hashes whole files).")
MAX_WIDTH = 65_536  # Nataraj's widest row is 1024 bytes; far wider rows only make a one-row image of padding
# The longest sequence view: 16 MiB per file (MalConv, Raff et al. 2018, read the first 2 MB); the view is held in
# memory as files x bytes, so longer would exhaust it on any corpus worth training on.
MAX_SEQUENCE_BYTES = 2**24


class FilesOrDataset(click.Group):
    """A group whose first argument is a subcommand name, or else a file (then the ``files`` command runs)."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["files", *args]
        return super().parse_args(ctx, args)


@click.group(cls=FilesOrDataset)
def binimage():
    """Executables as greyscale images: each byte one pixel, row-major, width from the file size (Nataraj 2011).

    \b
    spatiallab binimage FILE... --out DIR        one PNG per file (same as `binimage files ...`)
    spatiallab binimage dataset DIR --out X.npz  class folders -> a dataset for `spatiallab run --dataset binaries`
    """


OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace outputs that already exist (refused otherwise).")


def _refuse_existing(paths: list[Path], overwrite: bool) -> None:
    folders = [str(path) for path in paths if path.is_dir()]
    if folders:
        raise click.UsageError(f"{', '.join(folders[:5])}: a folder where an output file goes; it is never replaced")
    existing = [str(path) for path in paths if path.exists()]
    if existing and not overwrite:
        shown = ", ".join(existing[:5]) + (f" and {len(existing) - 5} more" if len(existing) > 5 else "")
        verb = "exists" if len(existing) == 1 else "exist"
        raise click.UsageError(f"{shown} already {verb}; pass --overwrite to replace, or choose another --out")


def _blocking_file(folder: Path, role: str) -> None:
    """Refuse, naming it, a file where ``folder`` or one of its parents should be."""
    blocking = next((path for path in (folder, *folder.parents) if path.exists() and not path.is_dir()), None)
    if blocking is not None:
        raise click.ClickException(f"cannot create {role} {folder}: {blocking} is a file, not a folder")


def _make_folder(folder: Path, role: str) -> bool:
    """Create ``folder`` and its parents; True when it did not exist before. A file in the way is named."""
    _blocking_file(folder, role)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.ClickException(f"cannot create {role} {folder}: {error.strerror or error}") from None
    return created


def _write(path: str, save) -> None:
    """``save(path)``; an OSError there is the output's fault, not the input's: stop, naming the output."""
    try:
        save(path)
    except OSError as error:
        raise click.ClickException(f"could not write {path}: {error.strerror or error}. Stopped here; the outputs "
                                   "written before it are complete") from None


def _check_outputs(files: tuple[Path, ...], out: Path, suffixes: list[str], overwrite: bool) -> None:
    """Refuse when two outputs ``out/NAME<suffix>`` collide, one is an input, or one exists (without --overwrite)."""
    flat = [out / f"{path.name}{suffix}" for path in files for suffix in suffixes]
    repeated = sorted(name for name, count in collections.Counter(map(str, flat)).items() if count > 1)
    if repeated:
        raise click.UsageError(f"several inputs would write {repeated}; convert them into separate --out folders")
    resolved_inputs = {os.path.realpath(path) for path in files}  # realpath: a symlink loop is not an error here
    inputs = [str(target) for target in flat if os.path.realpath(target) in resolved_inputs]
    if inputs:
        raise click.UsageError(f"{inputs} would overwrite an input; choose another --out folder")
    _refuse_existing(flat, overwrite)


@binimage.command("files")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder for the PNGs.")
@click.option("--width", type=click.IntRange(1, MAX_WIDTH), default=None,
              help="Bytes per row [default: Nataraj's table].")
@KILOBYTE
@click.option("--pad-byte", type=click.IntRange(0, 255), default=0, show_default=True,
              help="Grey level that fills a partial last row.")
@MAX_BYTES
@click.option("--sections", is_flag=True,
              help="Also draw the PE/ELF/Mach-O structure over the plot (NAME.sections.png).")
@click.option("--size", type=click.IntRange(min=1), default=None,
              help="Also save the plot resized to SIZE x SIZE with Pillow BILINEAR (NAME.xSIZE.png).")
@click.option("--head-bytes", type=click.IntRange(min=1), default=None,
              help="Also save the first N bytes (N a perfect square) as a raw tile, no resampling (NAME.headN.png).")
@OVERWRITE
def files_command(files, out, width, kilobyte, pad_byte, max_bytes, sections, size, head_bytes, overwrite):
    """Write the byte plot of each FILE to DIR/NAME.png (8-bit greyscale, one pixel per byte)."""
    import math

    from rich.table import Table

    from spatiallab.cli.running import result_console
    from spatiallab.data.errors import DataFormatError

    if head_bytes and math.isqrt(head_bytes) ** 2 != head_bytes:
        raise click.BadParameter(f"{head_bytes} is not a perfect square (4096 = 64 x 64)", param_hint="--head-bytes")
    suffixes = [".png"] + [f".x{size}.png"] * bool(size) + [f".head{head_bytes}.png"] * bool(head_bytes)
    suffixes += [".sections.png"] * sections
    _check_outputs(files, out, suffixes, overwrite)
    targets = [out / path.name for path in files]
    created = _make_folder(out, "the --out folder")
    table = Table(title=f"Byte plots written to {out}/NAME{{{','.join(suffixes)}}}")
    for column in ("file", "bytes", "image (w x h)", "format", "note"):
        table.add_column(column, justify="right" if column == "bytes" else "left")
    failures = []
    try:
        for path, target in zip(files, targets):
            try:
                table.add_row(*_convert(path, target, width=width, kilobyte=int(kilobyte), pad_byte=pad_byte,
                                        max_bytes=max_bytes, size=size, head_bytes=head_bytes, sections=sections))
            except (OSError, ValueError) as error:  # reading the input; DataFormatError is a ValueError
                failures.append(path)
                kind = "" if isinstance(error, (DataFormatError, FileNotFoundError)) else f"{type(error).__name__}: "
                click.echo(f"error: {kind}{error}", err=True)
    finally:  # also when a write failed: show what was converted, leave no empty folder behind
        if table.row_count:
            result_console().print(table)
        elif created and not any(out.iterdir()):
            out.rmdir()
    if failures:
        raise click.ClickException(f"{len(failures)} of {len(files)} file(s) could not be converted (see above)")


def _convert(path: Path, target: Path, *, width, kilobyte, pad_byte, max_bytes, size, head_bytes, sections) -> list:
    """Write the outputs of one input (``target`` + suffix); its row of the summary table."""
    from spatiallab import binimage as api

    file_size = api.checked_file_size(path)
    image = api.to_image(path, width, kilobyte=kilobyte, pad_byte=pad_byte, max_bytes=max_bytes)
    _write(f"{target}.png", lambda png: api.save_png(image, png))
    if size:
        _write(f"{target}.x{size}.png", lambda png: api.save_png(api.resize_plot(image, size), png))
    if head_bytes:
        tile = api.head_tile(path, head_bytes, pad_byte=pad_byte, max_bytes=max_bytes)
        _write(f"{target}.head{head_bytes}.png", lambda png: api.save_png(tile, png))
    notes = []
    if max_bytes is not None and file_size > max_bytes:
        notes.append(f"read only the first {max_bytes:,} of {file_size:,} bytes (--max-bytes)")
    described = ""
    if sections:
        layout = api.parse_layout(path, max_bytes=max_bytes)
        title = f"{path.name}: {file_size:,} bytes, {image.shape[1]} x {image.shape[0]} byte plot"
        _write(f"{target}.sections.png", lambda png: api.draw_layout(
            image, layout, png, title, plotted_bytes=min(file_size, max_bytes or file_size)))
        notes.append(layout.note)
        described = " ".join(filter(None, (layout.format, layout.machine, layout.filetype)))
    return [path.name, f"{file_size:,}", f"{image.shape[1]} x {image.shape[0]}", described,
            "; ".join(filter(None, notes))]


@binimage.command("dataset")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The npz to write.")
@click.option("--size", type=click.IntRange(min=4), default=64, show_default=True,
              help="Side of the resized whole-file view, stored as x<SIZE>.")
@click.option("--head-bytes", type=click.IntRange(min=16), default=4096, show_default=True,
              help="Bytes of the raw head tile (a perfect square), stored as head<N>.")
@click.option("--bytes", "sequence_bytes", type=click.IntRange(1, MAX_SEQUENCE_BYTES), default=None,
              help="Also store the first N bytes of every file as a sequence view bytes<N> for 1D models (zero-padded; "
              "`lengths` keeps each file's true length in it; --max-bytes applies).")
@KILOBYTE
@MAX_BYTES
@OVERWRITE
def dataset_command(folder, out, size, head_bytes, sequence_bytes, kilobyte, max_bytes, overwrite):
    """Turn FOLDER (one subfolder per class of executables) into an npz for `spatiallab run --dataset binaries`.

    Files at any depth under a class folder are its samples. Skipped and reported: hidden files and folders, files
    with the same sha256 as an earlier one (sorted path order), and files that cannot be read (empty, FIFO, device,
    permission denied). A file's `group` is its path without the class folder, so the same path under two class
    folders (one program built for two architectures) stays on one side of the split.
    """
    import json

    import numpy as np
    from rich.console import Console
    from rich.progress import Progress

    from spatiallab import binimage as api
    from spatiallab.data.errors import DataFormatError

    if out.resolve().is_relative_to(folder.resolve()):
        raise click.UsageError(f"--out {out} is inside FOLDER {folder}: it would become one of its samples")
    _refuse_existing([out], overwrite)
    _blocking_file(out.parent, "the folder of --out")
    console = Console(stderr=True)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reading files", total=None)
        try:
            arrays = api.build_corpus(
                folder, size=size, head_bytes=head_bytes, kilobyte=int(kilobyte), max_bytes=max_bytes,
                sequence_bytes=sequence_bytes,
                progress=lambda done, total, _: progress.update(task, completed=done, total=total),
            )
        except (DataFormatError, ValueError) as error:
            raise click.ClickException(str(error)) from None
    _make_folder(out.parent, "the folder of --out")  # only now: a failed build leaves no empty folder
    try:
        api.write_corpus(arrays, out)
    except OSError as error:
        raise click.ClickException(f"could not write {out} (nothing was written): {error.strerror or error}") from None
    meta = json.loads(str(arrays["meta"]))
    counts = np.bincount(arrays["y"], minlength=len(arrays["class_names"]))
    click.echo(f"Wrote {out}: {len(arrays['y'])} files in {len(counts)} classes: "
               + ", ".join(f"{name} {count}" for name, count in zip(arrays["class_names"], counts)))
    if sequence_bytes:
        padded = int((arrays["lengths"] < sequence_bytes).sum())
        click.echo(f"Views: x{size}, head{head_bytes} (images), bytes{sequence_bytes} (sequences: {padded} file(s) "
                   f"shorter than {sequence_bytes:,} bytes, zero-padded; true lengths in `lengths`)")
    capped = int((arrays["file_size"] > max_bytes).sum()) if max_bytes else 0
    across = sum(not item["same_class"] for item in meta["duplicates"])
    across_text = f" ({across} in another class than its first copy: kept in the first)" if across else ""
    click.echo(f"Skipped: {meta['hidden_skipped']} hidden, {meta['duplicates_dropped']} duplicate(s) by sha256"
               f"{across_text}, "
               f"{len(meta['unreadable'])} unreadable, {len(meta['loose_files_ignored'])} loose file(s) outside "
               f"class folders" + (f"; {capped} file(s) cut to --max-bytes {max_bytes:,}" if capped else ""))
    for item in [item for item in meta["duplicates"] if not item["same_class"]][:20]:
        click.echo(f"  duplicate across classes: {item['relpath']} (same bytes as {item['same_as']}, kept)")
    if meta["empty_classes"]:
        click.echo(f"Left out, no readable file: class folder(s) {meta['empty_classes']}")
    for item in meta["unreadable"][:20]:
        click.echo(f"  unreadable: {item['reason']}")
    if len(meta["unreadable"]) > 20:
        click.echo(f"  ... and {len(meta['unreadable']) - 20} more (listed in the npz's meta)")
