"""The rendered pages of the OCR benchmark (benchmarks/ocr_accuracy.py) and the page-quality
benchmark's sources (benchmarks/page_quality.py): A5 pages hold whole texts and every character
set on them lies on the page; a text is one source however it is rendered."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import ocr_accuracy as oa  # noqa: E402
import page_quality as pq  # noqa: E402


@pytest.mark.parametrize("vertical", [False, True])
@pytest.mark.parametrize("size", [oa.A6, oa.A5])
def test_a_full_page_stays_inside_its_margins(size: tuple[int, int], vertical: bool) -> None:
    # As many characters as page_cells says the page holds: the last one is set inside the
    # margins (one more cell than that would run off the page).
    text = "國" * oa.page_cells(size, vertical)
    image = (oa.render_vertical(text, size=size) if vertical
             else oa.render_horizontal(text, size=size))
    ink = np.asarray(image) < 128
    rows, cols = np.nonzero(ink)
    assert rows.min() >= oa.MARGIN - 4 and cols.min() >= oa.MARGIN - 4
    assert rows.max() < size[1] - oa.MARGIN + 8 and cols.max() < size[0] - oa.MARGIN + 8
    # and the page is full: ink reaches the last line (the bottom) or column (the left)
    if vertical:
        assert cols.min() < oa.MARGIN + oa.COLUMN_PITCH
    else:
        assert rows.max() > size[1] - oa.MARGIN - oa.LINE_PITCH - oa.FONT_PX


def test_a5_pages_hold_whole_texts_in_order() -> None:
    simplified, traditional = oa.sample_texts("all")
    for texts, vertical in ((simplified, False), (traditional, True)):
        pages = oa.page_texts(texts, oa.A5, vertical)
        assert "".join(pages) == "".join(texts)
        assert len(pages) < len(texts)  # several texts a page: longer pages than A6's
        for page in pages:
            assert len(oa._glyph_cells(page)) <= oa.page_cells(oa.A5, vertical)
            assert any(page.startswith(t) for t in texts)  # no text split across two pages


def test_a_text_is_one_source_on_every_page_size() -> None:
    # An A6 page, the A5 page it is set on and a samples/ scan of the same text fall in one
    # leave-one-source-out group; different A5 pages in different groups.
    simplified, traditional = oa.sample_texts("all")
    long_simplified, long_traditional = pq._long_texts()
    groups = [pq.text_group(page, "-") for page in long_simplified + long_traditional]
    assert len(set(groups)) == len(groups) and "-" not in groups
    for text in simplified:
        home = next(g for g, page in zip(groups, long_simplified) if text in page)
        assert pq.text_group(text, "-") == home
        assert pq.text_group(" ".join(text[i:i + 20] for i in range(0, len(text), 20)),
                             "-") == home  # a reference with line breaks, as samples/ keep
    assert pq.text_group("这一页的文字不在任何一页上", "own") == "own"


def test_a_real_page_made_to_look_scanned_keeps_what_is_printed_at_its_edges() -> None:
    # Real pages are printed to their edges (slides, half-leaves): skewed for --degrade, a page
    # grows to hold its corners instead of cutting them off, and the same page always comes out
    # the same (its seed and skew follow from its name).
    from PIL import Image, ImageDraw
    page = Image.new("L", (400, 300), 255)
    draw = ImageDraw.Draw(page)
    for x, y in ((0, 0), (380, 0), (0, 280), (380, 280)):
        draw.rectangle((x, y, x + 19, y + 19), fill=0)
    before = int((np.asarray(page) < 128).sum())
    skewed, dpi = oa.degrade_real("b2.5")(page, "corner_p1", 300)
    assert skewed.width > page.width and skewed.height > page.height and dpi == 300
    assert int((np.asarray(skewed) < 128).sum()) >= 0.95 * before
    aged, _ = oa.degrade_real("e")(page, "corner_p1", 300)
    again, _ = oa.degrade_real("e")(page, "corner_p1", 300)
    assert np.array_equal(np.asarray(aged), np.asarray(again))
    assert aged.mode == "RGB" and aged.size == skewed.size
    with pytest.raises(ValueError):
        oa.degrade_real("g")(page, "corner_p1", 300)


def test_a_real_page_scanned_at_half_its_dpi_is_read_at_that_dpi() -> None:
    # --degrade d: the page scanned at half its dpi as a JPEG of quality 40, as the rendered
    # condition d; the reader is told the lower dpi, and a colour page stays in colour.
    from PIL import Image
    page = Image.new("RGB", (400, 300), (255, 255, 255))
    page.paste((200, 30, 30), (100, 100, 200, 200))
    small, dpi = oa.degrade_real("d")(page, "corner_p1", 300)
    assert dpi == 150 and small.size == (200, 150) and small.mode == "RGB"
    red = np.asarray(small)[75, 75].astype(int)
    assert red[0] > 150 and red[1] < 90  # still red
    grey, dpi = oa.degrade_real("d")(page.convert("L"), "corner_p1@150", 150)
    assert dpi == 75 and grey.size == (200, 150) and grey.mode == "L"


def test_a_real_page_shows_the_next_page_of_its_document_through() -> None:
    # --degrade f: the back of the leaf is the document's next page (the first after the last),
    # mirrored and faint under the page's own ink; a grey page comes out as the rendered
    # condition f makes it, to the bit.
    from PIL import Image
    stems = [Path(e["image"]).stem for e in oa.realpages.manifest([300])]
    if "hlm_p9" not in stems:
        pytest.skip("../shared/realpages is not here")
    back = np.asarray(oa.reverse_page("hlm_p9"))
    assert np.array_equal(back, np.asarray(Image.open(oa.realpages.REALPAGES
                                                      / "pages/hlm_p20.png")))
    assert np.array_equal(np.asarray(oa.reverse_page("hlm_p20")),
                          np.asarray(Image.open(oa.realpages.REALPAGES / "pages/hlm_p2.png")))
    blank = Image.new("L", (400, 300), 255)
    shown, dpi = oa.degrade_real("f")(blank, "hlm_p9", 300)
    assert dpi == 300 and shown.size == blank.size
    assert np.asarray(shown.convert("L")).min() < 200  # the back's ink shows on a blank page
    assert np.array_equal(np.asarray(oa.bleed_through(blank, blank)),
                          np.asarray(oa.bleed_through(blank.convert("RGB"), blank)))


def test_the_cer_without_image_text_leaves_out_only_raster_text_the_reading_adds() -> None:
    # ali_slides_p8 as Wenshi reads it: the slide's logo (raster, not in the ground truth)
    # before the title. The logo's characters are not counted; a wrong character is, even one
    # the logo holds, and so is a character the reading lost.
    reference = "Work Like Alibaba\n传统数据准备现状\n数据准备门槛高"
    logo = "logo 云栖社区 | 云效平台 (top left)"
    read = "云栖社区云效平台Work Like Alibaba\n传统数据准备现状\n数据准备门槛高"
    assert pq._cer(read, reference) == pytest.approx(8 / 30)
    assert pq._cer_without_image_text(read, reference, logo) == 0.0
    misread = read.replace("现状", "现区")  # 区 stands in the logo, but it replaces 状
    assert pq._cer_without_image_text(misread, reference, logo) == pytest.approx(1 / 30)
    lost = read.replace("门槛", "门")
    assert pq._cer_without_image_text(lost, reference, logo) == pytest.approx(1 / 30)
    assert pq._cer_without_image_text(read, reference, "") == pq._cer(read, reference)



def _box(tag: str, box: tuple[int, int, int, int], inner: str = "") -> str:
    left, top, right, bottom = box
    return (f'<{tag} HPOS="{left}" VPOS="{top}" WIDTH="{right - left}" HEIGHT="{bottom - top}"'
            + (f">{inner}</{tag}>" if inner else "/>"))


def test_the_benchmark_measures_a_page_as_the_estimate_does() -> None:
    # A line read and left out as a figure's text (a logo) is an Illustration in the ALTO: the
    # estimate counts its ink as read (quality.estimate_alto), and the benchmark that fits the
    # estimate's weights must measure the page the same way, or it fits them on pages whose
    # "text missed" is a logo the estimate never sees as missed.
    from pipeline.page import quality
    from pipeline.page.alto import parse_alto
    from pipeline.page.signals import SIGNALS
    image = oa.render_horizontal("县电厂于一九五八年扩建，新装两台发电机组。" * 3)
    rows = np.nonzero((np.asarray(image.convert("L")) < 128).any(axis=1))[0]
    starts = [int(r) for i, r in enumerate(rows) if i == 0 or r > rows[i - 1] + 1]
    ends = [int(r) + 1 for i, r in enumerate(rows) if i + 1 == len(rows) or rows[i + 1] > r + 1]
    assert len(starts) >= 2
    boxes = [(oa.MARGIN - 4, top, image.width - oa.MARGIN + 4, bottom)
             for top, bottom in zip(starts, ends)]
    text = "县电厂于一九五八年扩建"
    string = f'<String CONTENT="{text}" WC="0.99" ' + _box("", boxes[0])[1:]
    alto = ('<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Description>'
            '<OCRProcessing><ocrProcessingStep><processingSoftware><softwareName>paddle PP-OCR'
            '</softwareName></processingSoftware></ocrProcessingStep></OCRProcessing>'
            '</Description><Layout><Page><PrintSpace><TextBlock>'
            + _box("TextLine", boxes[0], string) + "</TextBlock>"
            + "".join(_box("Illustration", b) for b in boxes[1:])
            + "</PrintSpace></Page></Layout></alto>")
    root = parse_alto(alto)
    estimate = quality.estimate_alto(root, image)
    row = pq._alto_row("made", "paddle", "g", "real", text, text, root, image)
    at = len(quality.TEXT_FEATURES) + len(quality.SHAPE_FEATURES)
    signals = row["x"][at:at + len(SIGNALS)]
    assert estimate is not None
    assert signals == estimate.features[at:at + len(SIGNALS)]
    assert signals[SIGNALS.index("unread_ink")] < 0.01  # every line's ink read or a figure's


def test_the_ceiling_against_the_measured_cer_counts_the_pages_tied_at_zero() -> None:
    # Three of five pages read without an error: an estimate that orders all five perfectly but
    # ties none of them ranks at most sqrt(1 - (3^3 - 3) / (5^3 - 5)) with their CER.
    rows = [{"cer": c} for c in (0.0, 0.02, 0.0, 0.05, 0.0)]
    assert pq._untied_measured(rows) == pytest.approx(math.sqrt(0.8))
    assert pq._untied_measured([{"cer": c} for c in (0.0, 0.01, 0.02)]) == pytest.approx(1.0)


def _ink_kept(copy: object, clean: object) -> float:
    """The share of the clean page's ink still dark on the copy, brought back to 300 dpi."""
    from PIL import Image
    assert isinstance(copy, Image.Image) and isinstance(clean, Image.Image)
    big = np.asarray(copy.convert("L").resize(clean.size, Image.Resampling.BILINEAR), dtype=float)
    ink = np.asarray(clean.convert("L")) < 128
    # dark: nearer the copy's own darkest ink than its paper
    paper, dark = np.percentile(big, 90), np.percentile(big, 0.5)
    return float((big[ink] < (paper + dark) / 2).mean())


def test_the_worn_copies_wear_more_page_by_page() -> None:
    # Condition h: page i is worn_copy level i mod 4, each level a lower dpi and less of the
    # text's ink kept (the same page copied at each level loses more at each), repeatable.
    pages = oa.make_samples(oa.GRADED, 5)
    assert [p.dpi for p in pages] == [150, 115, 105, 100, 150]
    assert [p.image.size[0] for p in pages[:4]] == [round(oa.PAGE_W * d / 300)
                                                   for d in (150, 115, 105, 100)]
    assert [p.reference for p in pages] == [oa.SIMPLIFIED[i % 4] for i in range(5)]
    clean = oa.render_horizontal(oa.SIMPLIFIED[0])
    kept = [_ink_kept(oa.worn_copy(clean, level, 1000)[0], clean) for level in range(4)]
    assert all(a > b + 0.03 for a, b in zip(kept, kept[1:])), kept
    assert kept[0] > 0.75 and kept[-1] < 0.65, kept
    again = oa.make_samples(oa.GRADED, 2)[1]
    assert np.array_equal(np.asarray(again.image), np.asarray(pages[1].image))


def test_the_calibration_pages_of_the_other_conditions_keep_their_texts_and_images() -> None:
    # quality_calibration draws its passages condition by condition in HORIZONTAL's order: h,
    # added last, takes new passages and leaves every other page's text and image as it was.
    import quality_calibration as qc
    if not qc.CORPUS.exists():
        pytest.skip("../shared/corpus is not here")
    now = {p.name: p for p in qc.pages(a6_texts=2, a5_texts=1, vertical_a6=0)
           if p.condition != "g"}
    before_h = qc.HORIZONTAL[:-1]
    assert qc.HORIZONTAL[-1] == oa.GRADED and oa.GRADED not in before_h
    try:
        qc.HORIZONTAL = before_h
        before = {p.name: p for p in qc.pages(a6_texts=2, a5_texts=1, vertical_a6=0)
                  if p.condition != "g"}
    finally:
        qc.HORIZONTAL = before_h + (oa.GRADED,)
    assert set(now) - set(before) == {"cal_a6_h_0", "cal_a6_h_1", "cal_a5_h_0"}
    for name, page in before.items():
        assert now[name].reference == page.reference and now[name].group == page.group
        assert np.array_equal(np.asarray(now[name].image), np.asarray(page.image))
    worn = [now[n].reference for n in ("cal_a6_h_0", "cal_a6_h_1", "cal_a5_h_0")]
    assert not set(worn) & {p.reference for p in before.values()}


def test_the_rendered_pages_are_told_apart_by_condition() -> None:
    # page_quality.py --without h leaves the worn copies out of every set: a page's condition
    # is read from its name, whichever set it is in.
    def row(name: str, kind: str) -> dict[str, str]:
        return {"name": name, "set": kind}
    assert pq.condition_of(row("builtin_h_3", "rendered (auto)")) == "h"
    assert pq.condition_of(row("a5_b2.5_0", "rendered")) == "b2.5"
    assert pq.condition_of(row("samples_c_1", "rendered (auto)")) == "c"
    assert pq.condition_of(row("cal_a5_h_1", pq.CALIBRATION)) == "h"
    assert pq.condition_of(row("cal_a6_g_3_0", pq.CALIBRATION)) == "g"
    assert pq.condition_of(row("sample_scan_1", "samples (auto)")) is None
    assert pq.condition_of(row("ali_slides_p1", "real")) is None


def _synthetic_rows(seed: int = 0, third: float = -1.5) -> list[dict[str, Any]]:
    """Pages of two sets whose log error rises with the first two features and changes by
    `third` with the third (Tesseract's model weighs the features as they are)."""
    from pipeline.page import quality

    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    for kind, n in (("real", 30), ("rendered", 50)):
        for _ in range(n):
            x = np.zeros(len(quality.FEATURES))
            x[:3] = rng.uniform(0, 1, 3)
            log_rate = -3.0 + 2.0 * x[0] + 1.0 * x[1] + third * x[2] + rng.normal(0, 0.3)
            rows.append({"engine": "tesseract", "set": kind, "x": tuple(x),
                         "cer": max(0.0, math.exp(log_rate) - quality.OFFSET)})
    return rows


def test_the_fit_keeps_every_weight_at_zero_or_above() -> None:
    # Each reason reads one way (more of it, more errors): a feature that lowers the error gets
    # weight 0, with the ranking term or without; the features the engine's model leaves out, 0.
    from pipeline.page import quality

    rows = _synthetic_rows()
    out = [quality.FEATURES.index(f) for f in pq.LEAVE_OUT["tesseract"]]
    for gamma in (0.0, pq.GAMMA):
        model = pq.fit(rows, gamma)
        assert (model[1:] >= 0).all()
        assert model[1] > 0 and model[2] > 0 and model[3] == 0
        assert all(model[1 + k] == 0 for k in out)


def test_the_fit_without_its_ranking_term_is_ridge_least_squares() -> None:
    # gamma 0: the set-weighted ridge least squares of sessions 8-20 (here no weight would come
    # out negative), solved in closed form on the same standardised features.
    from pipeline.page import quality

    rows = _synthetic_rows(1, third=0.5)  # every feature raises the error: no bound reached
    x = np.array([r["x"] for r in rows])[:, :3]
    y = np.log(np.array([r["cer"] for r in rows], dtype=float) + quality.OFFSET)
    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    a = np.hstack([np.ones((len(x), 1)), (x - mu) / sd])
    sets = [r["set"] for r in rows]
    w = np.array([1.0 / sets.count(s) for s in sets]) / 2
    reg = pq.ALPHA * np.eye(4)
    reg[0, 0] = 0.0
    beta = np.linalg.solve(a.T @ (a * w[:, None]) + reg, a.T @ (w * y))
    assert (beta[1:] > 0).all()
    coef = beta[1:] / sd
    model = pq.fit(rows, 0.0)
    assert model[1:4] == pytest.approx(coef, abs=1e-4)
    assert model[0] == pytest.approx(beta[0] - coef @ mu, abs=1e-4)
    # the rest are 0 on these pages, but for the weights held at their least (MIN_WEIGHT)
    least = {1 + quality.FEATURES.index(f): v for f, v in pq.MIN_WEIGHT.items()}
    assert [model[k] for k in range(4, len(model))] == pytest.approx(
        [least.get(k, 0.0) for k in range(4, len(model))])


def test_unread_ink_weighs_at_least_enough_to_double_the_estimate_of_a_half_unread_page() -> None:
    # Text the engine left unread is text missing from its reading: however little the pages
    # fitted on say so, half the text-like ink unread at least doubles exp(log estimate).
    from pipeline.page import quality

    rows = _synthetic_rows(2)
    unread = quality.FEATURES.index("unread_ink")
    rng = np.random.default_rng(3)
    for r in rows:  # unread ink that tells nothing of the error
        x = list(r["x"])
        x[unread] = float(rng.uniform(0, 0.6))
        r["x"] = tuple(x)
    for gamma in (0.0, pq.GAMMA):
        model = pq.fit(rows, gamma)
        assert model[1 + unread] == pytest.approx(pq.MIN_WEIGHT["unread_ink"])
        assert math.exp(0.5 * model[1 + unread]) == pytest.approx(2.0)
    assert quality.MODELS["paddle"][1 + unread] >= pq.MIN_WEIGHT["unread_ink"] - 0.001
    assert quality.MODELS["tesseract"][1 + unread] >= pq.MIN_WEIGHT["unread_ink"] - 0.001
