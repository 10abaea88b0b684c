"""A page's ALTO re-aligned to its corrected text, so that hit boxes stay on the right characters.

The OCR's ALTO names each String (a character or a word) with its box on the scan. After an
editor corrects the text, the characters of the corrected text are matched to the OCR's
characters (difflib, white space ignored): a character that is equal or replaced one for one
keeps its box; where the correction inserts or deletes characters, the Strings around the change
take the new characters and are tagged `wenshi-corrected` (their boxes are the OCR's, no longer
per character), and a String left with no character is removed (its line tagged). The ALTO's
OCRProcessing gains a post-processing step naming the text version it was aligned to.
"""

from __future__ import annotations

import difflib
import time

from lxml import etree

from pipeline.page.alto import ALTO_NS, alternatives

CORRECTED_TAG = "wenshi-corrected"
VERSION_SETTING = "wenshi-text-version="
_NS = f"{{{ALTO_NS}}}"


def realign_alto(ocr_alto: bytes, text: str, version: int) -> bytes:
    """The OCR's ALTO with its Strings' CONTENT set from `text` (the page's corrected text)."""
    root = etree.fromstring(ocr_alto,
                            parser=etree.XMLParser(resolve_entities=False, no_network=True))
    strings = list(root.iter(f"{_NS}String"))
    owners: list[int] = []  # for each OCR character, the index of its String
    old_chars: list[str] = []
    for i, string in enumerate(strings):
        for ch in string.get("CONTENT", ""):
            if not ch.isspace():
                owners.append(i)
                old_chars.append(ch)
    new_chars = [ch for ch in text if not ch.isspace()]
    assigned: list[list[str]] = [[] for _ in strings]
    corrected: set[int] = set()
    matcher = difflib.SequenceMatcher(None, old_chars, new_chars, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal" or (op == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                assigned[owners[i1 + k]].append(new_chars[j1 + k])
            continue
        if not owners:
            break
        span = owners[i1:i2] or [owners[i1 - 1] if i1 > 0 else owners[0]]
        corrected.update(span)
        for k in range(j2 - j1):  # spread the new characters over the Strings they replace
            assigned[span[k * len(span) // (j2 - j1)]].append(new_chars[j1 + k])
    tagged_lines: set[etree._Element] = set()
    for i, string in enumerate(strings):
        content = "".join(assigned[i])
        if not content:
            line = string.getparent()
            if line is not None:
                _remove_string(string)
                tagged_lines.add(line)
            continue
        if content != string.get("CONTENT", ""):
            # The engine's alternatives (ALTERNATIVE) were for what it read, not what replaced it.
            for other in alternatives(string):
                string.remove(other)
        string.set("CONTENT", content)
        if i in corrected:
            _tag(string)
    for line in tagged_lines:
        _tag(line)
    if corrected or tagged_lines or (new_chars and not strings):
        _declare_tag(root)
    _record_step(root, version)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def aligned_version(alto: bytes) -> int | None:
    """The text version an ALTO file was aligned to (None: the OCR's own ALTO)."""
    root = etree.fromstring(alto, parser=etree.XMLParser(resolve_entities=False, no_network=True))
    found = None
    for setting in root.iter(f"{_NS}processingStepSettings"):
        value = setting.text or ""
        if value.startswith(VERSION_SETTING) and value[len(VERSION_SETTING):].isdigit():
            found = int(value[len(VERSION_SETTING):])
    return found


def _remove_string(string: etree._Element) -> None:
    parent = string.getparent()
    if parent is None:
        return
    following = string.getnext()
    preceding = string.getprevious()
    if following is not None and following.tag == f"{_NS}SP":
        parent.remove(following)
    elif preceding is not None and preceding.tag == f"{_NS}SP":
        parent.remove(preceding)
    parent.remove(string)


def _tag(element: etree._Element) -> None:
    refs = (element.get("TAGREFS") or "").split()
    if CORRECTED_TAG not in refs:
        element.set("TAGREFS", " ".join(refs + [CORRECTED_TAG]))


def _declare_tag(root: etree._Element) -> None:
    """<Tags><OtherTag ID="wenshi-corrected"/></Tags>, after Description/Styles, before Layout."""
    tags = root.find(f"{_NS}Tags")
    if tags is None:
        tags = etree.Element(f"{_NS}Tags")
        layout = root.find(f"{_NS}Layout")
        if layout is not None:
            layout.addprevious(tags)
        else:
            root.append(tags)
    for tag in tags:
        if tag.get("ID") == CORRECTED_TAG:
            return
    etree.SubElement(tags, f"{_NS}OtherTag", ID=CORRECTED_TAG, LABEL="corrected",
                     DESCRIPTION="text corrected by an editor; box from the OCR, not per character")


def _record_step(root: etree._Element, version: int) -> None:
    description = root.find(f"{_NS}Description")
    if description is None:
        return
    processing = description.find(f"{_NS}OCRProcessing")
    if processing is None:
        processing = etree.SubElement(description, f"{_NS}OCRProcessing", ID="OCR_wenshi")
    step = etree.SubElement(processing, f"{_NS}postProcessingStep")
    etree.SubElement(step, f"{_NS}processingDateTime").text = time.strftime("%Y-%m-%dT%H:%M:%S")
    etree.SubElement(step, f"{_NS}processingStepDescription").text = (
        "Wenshi proofreading: String contents set from the corrected page text")
    etree.SubElement(step, f"{_NS}processingStepSettings").text = f"{VERSION_SETTING}{version}"
