"""Tesseract's ALTO XML, parsed once per page.

The page's ALTO is read three ways: its String contents and boxes for the look-alike correction
(pipeline/page/correct.py), its Strings as word boxes (pipeline/page/engines/tesseract.py),
and all its positions mapped back onto the scan (pipeline/page/geometry.py). One lxml tree
serves all three (`OcrResult.tree`): each read used to parse the page's ~60 KB again (1-2.5 ms)
or pick attributes out of the text with regular expressions (~2-4 ms).
"""

from __future__ import annotations

from lxml import etree

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v3#"
# The ALTO tag (an OtherTag its Strings point to with TAGREFS) of the characters PP-OCR nearly
# read and that were put back into their lines (pipeline/page/engines/nearly.py): the quality
# estimate reads the page's confidences without them, as the recogniser read it (quality.py).
RESTORED_TAG = "wenshi-restored"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def parse_alto(alto: str) -> etree._Element | None:
    """The root of an ALTO document; None for an empty one."""
    if not alto.strip():
        return None
    return etree.fromstring(alto.encode("utf-8"), parser=_PARSER)


def strings(root: etree._Element | None) -> list[etree._Element]:
    """The String elements, in document (reading) order, in whatever namespace (or none)."""
    return [] if root is None else list(root.iter("{*}String"))


def alternatives(string: etree._Element) -> list[etree._Element]:
    """A String's ALTERNATIVE elements: what the engine nearly read instead of its CONTENT
    (PP-OCR's: pipeline/page/engines/alternatives.py)."""
    return [child for child in string
            if isinstance(child.tag, str) and etree.QName(child).localname == "ALTERNATIVE"]
