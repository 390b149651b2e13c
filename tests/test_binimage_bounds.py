"""Section parsing under a time and a memory bound: malformed executables built here, and child processes made
to run or allocate without end on purpose, must all end in the plain byte plot with a note naming what stopped
them."""

from __future__ import annotations

import os
import shutil
import signal
import struct
import time
from pathlib import Path

import pytest

from spatiallab.binimage import bounded, sections

# ------------------------------------------------------------------------------------------ malformed files, built here


def _elf64(*, phoff=64, phnum=0, phentsize=56, shoff=0, shnum=0, shentsize=64, shstrndx=0, size=4096) -> bytes:
    """An x86-64 ELF header (System V gABI layout) with the given table offsets and counts, zero-padded."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)  # 64-bit, little-endian, version 1
    header = ident + struct.pack("<HHIQQQIHHHHHH", 3, 62, 1, 0x1000, phoff, shoff, 0, 64, phentsize, phnum,
                                 shentsize, shnum, shstrndx)  # fmt: skip
    return header.ljust(size, b"\x00")


def _pe(*, sections_count=1, sizeof_optional=240, size=4096) -> bytes:
    """A DOS stub pointing at a PE32+ COFF header with the given NumberOfSections and SizeOfOptionalHeader."""
    dos = bytearray(64)
    dos[0:2] = b"MZ"
    struct.pack_into("<I", dos, 60, 64)  # e_lfanew
    coff = b"PE\0\0" + struct.pack("<HHIIIHH", 0x8664, sections_count, 0, 0, 0, sizeof_optional, 0x22)
    optional = struct.pack("<H", 0x20B) + bytes(238)
    return (bytes(dos) + coff + optional).ljust(size, b"\x00")


def _macho_loop() -> bytes:
    """A 64-bit Mach-O header announcing 2**32-1 load commands of size 0 (a parser trusting cmdsize never ends)."""
    header = struct.pack("<IiiIIII", 0xFEEDFACF, 0x01000007, 3, 2, 0xFFFFFFFF, 0xFFFFFFFF, 0) + bytes(4)
    return header.ljust(4096, b"\0")


MALFORMED = {
    "elf: section headers at offset 0, 65535 of them (over the ELF header)": _elf64(shoff=0, shnum=0xFFFF),
    "elf: program headers at offset 0, 65535 of them": _elf64(phoff=0, phnum=0xFFFF),
    "elf: table offsets near 2**63": _elf64(shoff=2**63, shnum=100, phoff=2**62, phnum=100),
    "elf: 65535 section headers of 65535 bytes each": _elf64(shoff=64, shnum=0xFFFF, shentsize=0xFFFF),
    "elf: section name table index past the table": _elf64(shoff=64, shnum=3, shstrndx=0xFFFE),
    "elf: truncated inside the header": _elf64()[:20],
    "pe: NumberOfSections 65535": _pe(sections_count=0xFFFF),
    "pe: SizeOfOptionalHeader 65535": _pe(sizeof_optional=0xFFFF),
    "pe: truncated inside the COFF header": _pe()[:70],
    "mach-o: 2**32-1 load commands of size 0": _macho_loop(),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_executables_end_within_the_bound_with_a_layout_inside_the_file(tmp_path, name):
    path = tmp_path / "malformed.bin"
    path.write_bytes(MALFORMED[name])
    started = time.monotonic()
    layout = sections.parse_layout(path)
    assert time.monotonic() - started < sections.PARSE_SECONDS + 5
    size = path.stat().st_size
    assert all(0 <= region.offset and region.offset + region.size <= size for region in layout.regions)
    assert layout.format is not None or "plain byte plot" in layout.note


# ------------------------------------------------------------------------------ the bounds, hit on purpose in the child


def _sleep_for_an_hour(*args):  # run in the child in place of LIEF
    time.sleep(3600)


def _allocate_without_end(*args):  # run in the child in place of LIEF; gives up at 1 GiB should the bound not hold
    held = [bytearray(16 * 2**20) for _ in range(64)]
    return len(held)


def _crash(*args):
    os.kill(os.getpid(), signal.SIGSEGV)


def _elf(tmp_path: Path) -> Path:
    if not Path("/bin/true").is_file():
        pytest.skip("/bin/true (a small ELF executable) is absent")
    return Path(shutil.copyfile("/bin/true", tmp_path / "true"))


def test_a_parse_that_never_ends_is_stopped_at_the_time_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sections, "PARSE_SECONDS", 1.5)
    monkeypatch.setattr(sections, "_read_in_child", _sleep_for_an_hour)
    started = time.monotonic()
    layout = sections.parse_layout(_elf(tmp_path))
    assert time.monotonic() - started < 30  # the child's start (imports) is not counted in the 1.5 s
    assert layout.format is None and layout.regions == ()
    assert "parsing it with LIEF was stopped at the 1.5 s time limit: plain byte plot" in layout.note


needs_memory_bound = pytest.mark.skipif(bounded._address_space() is None, reason="RLIMIT_AS bound needs Linux")


@needs_memory_bound
def test_a_parse_that_allocates_without_end_is_stopped_at_the_memory_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(sections, "PARSE_MEMORY_BASE_BYTES", 64 * 2**20)
    monkeypatch.setattr(sections, "PARSE_MEMORY_PER_BYTE", 0)
    monkeypatch.setattr(sections, "_read_in_child", _allocate_without_end)
    layout = sections.parse_layout(_elf(tmp_path))
    assert layout.format is None
    assert "parsing it with LIEF was stopped at the 64 MiB memory limit: plain byte plot" in layout.note


@needs_memory_bound
def test_lief_itself_is_held_to_the_memory_limit(tmp_path, monkeypatch):
    """A real parse: LIEF reads the whole 64 MiB file into memory, over a 1 MiB bound."""
    path = _elf(tmp_path)
    with open(path, "r+b") as stream:
        stream.truncate(64 * 2**20)  # a valid ELF followed by zeros (sparse on disk)
    monkeypatch.setattr(sections, "PARSE_MEMORY_BASE_BYTES", 2**20)
    monkeypatch.setattr(sections, "PARSE_MEMORY_PER_BYTE", 0)
    assert "was stopped at the 1 MiB memory limit" in sections.parse_layout(path).note
    monkeypatch.undo()
    assert sections.parse_layout(path).format == "ELF"  # within the real bounds it parses


def test_a_crash_in_the_parser_becomes_a_note_and_the_next_file_parses(tmp_path, monkeypatch):
    path = _elf(tmp_path)
    monkeypatch.setattr(sections, "_read_in_child", _crash)
    layout = sections.parse_layout(path)
    assert layout.format is None and f"crashed its process (exit code {-signal.SIGSEGV})" in layout.note
    monkeypatch.undo()
    assert sections.parse_layout(path).format == "ELF"


def test_the_child_is_reused_until_a_bound_is_hit():
    first, second = (bounded.call(os.getpid, (), seconds=30, memory_bytes=None) for _ in range(2))
    assert first == second != os.getpid()
    with pytest.raises(bounded.TimeLimitExceeded, match="0.5 s time limit"):
        bounded.call(time.sleep, (60,), seconds=0.5, memory_bytes=None)
    assert bounded.call(os.getpid, (), seconds=30, memory_bytes=None) != first  # killed, and replaced


def test_exceptions_come_back_as_raised_and_the_note_keeps_lief_wording(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="invalid literal"):
        bounded.call(int, ("not a number",), seconds=30, memory_bytes=None)
    path = tmp_path / "broken"
    path.write_bytes(_pe()[:70])
    expected = "looks like an executable but LIEF could not parse it (malformed or truncated?): plain byte plot"
    assert sections.parse_layout(path).note == expected  # the wording from before the bounds
