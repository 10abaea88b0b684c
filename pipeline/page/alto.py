"""ALTO XML of a page: Tesseract's, parsed once, or built from another engine's lines.

The page's ALTO is read three ways: its String contents and boxes for the look-alike correction
(pipeline/page/correct.py), its Strings as word boxes (pipeline/page/engines/tesseract.py),
and all its positions mapped back onto the scan (pipeline/page/geometry.py). One lxml tree
serves all three (`OcrResult.tree`): each read used to parse the page's ~60 KB again (1-2.5 ms)
or pick attributes out of the text with regular expressions (~2-4 ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lxml import etree

from ..records import Word

if TYPE_CHECKING:
    from .engines import Box, Line

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v3#"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def parse_alto(alto: str) -> etree._Element | None:
    """The root of an ALTO document; None for an empty one."""
    if not alto.strip():
        return None
    return etree.fromstring(alto.encode("utf-8"), parser=_PARSER)


def strings(root: etree._Element | None) -> list[etree._Element]:
    """The String elements, in document (reading) order, in whatever namespace (or none)."""
    return [] if root is None else list(root.iter("{*}String"))


def alto_words(root: etree._Element | None) -> tuple[Word, ...]:
    """The String elements of an ALTO document as Words (confidence 0-100)."""
    words = []
    for s in strings(root):
        get = s.get
        content = get("CONTENT", "")
        if not content.strip():
            continue
        words.append(Word(content, int(float(get("HPOS", 0))), int(float(get("VPOS", 0))),
                          int(float(get("WIDTH", 0))), int(float(get("HEIGHT", 0))),
                          round(float(get("WC", 0)) * 100, 1)))
    return tuple(words)


def build_alto(lines: Sequence[tuple[Line, str, int]], width: int, height: int,
               software: str) -> str:
    """ALTO v3 for the lines an engine read, given in reading order as (line, role, block).

    A TextBlock per run of lines sharing role and block, a TextLine per line, a String per glyph
    (the whole line where the engine gave no glyphs, or glyphs that do not spell the line), in
    the pixels the boxes are in. Roles other than body text (running heads, page numbers,
    captions: pipeline/page/layout.py) are LayoutTags the block points to (TAGREFS)."""
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
    if roles:
        tags = etree.SubElement(root, f"{ns}Tags")
        for role in roles:
            etree.SubElement(tags, f"{ns}LayoutTag", ID=f"role-{role}", LABEL=role)
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
        for text, box, confidence in _strings(line):
            etree.SubElement(text_line, f"{ns}String", ID=f"string_{n_string}",
                             **_box_attrs(box), WC=f"{confidence / 100:.2f}", CONTENT=text)
            n_string += 1
    if block is not None:
        block.attrib.update(_box_attrs(_union(boxes)))
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8")).decode("utf-8")


def _strings(line: Line) -> list[tuple[str, Box, float]]:
    spelled = "".join(g.text for g in line.glyphs)
    if line.glyphs and "".join(spelled.split()) == "".join(line.text.split()):
        return [(g.text, g.box, g.confidence) for g in line.glyphs if g.text.strip()]
    return [(part, line.box, line.confidence) for part in line.text.split()]


def _box_attrs(box: Box) -> dict[str, str]:
    left, top, right, bottom = box
    return {"HPOS": str(left), "VPOS": str(top), "WIDTH": str(max(0, right - left)),
            "HEIGHT": str(max(0, bottom - top))}


def _union(boxes: Sequence[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes))
