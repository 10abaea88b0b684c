"""Rebuild places.tsv from the jionlp wheel's gazetteer (not imported at run time).

Usage: python pipeline/text/data/make_places.py JIONLP_WHEEL > pipeline/text/data/places.tsv
(get the wheel with `pip download --no-deps jionlp==1.5.31`). Keeps provinces, prefectures,
counties (full name and jionlp's short name), towns (镇, 乡, 街道, 苏木: full name and the name
without its suffix), pre-2023 names from jionlp's change list, and countries and their main
cities; villages are left out (600,000 names, mostly ambiguous). jionlp is Apache-2.0.
"""

from __future__ import annotations

import io
import re
import sys
import zipfile

_TOWN_SUFFIX = re.compile(r"(民族乡|街道办事处|街道|镇|乡|苏木)$")
_HEADER = """\
# Gazetteer for pipeline/text/names.py: name<TAB>key<TAB>kind. Names sharing a key are one place.
# kind: province, prefecture, county, town, former (renamed), country, city (abroad).
# Extracted by pipeline/text/data/make_places.py from jionlp {version} (Apache License 2.0,
# (c) dongrixinyu): dictionary/china_location.zip, china_location_change.txt,
# world_location.txt. Changes: villages dropped, town short names derived, reformatted.
"""


def _rows(wheel: zipfile.ZipFile) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    with zipfile.ZipFile(io.BytesIO(wheel.read("jionlp/dictionary/china_location.zip"))) as inner:
        text = inner.read("china_location.txt").decode("utf-8")
    kinds = ("province", "prefecture", "county", "town")
    for line in text.splitlines():
        depth = len(line) - len(line.lstrip("\t"))
        cells = line.strip().split("\t")
        if depth > 3 or not cells[0]:
            continue
        name = cells[0]
        if depth < 3:
            short = cells[2] if len(cells) > 2 and cells[2] else name
            rows.append((name, short, kinds[depth]))
            if short != name:
                rows.append((short, short, kinds[depth]))
        elif _TOWN_SUFFIX.search(name):
            short = _TOWN_SUFFIX.sub("", name)
            rows.append((name, short if len(short) >= 2 else name, "town"))
            if len(short) >= 2:
                rows.append((short, short, "town"))
    change = wheel.read("jionlp/dictionary/china_location_change.txt").decode("utf-8")
    for line in change.splitlines():
        if "=>" not in line:
            continue
        old = line.split("=>")[0].split("\t")[2:]
        for full, short in zip(old[0::2], old[1::2]):
            rows.append((full, short, "former"))
            rows.append((short, short, "former"))
    world = wheel.read("jionlp/dictionary/world_location.txt").decode("utf-8")
    for line in world.splitlines():
        cells = line.strip().split("\t")
        if len(cells) < 2:
            continue
        rows.append((cells[0], cells[0], "country"))
        rows.append((cells[1], cells[0], "country"))
        for cell in cells[2:]:
            for city in cell.split("/"):
                if len(city) >= 2:
                    rows.append((city, city, "city"))
    return rows


def main(argv: list[str]) -> int:
    """Print places.tsv for the jionlp wheel named in argv[1]."""
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    version = re.sub(r"^jionlp-([^-]+)-.*$", r"\1", argv[1].rsplit("/", 1)[-1])
    with zipfile.ZipFile(argv[1]) as wheel:
        rows = _rows(wheel)
    seen: set[str] = set()
    out = [_HEADER.format(version=version)]
    rank = {"province": 0, "prefecture": 1, "county": 2, "former": 3, "country": 4, "city": 5,
            "town": 6}
    for name, key, kind in sorted(rows, key=lambda r: rank[r[2]]):
        if name in seen or name == "中国" and kind != "country":
            continue
        seen.add(name)
        out.append(f"{name}\t{key}\t{kind}\n")
    sys.stdout.write("".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
