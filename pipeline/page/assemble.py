"""An engine's lines made into a page: reading order, text, ALTO, look-alike correction.

PP-OCR returns lines with boxes, not a page: `assemble` drops the characters it read in
show-through (pipeline/page/showthrough.py), orders the lines (pipeline/page/layout.py:
columns, vertical pages right to left, running heads and page numbers apart, the text of plots
and photos left out: pipeline/page/figures.py, found with the page's ink, pagelook.py; and of
pictures pasted on the page, pipeline/page/pictured.py), writes
the text in that order and an ALTO document with one String per character, and finishes it as every
engine's result is finished (`engines.finish_result`: the look-alike correction of simplified
pages, words, confidence). The script is read off the text, the direction off the layout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from lxml import etree
from PIL import Image

from ..text.normalize import to_simplified
from .alto import ALTO_NS, RESTORED_TAG
from .engines import Box, OcrLine, OcrResult, ReadOptions, Reading, finish_result
from .engines.layout_model import FIGURE as MODEL_FIGURE
from .engines.layout_model import Region
from .engines.nearly import STEP_RESTORED, SURE
from .foldstrip import STEP_CUT_STRIP, drop_cut_strip
from .layout import FIGURE, is_vertical, order_reading
from .pagelook import page_ink
from .pictured import pictured_lines
from .showthrough import drop_show_through

log = logging.getLogger(__name__)

# The page step recorded when the layout model's regions were looked at.
STEP_LAYOUT_MODEL = "layout-model"
# The page step recorded when lines set in a picture placed on the page were left out of its
# text (pipeline/page/pictured.py).
STEP_PICTURE_TEXT = "picture-text-left-out"

# The look-alike correction (pipeline/page/correct.py) leaves the characters PP-OCR read at this
# confidence or more as they are: the line the quality estimate and engines/nearly.py already draw
# between sure and unsure characters (quality.UNSURE, nearly.SURE). Measured with
# benchmarks/correction_paddle.py on the simplified real pages as they are and made to look
# scanned (--degrade e), the rendered conditions and the samples (benchmarks/README.md, session
# 16): the correction's right changes on PP-OCR's pages were of characters read at 0.54 and
# 0.83, its wrong ones (20: 问门主 -> 同门主, 字体为小 -> 字体大小) at 0.90-1.00. PP-OCR's
# characters read at 0.9 or more were wrong 3 times in 25,556 on the clean pages, 35 in 11,776
# on the scanned-looking ones; below 0.9, 5 in 299 and 194 in 734. (nearly.SURE, imported.)

# A page whose Han characters change under traditional-to-simplified conversion at least this
# often is traditional. Measured on the ground truth of ../shared/realpages (300 dpi): 0.0% on
# all 26 simplified pages, 4.3-46.9% on the 33 traditional ones (the lowest: short pages of
# names and numbers).
_TRADITIONAL_SHARE = 0.02


def assemble(reading: Reading, image: Image.Image, options: ReadOptions,
             regions: Sequence[Region] | None = None,
             cut: tuple[OcrLine, ...] | None = None) -> OcrResult:
    """The page `reading` makes (`image`: the image the engine read, for the correction's
    glyph check); its `lang` names the script and direction found. `regions` are what the
    layout model found on `image` (None: it did not run; its figures count as figures where
    pipeline.page.layout.model_figures takes them). `cut`: the lines of a half-cut 版心 strip
    the caller already left out of `reading` (None: they are looked for here)."""
    # Characters of the page's back, seen through the paper, are not the page's text.
    reading, dropped = drop_show_through(reading, image)
    if dropped:
        log.debug("%d characters read in show-through dropped", dropped)
    # Lines inside a plot, photo or drawing are the figure's, not the page's text. The page's
    # ink, measured once (pipeline.page.pagelook), holds them.
    ink = page_ink(image, [line.box for line in reading.lines], reading.ink)
    figures = ink.figures if ink is not None else ()
    # The half-cut 版心 strip at a half-leaf's edge is garbage, not text (foldstrip.py). Left
    # out after the ink is measured: its ink was read, and is not text the engine missed.
    if cut is None:
        reading, cut = drop_cut_strip(reading, image)
    if cut:
        log.debug("half-cut strip at the page's edge left out: %s", [x.text for x in cut])
    model_regions = [r.box for r in regions or () if r.kind == MODEL_FIGURE]
    # Lines set in a picture pasted on the page (a logo, a diagram's image) are the picture's.
    in_picture = pictured_lines(image, [line.box for line in reading.lines])
    pictured = {i for i, flag in enumerate(in_picture) if flag}
    if pictured:
        log.debug("text set in pictures left out: %s",
                  [reading.lines[i].text for i in sorted(pictured)])
    layout = order_reading(reading, figures, model_regions, pictured)
    placed = [(p.line, p.role, p.block) for p in layout.lines if p.role != FIGURE]
    text = layout.text()
    # The figures' lines leave the text, but were read: their boxes stay in the ALTO as
    # Illustrations, so the quality estimate does not take their ink for text missed.
    alto = build_alto(placed, reading.width, reading.height,
                      f"{reading.engine} {reading.model}",
                      [p.line.box for p in layout.lines if p.role == FIGURE])
    lang = (("chi_tra" if is_traditional(text) else "chi_sim")
            + ("_vert" if layout.vertical else ""))
    result = finish_result(text, alto, image, replace(options, lang=lang), sure=SURE)
    # Characters the recogniser nearly read in the lines written (for the quality estimate).
    hidden = sum(line.hidden for line, _, _ in placed)
    variants = sum(line.variants for line, _, _ in placed)
    steps = ((() if regions is None else (STEP_LAYOUT_MODEL,)) + ((STEP_CUT_STRIP,) if cut else ())
             + ((STEP_PICTURE_TEXT,) if pictured else ()))
    # Characters put back (engines/nearly.py) in the lines written; not where only lines the page
    # leaves out hold them (a plot's labels, figure lines: ccu_thesis_p15 had the step and no
    # character tagged as put back in its ALTO)
    if any(g.restored for line, _, _ in placed for g in line.glyphs):
        steps += (STEP_RESTORED,)
    return replace(result, lang=lang, steps=steps, ink=ink, hidden=hidden,
                   variants=variants)


def measured(reading: Reading, image: Image.Image) -> Reading:
    """`reading` with the page's ink measured for its lines (`Reading.ink`; the measurement it
    holds is kept when it was made with the same lines: pipeline.page.pagelook.page_ink)."""
    return replace(reading, ink=page_ink(image, [line.box for line in reading.lines],
                                         reading.ink))


def needs_layout_model(reading: Reading) -> bool:
    """False when the layout model's regions cannot change the page `reading` makes, so that it
    need not run (`measured` readings; one without a measurement is given the model).

    Wenshi takes one thing from the model: its figures, on horizontal pages, whose lines leave
    the text (pipeline.page.layout.model_figures); reading order comes from the lines alone.
    A figure is graphics: a plot, photo or drawing, a framed box, whose ink is not text. So the
    model is not needed on a page without lines, on a vertical page (its figures are not used
    there), and on a page whose ink outside its lines holds no graphics (no rule, no piece
    larger than a character, no figure: pagelook's `graphic_px`) and no text-like piece either
    (text the engine did not read may be a drawing's labels): there it could only take lines
    of text for a figure."""
    if not reading.lines or is_vertical(reading.lines):
        return False
    ink = reading.ink
    if ink is None:
        return True
    return ink.graphic_px > 0 or bool((ink.text_ink & ~ink.covered).any())


def is_traditional(text: str) -> bool:
    """True when `text` is written in traditional characters (OpenCC t2s changes enough of it)."""
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if len(han) < 5:
        return False
    simplified = to_simplified("".join(han))
    changed = sum(1 for a, b in zip(han, simplified) if a != b)
    return changed >= _TRADITIONAL_SHARE * len(han)


def build_alto(lines: Sequence[tuple[OcrLine, str, int]], width: int, height: int,
               software: str, figures: Sequence[Box] = ()) -> str:
    """ALTO v3 for the lines an engine read, given in reading order as (line, role, block).

    A TextBlock per run of lines sharing role and block, a TextLine per line, a String per glyph
    (the whole line where the engine gave no glyphs, or glyphs that do not spell the line), in
    the pixels the boxes are in. Roles other than body text (running heads, page numbers,
    captions: pipeline/page/layout.py) are LayoutTags the block points to (TAGREFS); a String
    put back rather than read (engines/nearly.py) points to the OtherTag RESTORED_TAG; the other
    characters the engine saw where it doubted one (engines/alternatives.py) are the String's
    ALTERNATIVEs. `figures`: boxes of lines read and left out as a figure's text (a plot's
    labels, a logo), each an Illustration without text."""
    ns = f"{{{ALTO_NS}}}"
    root = etree.Element(f"{ns}alto", nsmap={None: ALTO_NS})
    description = etree.SubElement(root, f"{ns}Description")
    etree.SubElement(description, f"{ns}MeasurementUnit").text = "pixel"
    info = etree.SubElement(description, f"{ns}sourceImageInformation")
    etree.SubElement(info, f"{ns}fileName")
    processing = etree.SubElement(description, f"{ns}OCRProcessing", ID="OCR_0")
    step = etree.SubElement(processing, f"{ns}ocrProcessingStep")
    software_element = etree.SubElement(step, f"{ns}processingSoftware")
    etree.SubElement(software_element, f"{ns}softwareName").text = software
    roles = sorted({role for _, role, _ in lines if role != "body"})
    restored = any(g.restored for line, _, _ in lines for g in line.glyphs)
    if roles or restored:
        tags = etree.SubElement(root, f"{ns}Tags")
        for role in roles:
            etree.SubElement(tags, f"{ns}LayoutTag", ID=f"role-{role}", LABEL=role)
        if restored:  # the characters put back, marked so for the quality estimate
            etree.SubElement(tags, f"{ns}OtherTag", ID=RESTORED_TAG, LABEL=RESTORED_TAG)
    layout = etree.SubElement(root, f"{ns}Layout")
    page = etree.SubElement(layout, f"{ns}Page", WIDTH=str(width), HEIGHT=str(height),
                            PHYSICAL_IMG_NR="0", ID="page_0")
    space = etree.SubElement(page, f"{ns}PrintSpace", _box_attrs((0, 0, width, height)))
    block: etree._Element | None = None
    key: tuple[str, int] | None = None
    boxes: list[Box] = []
    n_string = 0
    for n_line, (line, role, number) in enumerate(lines):
        if block is None or (role, number) != key:
            if block is not None:
                block.attrib.update(_box_attrs(_union(boxes)))
            block = etree.SubElement(space, f"{ns}TextBlock", ID=f"block_{n_line}")
            if role != "body":
                block.set("TAGREFS", f"role-{role}")
            key, boxes = (role, number), []
        boxes.append(line.box)
        text_line = etree.SubElement(block, f"{ns}TextLine", ID=f"line_{n_line}",
                                     **_box_attrs(line.box))
        for text, box, confidence, put, others in _strings(line):
            string = etree.SubElement(text_line, f"{ns}String", ID=f"string_{n_string}",
                                      **_box_attrs(box), WC=f"{confidence / 100:.2f}",
                                      CONTENT=text)
            if put:
                string.set("TAGREFS", RESTORED_TAG)
            for other in others:  # what the engine saw where it doubted (engines/alternatives)
                etree.SubElement(string, f"{ns}ALTERNATIVE").text = other
            n_string += 1
    if block is not None:
        block.attrib.update(_box_attrs(_union(boxes)))
    for n, box in enumerate(figures):
        etree.SubElement(space, f"{ns}Illustration", ID=f"figure_text_{n}", **_box_attrs(box))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).decode("utf-8")


def _strings(line: OcrLine) -> list[tuple[str, Box, float, bool, tuple[str, ...]]]:
    """The line's Strings: text, box, confidence, whether it was put back (not read) and the
    engine's alternatives."""
    spelled = "".join(g.text for g in line.glyphs)
    if line.glyphs and "".join(spelled.split()) == "".join(line.text.split()):
        return [(g.text, g.box, g.confidence, g.restored, g.alternatives)
                for g in line.glyphs if g.text.strip()]
    return [(part, line.box, line.confidence, False, ()) for part in line.text.split()]


def _box_attrs(box: Box) -> dict[str, str]:
    left, top, right, bottom = box
    return {"HPOS": str(left), "VPOS": str(top), "WIDTH": str(max(0, right - left)),
            "HEIGHT": str(max(0, bottom - top))}


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))
