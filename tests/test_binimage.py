"""Executables as images: Nataraj's width table, the byte plot, file errors, sections, the CLI.

Real executables are only read (the running Python's ELF file, pip's and setuptools' PE launchers), never run.
"""

from __future__ import annotations

import hashlib
import os
import struct
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from spatiallab.binimage import (
    draw_layout,
    head_tile,
    nataraj_width,
    parse_layout,
    plot_shape,
    resize_plot,
    to_image,
)
from spatiallab.cli import main
from spatiallab.data.errors import DataFormatError

# Nataraj et al. 2011, Table 1, written out independently of the module's table.
PAPER_EDGES_KB = [10, 30, 60, 100, 200, 500, 1000]
PAPER_WIDTHS = [32, 64, 128, 256, 384, 512, 768, 1024]
PURELIB = Path(sysconfig.get_paths()["purelib"])
PE_LAUNCHERS = sorted(PURELIB.glob("setuptools/*.exe")) + sorted(PURELIB.glob("pip/_vendor/distlib/*.exe"))
ELF_FILE = Path(os.path.realpath(sys.executable))


def random_bytes(size: int, seed: int = 0) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize("kilobyte", [1024, 1000])
def test_width_table_band_edges(kilobyte):
    for band, edge_kb in enumerate(PAPER_EDGES_KB):
        edge = edge_kb * kilobyte
        assert nataraj_width(edge - 1, kilobyte) == PAPER_WIDTHS[band]
        assert nataraj_width(edge, kilobyte) == PAPER_WIDTHS[band + 1]  # a band includes its lower edge
        assert nataraj_width(edge + 1, kilobyte) == PAPER_WIDTHS[band + 1]
    assert nataraj_width(1, kilobyte) == 32
    assert nataraj_width(10**10, kilobyte) == 1024


def test_width_edges_named_in_the_issue():
    assert [nataraj_width(size) for size in (10_239, 10_240, 10_241)] == [32, 64, 64]
    assert [nataraj_width(size, kilobyte=1000) for size in (9_999, 10_000, 10_239, 10_240)] == [32, 64, 64, 64]


@pytest.mark.parametrize("bad", [0, -5, 2.5])
def test_width_rejects_non_positive_sizes(bad):
    with pytest.raises(ValueError, match="size_bytes"):
        nataraj_width(bad)


def test_width_rejects_other_kilobytes():
    with pytest.raises(ValueError, match="kilobyte"):
        nataraj_width(100, kilobyte=1023)


@pytest.mark.parametrize("name", ["debian_arch9_nataraj64.npz", "pe_toolchain_nataraj64.npz"])
def test_width_rule_reproduces_every_row_of_the_shared_corpora(shared_data, name):
    path = shared_data / "binaries" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with np.load(path, allow_pickle=False) as archive:
        sizes, widths, heights = archive["file_size"], archive["orig_width"], archive["orig_height"]
    shapes = np.array([plot_shape(int(size), kilobyte=1024) for size in sizes])
    np.testing.assert_array_equal(shapes[:, 1], widths)
    np.testing.assert_array_equal(shapes[:, 0], heights)
    assert len(np.unique(widths)) >= 7  # the check spans most bands of the table


def test_byte_plot_is_row_major_and_pads_only_the_partial_last_row(tmp_path):
    content = random_bytes(10_241)
    image = to_image(write(tmp_path / "f", content))
    assert image.dtype == np.uint8 and image.shape == (161, 64)  # ceil(10241 / 64) = 161
    assert image.reshape(-1)[:10_241].tobytes() == content
    assert image[0, :5].tolist() == list(content[:5]) and image[1, 0] == content[64]
    assert not image[-1, 1:].any()  # 63 padding bytes, 0 by default
    np.testing.assert_array_equal(to_image(content), image)  # bytes in, same plot


def test_whole_rows_get_no_extra_row(tmp_path):
    image = to_image(write(tmp_path / "f", random_bytes(64 * 200)))
    assert image.shape == (200, 64)


def test_padding_byte_and_explicit_width(tmp_path):
    image = to_image(random_bytes(100), width=16, pad_byte=255)
    assert image.shape == (7, 16)
    assert image.reshape(-1)[100:].tolist() == [255] * 12
    with pytest.raises(ValueError, match="pad_byte"):
        to_image(random_bytes(100), pad_byte=256)


def test_max_bytes_gives_the_top_rows_of_the_full_plot(tmp_path):
    path = write(tmp_path / "f", random_bytes(50_000))  # 128 bytes per row (30-60 kB band)
    full, capped = to_image(path), to_image(path, max_bytes=1_000)
    assert capped.shape == (8, 128)  # width from the whole file, height from the 1,000 bytes read
    np.testing.assert_array_equal(capped[:7], full[:7])
    assert capped.reshape(-1)[1_000:].sum() == 0


def test_head_tile_reads_the_first_bytes_without_resampling(tmp_path):
    content = random_bytes(5_000)
    tile = head_tile(write(tmp_path / "f", content), 4096)
    assert tile.shape == (64, 64) and tile.tobytes() == content[:4096]
    short = head_tile(content[:100], 256)
    assert short.shape == (16, 16) and short.reshape(-1)[:100].tobytes() == content[:100]
    assert not short.reshape(-1)[100:].any()
    with pytest.raises(ValueError, match="perfect square"):
        head_tile(content, 1000)


def test_resize_plot_is_pillow_bilinear():
    image = np.arange(32 * 40, dtype=np.int64).reshape(40, 32).astype(np.uint8)
    expected = np.asarray(Image.fromarray(image).resize((8, 8), Image.Resampling.BILINEAR))
    np.testing.assert_array_equal(resize_plot(image, 8), expected)
    assert resize_plot(image, 8).shape == (8, 8)


def test_empty_file_is_an_error(tmp_path):
    with pytest.raises(DataFormatError, match=r"empty.*found an empty file \(0 bytes\)"):
        to_image(write(tmp_path / "empty.bin", b""))


def test_directory_is_an_error(tmp_path):
    with pytest.raises(DataFormatError, match="found a folder"):
        to_image(tmp_path)


def test_fifo_is_an_error_and_is_never_opened(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)  # opening it for reading would block: the check must not open it
    with pytest.raises(DataFormatError, match=r"pipe: expected a regular file.*named pipe \(FIFO\)"):
        to_image(fifo)


def test_character_device_is_an_error():
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null on this system")
    with pytest.raises(DataFormatError, match="character device"):
        to_image("/dev/null")


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing-here: no such file"):
        to_image(tmp_path / "nothing-here")


def test_unreadable_file_is_a_clear_error(tmp_path):
    path = write(tmp_path / "secret", b"abc")
    path.chmod(0)
    if os.access(path, os.R_OK):  # root (and CAP_DAC_OVERRIDE) reads any file: permission bits cannot stop it
        pytest.skip("running with the privilege to read a mode-000 file; see the next test for the error path")
    with pytest.raises(DataFormatError, match="permission denied"):
        to_image(path)


def test_permission_error_from_the_read_becomes_a_clear_error(tmp_path, monkeypatch):
    path = write(tmp_path / "secret", b"abc")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(np, "memmap", refuse)  # what opening a file we may not read raises, even as root
    with pytest.raises(DataFormatError, match=r"secret: expected a file this user may read; found permission denied"):
        to_image(path)


def _launchers_in_corpus(shared_data, name):
    path = shared_data / "binaries" / name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in ("sha256", "x64", "head4096", "orig_width", "orig_height")}


def test_converter_reproduces_the_shared_corpus_on_the_same_files(shared_data):
    corpus = _launchers_in_corpus(shared_data, "pe_toolchain_nataraj64.npz")
    row_of = {digest: row for row, digest in enumerate(corpus["sha256"])}
    matched = 0
    for launcher in PE_LAUNCHERS:
        row = row_of.get(hashlib.sha256(launcher.read_bytes()).hexdigest())
        if row is None:
            continue
        image = to_image(launcher)
        assert image.shape == (corpus["orig_height"][row], corpus["orig_width"][row])
        np.testing.assert_array_equal(head_tile(launcher, 4096), corpus["head4096"][row])
        # The corpus was resized with Pillow 13.0; other Pillow versions round a few pixels differently.
        difference = np.abs(resize_plot(image, 64).astype(int) - corpus["x64"][row])
        assert difference.max() <= 1
        matched += 1
    if not matched:
        pytest.skip("none of this environment's pip/setuptools launchers is in the shared PE corpus")


def test_sections_of_an_elf_file_match_its_header():
    if ELF_FILE.read_bytes()[:4] != b"\x7fELF":
        pytest.skip(f"{ELF_FILE} is not an ELF file on this platform")
    header = ELF_FILE.read_bytes()[:64]
    phoff, _, _, ehsize = struct.unpack_from("<QQIH", header, 0x20)  # ELF64 little-endian field layout
    layout = parse_layout(ELF_FILE)
    assert layout.format == "ELF" and layout.machine and layout.filetype in ("DYN", "EXEC")
    regions = {region.name: region for region in layout.regions}
    assert (regions["ELF header"].offset, regions["ELF header"].size) == (0, ehsize)
    assert regions["program headers"].offset == phoff
    if ".text" in regions:  # absent only from a stripped file without section headers
        assert regions[".text"].kind == "code"
    assert all(region.offset + region.size <= ELF_FILE.stat().st_size for region in layout.regions)


def _pe_section_table(data: bytes) -> list[tuple[str, int, int]]:
    """(name, PointerToRawData, SizeOfRawData) read with struct from the PE/COFF headers (independent of LIEF)."""
    pe_offset = struct.unpack_from("<I", data, 0x3C)[0]
    assert data[pe_offset : pe_offset + 4] == b"PE\0\0"
    count, optional_size = struct.unpack_from("<H", data, pe_offset + 6)[0], struct.unpack_from(
        "<H", data, pe_offset + 20)[0]
    table = pe_offset + 24 + optional_size
    sections = []
    for index in range(count):
        name, _, _, raw_size, raw_pointer = struct.unpack_from("<8sIIII", data, table + 40 * index)
        if raw_size:
            sections.append((name.rstrip(b"\0").decode(), raw_pointer, raw_size))
    return sections


def test_sections_of_a_pe_launcher_match_its_section_table():
    if not PE_LAUNCHERS:
        pytest.skip("no pip/setuptools .exe launchers in this environment")
    launcher = PE_LAUNCHERS[0]
    layout = parse_layout(launcher)
    assert layout.format == "PE" and layout.filetype == "EXE"
    sections = [(r.name, r.offset, r.size) for r in layout.regions if r.kind not in ("header", "overlay")]
    assert sections == _pe_section_table(launcher.read_bytes())
    assert layout.regions[0].name == "DOS + PE headers" and layout.regions[0].offset == 0
    assert any(region.kind == "code" for region in layout.regions)


def test_sections_of_a_hand_made_macho_file(tmp_path):
    section = struct.pack("<16s16sQQIIIIIIII", b"__text", b"__TEXT", 0x1000, 64, 256, 4, 0, 0, 0x80000400, 0, 0, 0)
    segment = struct.pack("<II16sQQQQiiII", 0x19, 72 + 80, b"__TEXT", 0, 0x1000, 0, 512, 5, 5, 1, 0)
    header = struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 1, len(segment) + len(section), 0, 0)
    body = header + segment + section
    path = write(tmp_path / "tiny", body + bytes(256 - len(body)) + bytes(range(64)) + bytes(192))
    layout = parse_layout(path)
    assert layout.format == "MachO" and layout.filetype == "EXECUTE"
    assert ("__TEXT,__text", "code", 256, 64) in [(r.name, r.kind, r.offset, r.size) for r in layout.regions]


def test_non_executable_gets_a_plain_plot_and_a_note(tmp_path):
    path = write(tmp_path / "notes.txt", b"just some text\n" * 100)
    layout = parse_layout(path)
    assert layout.format is None and layout.regions == () and "not a PE, ELF or Mach-O" in layout.note
    draw_layout(to_image(path), layout, tmp_path / "notes.png", "notes.txt")
    assert Image.open(tmp_path / "notes.png").size[0] > 100
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.png", "notes.txt"]  # no temporary left


@pytest.mark.parametrize("content", [b"\x7fELF" + random_bytes(3000, 1), b"MZ" + random_bytes(3000, 2)])
def test_malformed_executables_never_crash(tmp_path, content):
    path = write(tmp_path / "broken", content)
    layout = parse_layout(path)
    assert all(region.offset + region.size <= len(content) for region in layout.regions)
    draw_layout(to_image(path), layout, tmp_path / "broken.png", "broken")
    assert (tmp_path / "broken.png").is_file()


def test_truncated_pe_keeps_regions_inside_the_file(tmp_path):
    if not PE_LAUNCHERS:
        pytest.skip("no pip/setuptools .exe launchers in this environment")
    path = write(tmp_path / "cut.exe", PE_LAUNCHERS[0].read_bytes()[:3000])
    layout = parse_layout(path)
    assert all(region.offset + region.size <= 3000 for region in layout.regions)


def test_cli_writes_lossless_pngs_and_the_overlay(tmp_path):
    source = write(tmp_path / "prog.bin", random_bytes(20_000, 3))
    result = CliRunner().invoke(main, ["binimage", str(source), "--out", str(tmp_path / "out"), "--sections",
                                       "--size", "32", "--head-bytes", "1024"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    np.testing.assert_array_equal(np.asarray(Image.open(out / "prog.bin.png")), to_image(source))
    assert Image.open(out / "prog.bin.x32.png").size == (32, 32)
    assert np.asarray(Image.open(out / "prog.bin.head1024.png")).tobytes() == source.read_bytes()[:1024]
    assert (out / "prog.bin.sections.png").is_file()
    assert "not a PE, ELF or Mach-O" in result.output


def test_cli_reports_bad_files_and_converts_the_rest(tmp_path):
    good = write(tmp_path / "good", random_bytes(500))
    empty = write(tmp_path / "empty", b"")
    result = CliRunner().invoke(main, ["binimage", str(good), str(empty), "--out", str(tmp_path / "out"),
                                       "--max-bytes", "100"])
    assert result.exit_code == 1
    assert "empty: expected a file of at least one byte" in result.output
    assert "1 of 2 file(s) could not be converted" in result.output
    assert "read only the first 100 of 500 bytes" in result.output
    assert np.asarray(Image.open(tmp_path / "out" / "good.png")).shape == (4, 32)


def test_truncated_pe_header_gets_a_note_not_an_attribute_error(tmp_path):
    if not PE_LAUNCHERS:
        pytest.skip("no pip/setuptools .exe launchers in this environment")
    path = write(tmp_path / "cut.exe", PE_LAUNCHERS[0].read_bytes()[:400])
    layout = parse_layout(path)
    assert "AttributeError" not in layout.note and layout.note  # a note says what is missing, whatever LIEF made
    assert all(region.offset + region.size <= 400 for region in layout.regions)


def test_elf_magic_alone_gets_a_note_for_the_missing_structure(tmp_path):
    layout = parse_layout(write(tmp_path / "elf10", ELF_FILE.read_bytes()[:10]))
    assert layout.regions == () and "no header, section or segment" in layout.note


def test_max_bytes_limits_what_lief_parses(tmp_path):
    whole, capped = parse_layout(ELF_FILE), parse_layout(ELF_FILE, max_bytes=4096)
    assert capped.format == whole.format == "ELF" and capped.machine == whole.machine
    assert "first 4,096 bytes only" in capped.note
    assert max(region.offset + region.size for region in capped.regions) <= 4096
    assert max(region.offset + region.size for region in whole.regions) > 4096


def test_cli_refuses_to_replace_existing_outputs_without_overwrite(tmp_path):
    source = write(tmp_path / "prog", random_bytes(500))
    out = tmp_path / "out"
    out.mkdir()
    earlier = write(out / "prog.png", b"the user's own picture")
    result = CliRunner().invoke(main, ["binimage", str(source), "--out", str(out)])
    assert result.exit_code == 2 and "already exist" in result.output and "--overwrite" in result.output
    assert earlier.read_bytes() == b"the user's own picture"
    result = CliRunner().invoke(main, ["binimage", str(source), "--out", str(out), "--overwrite"])
    assert result.exit_code == 0, result.output
    np.testing.assert_array_equal(np.asarray(Image.open(earlier)), to_image(source))


def test_cli_refuses_colliding_output_names_before_writing(tmp_path):
    first, second = write(tmp_path / "a", random_bytes(500, 1)), write(tmp_path / "a.x64", random_bytes(900, 2))
    result = CliRunner().invoke(main, ["binimage", str(first), str(second), "--size", "64",
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "a.x64.png" in result.output
    assert not (tmp_path / "out").exists()


def test_cli_refuses_a_head_tile_that_is_not_square_up_front(tmp_path):
    source = write(tmp_path / "prog", random_bytes(500))
    result = CliRunner().invoke(main, ["binimage", str(source), "--head-bytes", "1000", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "1000 is not a perfect square" in result.output
    assert not (tmp_path / "o").exists()


def test_head_tile_honours_max_bytes():
    tile = head_tile(bytes(range(1, 17)), 16, max_bytes=5, pad_byte=9)
    assert tile.reshape(-1).tolist() == [1, 2, 3, 4, 5] + [9] * 11


def test_cli_head_tile_and_sections_honour_max_bytes(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["binimage", str(ELF_FILE), "--out", str(out), "--max-bytes", "1000",
                                       "--head-bytes", "4096", "--sections"])
    assert result.exit_code == 0, result.output
    tile = np.asarray(Image.open(out / f"{ELF_FILE.name}.head4096.png")).reshape(-1)
    assert tile[:1000].tobytes() == ELF_FILE.read_bytes()[:1000] and not tile[1000:].any()
    assert "structure read from the first 1,000 bytes only" in result.output


def test_cli_refuses_absurd_widths(tmp_path):
    source = write(tmp_path / "prog", random_bytes(500))
    result = CliRunner().invoke(main, ["binimage", str(source), "--width", "10000000000", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--width" in result.output and not (tmp_path / "o").exists()


def test_labels_stay_near_small_regions_that_share_a_large_regions_start():
    from spatiallab.binimage.overlay import _label_positions

    centres = [2_500.0, 32.0, 400.0]  # a LOAD segment over [0, 5000), the ELF header, the program headers
    positions = _label_positions(centres, 5_000)
    assert positions[1] < positions[2] < positions[0]
    assert positions[1] < 100 and abs(positions[0] - 2_500) < 1


def test_segments_name_their_permissions_when_there_are_no_section_headers(tmp_path):
    content = bytearray(ELF_FILE.read_bytes())
    assert content[4] == 2  # ELFCLASS64: e_shoff at 0x28 (8 bytes), e_shnum at 0x3C (2 bytes)
    content[0x28:0x30], content[0x3C:0x3E] = bytes(8), bytes(2)
    layout = parse_layout(write(tmp_path / "stripped", bytes(content)))
    names = [region.name for region in layout.regions if region.name.startswith("LOAD")]
    assert names and all(len(name) == 8 and set(name[5:]) <= set("RWX-") for name in names)
    assert "LOAD R-X" in names


def test_cli_leaves_no_empty_folder_when_every_file_fails(tmp_path):
    empty = write(tmp_path / "empty", b"")
    result = CliRunner().invoke(main, ["binimage", str(empty), str(tmp_path / "absent"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and "2 of 2 file(s) could not be converted" in result.output
    assert "Byte plots written" not in result.output and not (tmp_path / "o").exists()
    assert "FileNotFoundError" not in result.output and "absent" in result.output


def test_region_tint_follows_bytes_not_rows():
    from matplotlib.colors import to_rgba

    from spatiallab.binimage.overlay import KIND_COLOURS, region_tint
    from spatiallab.binimage.sections import Region

    regions = [Region("hdr", "header", 0, 2), Region(".text", "code", 2, 6), Region(".x", "data", 5, 1),
               Region("tail", "overlay", 8, 4)]  # the last reaches past the 10 bytes plotted
    tint = region_tint(regions, (3, 4), (3, 4), total=10)  # bytes 0..9 of a 3 x 4 plot; 10 and 11 are padding
    kinds = np.full(12, "", dtype=object)
    colour = {tuple(np.round(255 * np.array(to_rgba(KIND_COLOURS[k], 0.35))).astype(int)): k for k in KIND_COLOURS}
    for offset, pixel in enumerate(tint.reshape(-1, 4)):
        kinds[offset] = colour.get(tuple(int(v) for v in pixel), "" if not pixel.any() else "?")
    assert kinds.tolist() == ["header"] * 2 + ["code"] * 3 + ["data"] + ["code"] * 2 + ["overlay"] * 2 + [""] * 2
    shrunk = region_tint(regions, (3, 4), (3, 2), total=10)  # every other column: bytes 0, 2 / 4, 6 / 8, 10
    assert (shrunk[:, :, 3] > 0).tolist() == [[True, True], [True, True], [True, False]]


def test_truncated_pe_is_named_by_its_signature(tmp_path):
    layout = parse_layout(write(tmp_path / "cut.exe", b"MZ" + bytes(98)))
    assert layout.format is None and "starts with the MZ (DOS/PE) signature" in layout.note


def test_cli_symlink_loop_is_a_clear_error(tmp_path):
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    result = CliRunner().invoke(main, ["binimage", str(tmp_path / "loop1"), "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, SystemExit) and result.exit_code == 1  # a clean exit, not a RuntimeError
    assert "loop1" in result.output and "1 of 1 file(s) could not be converted" in result.output


def test_cli_write_errors_name_the_output_not_the_input(tmp_path, monkeypatch):
    source = write(tmp_path / "prog", random_bytes(500))
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "prog.png").mkdir()  # a folder where the PNG goes
    result = CliRunner().invoke(main, ["binimage", str(source), "--out", str(tmp_path / "o"), "--overwrite"])
    assert result.exit_code == 2 and "a folder where an output file goes" in result.output

    def refuse(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "o2" / ".prog.png.123.tmp"))

    monkeypatch.setattr("spatiallab.binimage.save_png", refuse)
    result = CliRunner().invoke(main, ["binimage", str(source), "--out", str(tmp_path / "o2")])
    assert result.exit_code == 1
    assert f"could not write {tmp_path / 'o2' / 'prog.png'}: Permission denied" in result.output
    assert ".tmp" not in result.output and "could not be converted" not in result.output
    assert not (tmp_path / "o2").exists()  # created by this run, left empty by the failed write: removed


def test_cli_names_a_file_in_the_way_of_the_out_folder(tmp_path):
    source = write(tmp_path / "prog", random_bytes(500))
    blocking = write(tmp_path / "data.npz", b"x")
    result = CliRunner().invoke(main, ["binimage", str(source), "--out", str(blocking / "plots")])
    assert result.exit_code == 1 and f"{blocking} is a file, not a folder" in result.output


def test_sigterm_during_an_atomic_write_leaves_no_temporary(tmp_path):
    import signal
    import time

    from spatiallab.atomic import atomic_path
    from spatiallab.cli import _exit_on_sigterm

    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        with pytest.raises(SystemExit) as exited, atomic_path(tmp_path / "out.png") as temporary:
            temporary.write_bytes(b"half a PNG")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler raises here, long before the sleep ends
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exited.value.code == 128 + signal.SIGTERM and list(tmp_path.iterdir()) == []


def test_tensorflow_retracing_warnings_are_filtered_and_others_kept():
    import logging

    import spatiallab.cli  # noqa: F401  installs the filter

    logger = logging.getLogger("tensorflow")
    retracing = logger.makeRecord("tensorflow", logging.WARNING, __file__, 1,
                                  "5 out of the last 5 calls to <f> triggered tf.function retracing.", (), None)
    other = logger.makeRecord("tensorflow", logging.WARNING, __file__, 1, "something else", (), None)
    assert not logger.filter(retracing) and logger.filter(other)
