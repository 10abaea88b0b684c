"""Issue 17: a full disk during ingest, import, rm and export gives one line and exit 4; after
space is freed, the same command completes with nothing lost. A real small tmpfs (needs root to
mount); fixity and SQLite's integrity check in `wenshi check`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from cli import main
from tests.conftest import SAMPLES, tesseract_or_skip

FULL = re.compile(r"Error: (?P<where>.+): no space left on device; (?P<kept>.+) — free space and "
                  r"run the same command again\n")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MB tmpfs, unmounted afterwards: room for the samples' library (page images kept
    since issue 15) and what an import, rm or export writes beside it once space is freed."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path, leave: int) -> Path:
    """Fill the disk but `leave` bytes with one file."""
    filler = disk / "filler"
    free = shutil.disk_usage(disk).free
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def wenshi(library: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--library", str(library), *args])


def hits(library: Path, query: str) -> list[tuple[str, int]]:
    result = wenshi(library, "search", query, "--limit", "0", "--json")
    assert result.exit_code == 0, result.output
    return sorted((h["doc_id"], h["page"]) for h in json.loads(result.stdout)["hits"])


def test_ingest_onto_a_full_disk_then_again_after_freeing_space(small_disk: Path,
                                                                built_library: Any) -> None:
    tesseract_or_skip()
    library = small_disk / "library"
    filler = fill(small_disk, 200_000)
    args = ("ingest", str(SAMPLES / "power"), "--collection", "电力工业史", "--jobs", "1")
    first = wenshi(library, *args)
    assert first.exit_code == 4, first.output
    match = FULL.fullmatch(first.stderr)
    assert match, first.stderr  # one line, no traceback
    assert match["where"] == str(library)
    stored = int(re.fullmatch(r"the (\d+) pages stored so far are kept", match["kept"])[1])
    filler.unlink()
    import sqlite3

    db = sqlite3.connect(library / "catalog.sqlite")
    assert db.execute("SELECT COUNT(*) FROM pages").fetchone()[0] == stored  # as the line said
    db.close()
    again = wenshi(library, *args)
    assert again.exit_code == 0, again.output
    check = wenshi(library, "check", "--json")
    assert check.exit_code == 0 and json.loads(check.stdout)["catalog"]["pages"] == 9
    # Nothing lost: the same hits as a library that never ran out of space.
    for query in ("电厂", '"水电站"', "collection:电力工业史"):
        assert hits(library, query) == hits(built_library["library"],
                                            f"({query}) collection:电力工业史")


def test_import_rm_and_export_on_a_full_disk(small_disk: Path, built_library: Any,
                                             tmp_path: Path) -> None:
    library = small_disk / "library"
    shutil.copytree(built_library["library"], library)
    sheet = tmp_path / "目录.csv"
    assert wenshi(library, "catalog", "export", "电力工业史", "-o", str(sheet)).exit_code == 0
    lines = sheet.read_text(encoding="utf-8-sig").splitlines()
    header = lines[0].split(",")
    cells = lines[1].split(",")
    cells[header.index("备注")] = "磁盘满时改的"
    doc_id = cells[0]
    lines[1] = ",".join(cells)
    sheet.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    filler = fill(small_disk, 0)

    imported = wenshi(library, "catalog", "import", str(sheet))
    assert imported.exit_code == 4 and FULL.fullmatch(imported.stderr), imported.output
    removed = wenshi(library, "rm", doc_id, "--yes")
    assert removed.exit_code == 4 and FULL.fullmatch(removed.stderr), removed.output
    # A library on another disk exporting onto the full one.
    out = small_disk / "out"
    exported = wenshi(built_library["library"], "export", "电力工业史", "--format", "md", "-o",
                      str(out / "a.md"))
    assert exported.exit_code == 4, exported.output
    assert FULL.fullmatch(exported.stderr)["kept"] == ("each file written so far is whole, no "
                                                       "partial file is left")
    assert not out.exists() or not any(out.iterdir())  # no partial file

    filler.unlink()
    assert wenshi(library, "catalog", "import", str(sheet)).exit_code == 0
    shown = json.loads(wenshi(library, "show", doc_id, "--json").stdout)
    assert shown["metadata"]["notes"] == "磁盘满时改的"
    assert wenshi(library, "rm", doc_id, "--yes").exit_code == 0
    assert doc_id not in {d for d, _ in hits(library, "collection:电力工业史")}
    assert wenshi(library, "export", "电力工业史", "--format", "md",
                  "-o", str(out / "a.md")).exit_code == 0
    check = wenshi(library, "check")
    assert check.exit_code == 0, check.output


def test_check_reports_a_flipped_byte_in_a_page_file_and_a_changed_original(
        tmp_path: Path) -> None:
    tesseract_or_skip()
    scan = tmp_path / "scans" / "输电线路.webp"
    scan.parent.mkdir()
    shutil.copy(SAMPLES / "power" / "输电线路.webp", scan)
    library = tmp_path / "library"
    assert wenshi(library, "ingest", str(scan), "--collection", "c").exit_code == 0
    clean = wenshi(library, "check", "--json")
    assert clean.exit_code == 0, clean.output
    report = json.loads(clean.stdout)
    assert report["catalog_integrity"] == ["ok"] and report["fixity"]["changed"] == []
    [alto] = list((library / "pages").glob("*/0001.alto.xml"))
    data = bytearray(alto.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte
    alto.write_bytes(bytes(data))
    with open(scan, "ab") as fh:
        fh.write(b"\0")
    flipped = wenshi(library, "check")
    assert flipped.exit_code == 1
    name = alto.relative_to(library).as_posix()
    assert (f"page file changed since it was stored (restore it from a copy or a bag): {name}"
            in flipped.stdout.splitlines())
    assert f"source file changed since ingest: {scan}" in flipped.stdout.splitlines()
    # A library from before checksums: its page files are listed, and --repair records them.
    import sqlite3

    alto.write_bytes(bytes(data[:len(data) // 2]) + bytes([data[len(data) // 2] ^ 1])
                     + bytes(data[len(data) // 2 + 1:]))
    db = sqlite3.connect(library / "catalog.sqlite")
    with db:  # the checksum table as it first was (no pending columns), empty
        db.execute("DROP TABLE fixity")
        db.execute("CREATE TABLE fixity (name TEXT PRIMARY KEY, doc_id TEXT NOT NULL,"
                   " sha256 TEXT NOT NULL, size INTEGER NOT NULL, at TEXT NOT NULL)")
    db.close()
    old = json.loads(wenshi(library, "check", "--json").stdout)
    page_files = sorted(p.relative_to(library).as_posix() for p in alto.parent.iterdir())
    assert old["fixity"]["unrecorded"] == page_files and not old["ok"]  # ALTO and page images
    assert name in page_files
    shown = ", ".join(page_files[:3]) + (", ..." if len(page_files) > 3 else "")
    assert (f"{len(page_files)} page files without a checksum yet (check --repair records "
            f"them): {shown}" in wenshi(library, "check").stdout.splitlines())
    assert wenshi(library, "check", "--repair").exit_code == 0
    assert json.loads(wenshi(library, "check", "--json").stdout)["fixity"]["unrecorded"] == []
