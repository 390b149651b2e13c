"""Where the headers, code, data and resources of an executable sit in its file, read with LIEF.

LIEF (https://lief.re) parses PE, ELF and Mach-O; it only reads the file. Each region is a byte range of the file
(sections that occupy no file bytes, such as ELF ``.bss``, are left out), so it can be drawn over the byte plot.
A file that is not an executable, or that LIEF cannot parse, gets an empty layout and a note, never an exception.

Formats: ELF (System V gABI: ELF header, program headers, sections by ``sh_flags``, section headers; segments by
``p_flags`` when there are no section headers), PE (Microsoft PE/COFF: headers up to ``SizeOfHeaders``, sections by
``Characteristics``, the overlay after the last section), Mach-O (header and load commands, sections by segment name;
every slice of a universal binary, at its offset in the file).

LIEF runs in a child process with a time and a memory bound (``bounded``; ``PARSE_SECONDS``, ``PARSE_MEMORY_*``):
some malformed files make parsers loop or allocate without limit, and a crash in LIEF's native code must not take
the caller (the web lab, a corpus build) with it. A file that hits a bound gets the plain byte plot and a note
naming the bound.
"""

from __future__ import annotations

import dataclasses
import os
import warnings

import lief

from spatiallab.binimage import bounded

# Bounds on one parse (read at each call, so tests can lower them). LIEF parses a 143 MB ELF (Node.js) in 2.5 s
# holding ~1.4x its size, and an 8 MiB upload (the lab's limit) in under 0.2 s; a file that needs ten times that is
# not one the byte plot's overlay can help with, and a hostile one can loop for ever.
PARSE_SECONDS = 15.0
PARSE_MEMORY_BASE_BYTES = 256 * 2**20  # LIEF's own tables and a small file's copies, beyond what the child holds
PARSE_MEMORY_PER_BYTE = 4  # plus this many bytes per byte parsed: LIEF keeps the file and parsed copies (~1.4x)

# Region kinds, in legend order.
KINDS = ("header", "code", "data", "read-only data", "resources", "metadata", "overlay")


@dataclasses.dataclass(frozen=True)
class Region:
    """A byte range of the file: ``offset`` and ``size`` in bytes; ``kind`` is one of ``KINDS``."""

    name: str
    kind: str
    offset: int
    size: int


@dataclasses.dataclass(frozen=True)
class FileLayout:
    """The parsed structure of one file.

    Attributes:
        format: "ELF", "PE", "MachO", or None when the file is not an executable LIEF can read.
        machine: LIEF's name of the CPU field, lower case ("x86_64", "aarch64", "i386", "amd64", ...); "" if unknown.
        filetype: LIEF's name of the file type ("DYN", "EXEC", "DLL", "EXE", "EXECUTE", ...); "" if unknown.
        regions: byte ranges sorted by offset, clipped to the file.
        note: why there are no (or fewer) regions, e.g. "not a PE, ELF or Mach-O file"; "" when all went well.
    """

    format: str | None
    machine: str
    filetype: str
    regions: tuple[Region, ...]
    note: str = ""


def _enum_name(value) -> str:
    return str(getattr(value, "name", value)).split(".")[-1]


def _elf_kind(section) -> str:
    flags = lief.ELF.Section.FLAGS
    if section.has(flags.EXECINSTR):
        return "code"
    if section.has(flags.ALLOC):
        return "data" if section.has(flags.WRITE) else "read-only data"
    return "metadata"  # symbols, strings, debug information, notes not loaded at run time


def _elf_regions(binary) -> list[Region]:
    header = binary.header
    regions = [
        Region("ELF header", "header", 0, header.header_size),
        Region("program headers", "header", header.program_header_offset,
               header.numberof_segments * header.program_header_size),
        Region("section headers", "header", header.section_header_offset,
               header.numberof_sections * header.section_header_size),
    ]
    for section in binary.sections:
        if section.type in (lief.ELF.Section.TYPE.SHT_NULL_, lief.ELF.Section.TYPE.NOBITS) or section.size == 0:
            continue
        regions.append(Region(section.name or "(unnamed)", _elf_kind(section), section.offset, section.size))
    if len(regions) == 3:  # no section headers (stripped): fall back to the loadable segments
        flags = lief.ELF.Segment.FLAGS
        for segment in binary.segments:
            if segment.type == lief.ELF.Segment.TYPE.LOAD and segment.physical_size:
                kind = "code" if segment.has(flags.X) else "data" if segment.has(flags.W) else "read-only data"
                permissions = "".join(letter if segment.has(getattr(flags, letter)) else "-" for letter in "RWX")
                regions.append(Region(f"LOAD {permissions}", kind, segment.file_offset, segment.physical_size))
    return regions


def _pe_kind(section, resource_section_name: str | None) -> str:
    characteristics = lief.PE.Section.CHARACTERISTICS
    if section.name == resource_section_name:
        return "resources"
    if section.has_characteristic(characteristics.MEM_EXECUTE) or section.has_characteristic(
        characteristics.CNT_CODE
    ):
        return "code"
    if section.name == ".reloc":
        return "metadata"
    return "data" if section.has_characteristic(characteristics.MEM_WRITE) else "read-only data"


def _pe_regions(binary) -> list[Region]:
    resources = binary.data_directory(lief.PE.DataDirectory.TYPES.RESOURCE_TABLE)  # None in a truncated header
    resource_section = resources.section.name if resources is not None and resources.has_section else None
    regions = [Region("DOS + PE headers", "header", 0, binary.optional_header.sizeof_headers)]
    for section in binary.sections:
        if section.sizeof_raw_data:
            regions.append(Region(section.name, _pe_kind(section, resource_section), section.pointerto_raw_data,
                                  section.sizeof_raw_data))
    if len(binary.overlay):
        regions.append(Region("overlay", "overlay", binary.overlay_offset, len(binary.overlay)))
    return regions


def _macho_kind(section) -> str:
    segment = section.segment_name
    if segment == "__TEXT":
        return "code" if section.name in ("__text", "__stubs", "__stub_helper") else "read-only data"
    if segment.startswith("__DATA"):
        return "data"
    return "metadata"


def _macho_regions(binary) -> list[Region]:
    base = binary.fat_offset
    header_size = 32 if binary.header.is_64bit else 28
    regions = [Region("Mach-O header + load commands", "header", base, header_size + binary.header.sizeof_cmds)]
    for section in binary.sections:
        if section.size and section.offset:  # zero-fill sections have no file bytes
            regions.append(Region(f"{section.segment_name},{section.name}", _macho_kind(section),
                                  base + section.offset, section.size))
    linkedit = binary.get_segment("__LINKEDIT")
    if linkedit is not None and linkedit.file_size:
        regions.append(Region("__LINKEDIT", "metadata", base + linkedit.file_offset, linkedit.file_size))
    return regions


def _clip(regions: list[Region], file_size: int) -> tuple[list[Region], int]:
    kept, clipped = [], 0
    for region in regions:
        end = min(region.offset + region.size, file_size)
        if region.size <= 0 or region.offset >= file_size:
            clipped += region.size > 0
            continue
        clipped += end < region.offset + region.size
        kept.append(dataclasses.replace(region, size=end - region.offset))
    return sorted(kept, key=lambda region: (region.offset, -region.size)), clipped


def _read_with_lief(source: str | bytes, is_macho: bool) -> tuple[str, str, str, list[Region]] | None:
    """(format, machine, filetype, regions) of a file (its path, or its first bytes) LIEF recognises, or None."""
    lief.logging.disable()  # LIEF logs parse failures to stderr; they are reported through ``note`` instead
    with warnings.catch_warnings():  # LIEF's bindings warn on some malformed Mach-O headers
        warnings.simplefilter("ignore")
        return _structure(source, is_macho)


def _read_in_child(path: str, max_bytes: int | None, is_macho: bool):
    """``_read_with_lief`` of the file, or of its first ``max_bytes`` bytes: what the bounded child runs."""
    if max_bytes is None:
        return _read_with_lief(path, is_macho)
    with open(path, "rb") as stream:
        return _read_with_lief(stream.read(max_bytes), is_macho)


def _structure(source: str | bytes, is_macho: bool):
    if is_macho:
        fat = lief.MachO.parse(source)
        slices = list(fat) if fat is not None else []
        if not slices:
            return None
        header = slices[0].header
        regions = [region for slice_ in slices for region in _macho_regions(slice_)]
        return "MachO", _enum_name(header.cpu_type), _enum_name(header.file_type), regions
    binary = lief.parse(source)
    if isinstance(binary, lief.ELF.Binary):
        header = binary.header
        return "ELF", _enum_name(header.machine_type), _enum_name(header.file_type), _elf_regions(binary)
    if isinstance(binary, lief.PE.Binary):
        is_dll = binary.header.has_characteristic(lief.PE.Header.CHARACTERISTICS.DLL)
        return "PE", _enum_name(binary.header.machine), "DLL" if is_dll else "EXE", _pe_regions(binary)
    return None


# File signatures: ELF (System V gABI), MZ (the DOS header in front of every PE file), Mach-O thin and universal.
MAGICS = {b"\x7fELF": "ELF", b"MZ": "MZ (DOS/PE)", b"\xfe\xed\xfa\xce": "Mach-O", b"\xfe\xed\xfa\xcf": "Mach-O",
          b"\xce\xfa\xed\xfe": "Mach-O", b"\xcf\xfa\xed\xfe": "Mach-O", b"\xca\xfe\xba\xbe": "Mach-O universal"}


def _unrecognised(path: str) -> str:
    """Why LIEF did not recognise the file: no executable signature, or a signature without a valid header."""
    with open(path, "rb") as stream:
        head = stream.read(4)
    kind = next((name for magic, name in MAGICS.items() if head.startswith(magic)), None)
    if kind is None:
        return "not a PE, ELF or Mach-O file"
    return f"starts with the {kind} signature but has no header LIEF accepts (truncated or malformed?)"


def parse_layout(path: str | os.PathLike, max_bytes: int | None = None) -> FileLayout:
    """The regions of a PE, ELF or Mach-O file, read with LIEF (the file is never executed or loaded).

    Args:
        path: the file (it should already have passed ``convert.checked_file_size``).
        max_bytes: parse only the first ``max_bytes`` bytes (LIEF otherwise reads the whole file into memory);
            regions beyond them are cut, and the note says so.

    Returns:
        A ``FileLayout``; for a file that is not an executable or cannot be parsed, ``format`` is None (or the
        regions are partial or empty) and ``note`` says why, naming the bound when the parse hit one
        (``PARSE_SECONDS``, ``PARSE_MEMORY_*``) or the exit code when LIEF crashed. Never raises for malformed
        content.
    """
    lief.logging.disable()  # LIEF logs parse failures to stderr; they are reported through ``note`` instead
    path = os.fspath(path)
    file_size = os.path.getsize(path)
    if not (lief.is_elf(path) or lief.is_pe(path) or lief.is_macho(path)):  # these read only the first bytes
        return FileLayout(None, "", "", (), f"{_unrecognised(path)}: plain byte plot")
    capped = max_bytes is not None and file_size > max_bytes
    notes = [f"structure read from the first {max_bytes:,} bytes only (--max-bytes)"] if capped else []
    file_size = max_bytes if capped else file_size
    memory = PARSE_MEMORY_BASE_BYTES + PARSE_MEMORY_PER_BYTE * file_size
    try:
        parsed = bounded.call(_read_in_child, (path, max_bytes if capped else None, lief.is_macho(path)),
                              seconds=PARSE_SECONDS, memory_bytes=memory)  # fmt: skip
    except bounded.Stopped as stopped:  # a bound was hit, or LIEF crashed: the plain plot, saying which
        notes.append(f"looks like an executable but parsing it with LIEF {stopped}: plain byte plot")
        return FileLayout(None, "", "", (), "; ".join(notes))
    except Exception as error:  # noqa: BLE001  LIEF on hostile input: any failure becomes a note, never a crash
        parsed, failure = None, f"LIEF failed ({type(error).__name__}: {error})"
    else:
        failure = "LIEF could not parse it"
    if parsed is None:
        cause = "a larger --max-bytes may help" if capped else "malformed or truncated?"
        notes.append(f"looks like an executable but {failure} ({cause}): plain byte plot")
        return FileLayout(None, "", "", (), "; ".join(notes))
    file_format, machine, filetype, regions = parsed
    regions, clipped = _clip(regions, file_size)
    if clipped:
        notes.append(f"{clipped} region(s) reach past the {'bytes read' if capped else 'end of the file'}: "
                     "cut there, or left out when they start beyond it")
    if not regions:
        within = "the bytes read" if capped else "the file (truncated or malformed?)"
        notes.append(f"no header, section or segment lies within {within}")
    return FileLayout(file_format, machine.lower(), filetype, tuple(regions), "; ".join(notes))
