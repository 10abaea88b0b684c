"""The page quality estimate (pipeline/page/quality.py) and the 需校对 rule (index/quality.py)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli import main
from index.quality import needs_proofreading
from pipeline.page import quality
from pipeline.page.alto import parse_alto

CLEAN = "县电厂于一九五八年扩建，新装两台发电机组，全县农村开始用电。"
# Same length, same engine confidences: characters an engine produces from noise and handwriting.
GARBAGE = "丨亍巛乂冫卩冖丶亠匚彡氵丿乚亻刂阝廾弋彐夂宀尢屮巛丨乂冫卩亠"
OLD = Path(__file__).resolve().parent / "data" / "library-592c1e5"
OLD_OCR_DOC = "eec9b3d99048f6e0"


def _lines(text: str, confidence: float) -> list[list[quality.Token]]:
    return [[(ch, confidence) for ch in text[i:i + 10]] for i in range(0, len(text), 10)]


def test_garbage_text_gets_a_higher_estimate_than_clean_text_of_the_same_shape() -> None:
    assert len(GARBAGE) == len(CLEAN)
    for confidence in (95.0, 70.0):
        clean = quality.estimate(_lines(CLEAN, confidence))
        garbage = quality.estimate(_lines(GARBAGE, confidence))
        assert clean is not None and garbage is not None
        assert garbage.error_rate > 3 * clean.error_rate
        assert garbage.listed() and garbage.reasons
        assert garbage.errors > clean.errors


def test_low_engine_confidence_raises_the_estimate() -> None:
    sure = quality.estimate(_lines(CLEAN, 96.0))
    unsure = quality.estimate(_lines(CLEAN, 40.0))
    assert sure is not None and unsure is not None
    assert unsure.error_rate > sure.error_rate
    assert any("confidence" in r for r in unsure.reasons)


def test_a_page_without_text_has_no_estimate() -> None:
    assert quality.estimate([]) is None
    assert quality.estimate([[(" ", 90.0)]]) is None


_ALTO = """<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout><Page><PrintSpace>
<TextBlock><TextLine><String CONTENT="县电厂" WC="0.96"/><String CONTENT="扩建" WC="0.95"/>
</TextLine><TextLine><String CONTENT="丨亍" WC="0.31"/><String CONTENT="巛乂" WC="0.93"/>
</TextLine></TextBlock></PrintSpace></Page></Layout></alto>"""


def test_alto_gets_character_doubt_and_the_doubtful_lines_are_found() -> None:
    root = parse_alto(_ALTO)
    marked = quality.mark_alto(root)
    assert root is not None and marked >= 4
    for s in root.iter("{*}String"):
        digits = s.get("CC", "").split()
        assert len(digits) == len(s.get("CONTENT", "")) and all(d.isdigit() for d in digits)
    suspects = quality.suspect_lines(root)
    assert [s["line"] for s in suspects] == [2]
    assert suspects[0]["text"] == "丨亍巛乂" and suspects[0]["suspect"] == [0, 1, 2, 3]
    estimate = quality.estimate_alto(root)
    assert estimate is not None and estimate.characters == 9


@dataclass(frozen=True)
class _Page:
    method: str = "ocr"
    confidence: float | None = 90.0
    error: str = ""
    proofread: bool = False
    error_rate: float | None = None


def test_the_rule_follows_the_estimate_with_the_confidence_floor() -> None:
    assert needs_proofreading(_Page(error_rate=0.08), 70)
    assert not needs_proofreading(_Page(confidence=80.0, error_rate=0.001), 70)
    assert needs_proofreading(_Page(confidence=50.0, error_rate=0.001), 70)
    assert not needs_proofreading(_Page(error_rate=0.08, proofread=True), 70)
    assert not needs_proofreading(_Page(method="text", error_rate=0.08), 70)
    assert needs_proofreading(_Page(confidence=50.0), 70)  # stored before the estimate
    assert not needs_proofreading(_Page(confidence=90.0), 70)


def _run(library: Path, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--library", str(library), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_stats_and_show_give_the_estimate_worst_first(built_library: dict[str, Any]) -> None:
    library = built_library["library"]
    stats = _run(library, "stats", "--json")
    listed = stats["proofreading"]
    errors = [p["est_errors"] for p in listed if p["est_errors"] is not None]
    assert errors == sorted(errors, reverse=True)
    assert set(stats["proofreading_errors"]) <= {c["name"] for c in stats["collections"]}
    assert sum(stats["proofreading_errors"].values()) == sum(errors)
    estimated = 0
    for doc in (d for c in ("power", "railway") for d in _docs(built_library, c)):
        shown = _run(library, "show", doc, "--json")
        for page in shown["pages"]:
            q = page["quality"]
            assert set(q) == {"estimated_error_rate", "estimated_errors", "reasons",
                              "suspect_lines"}
            if page["method"] == "ocr" and not page["error"]:
                assert q["estimated_error_rate"] is not None
                estimated += 1
                if page["needs_proofreading"]:
                    assert q["reasons"]
    assert estimated >= 5
    text = _run(library, "stats")
    if listed:
        assert "most estimated errors first" in text and "per collection" in text


def _docs(built: dict[str, Any], collection_dir: str) -> list[str]:
    result = json.loads(built["results"][collection_dir].stdout)
    return [o["doc_id"] for o in result["documents"] if o["status"] == "ingested"]


def test_an_old_library_gets_estimates_from_its_stored_alto(tmp_path: Path) -> None:
    library = tmp_path / "library"
    shutil.copytree(OLD, library)
    before = _run(library, "show", OLD_OCR_DOC, "--json")["pages"][0]
    assert before["quality"]["estimated_error_rate"] is None  # migrated: no estimate yet
    _run(library, "reindex")
    after = _run(library, "show", OLD_OCR_DOC, "--json")["pages"][0]
    assert after["quality"]["estimated_error_rate"] is not None
    assert after["quality"]["estimated_errors"] >= 0
    _run(library, "stats", "--json")  # the migration runs once: opening again is fine
    with sqlite3.connect(library / "catalog.sqlite") as db:
        columns = [r[1] for r in db.execute("PRAGMA table_info(pages)")]
    assert columns.count("error_rate") == 1 and "quality_reasons" in columns


def test_the_next_page_to_proofread_is_the_worst_first(built_library: dict[str, Any]) -> None:
    from index import Library

    with Library.open(built_library["library"]) as lib:
        listed = lib.stats().proofreading
        assert len(listed) >= 2
        first = lib.next_to_proofread()
        assert first is not None and (first.doc_id, first.number) == (listed[0].doc_id,
                                                                      listed[0].number)
        second = lib.next_to_proofread(first.doc_id, first.number)
        assert second is not None and (second.doc_id, second.number) == (listed[1].doc_id,
                                                                         listed[1].number)
        assert (listed[0].est_errors or 0) >= (listed[1].est_errors or 0)
