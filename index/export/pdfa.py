"""PDF/A-2b for the searchable PDFs: an embedded CJK font and the archival metadata.

The installed Noto CJK fonts (Debian fonts-noto-cjk) have CFF outlines in a TrueType
collection, which reportlab cannot embed (its TTFont reads `glyf` outlines only). So for each
export the characters the text layers use are cut out of Noto Sans CJK SC with fontTools'
subsetter and their cubic outlines turned into TrueType quadratics (cu2qu, 1 font unit of
tolerance): a small TrueType font reportlab embeds (subset again per PDF, with a ToUnicode map,
so copy-paste and pdfplumber give the text). pikepdf then adds what PDF/A-2b asks beyond that:
XMP metadata with pdfaid:part 2 and conformance B (and the document information mirrored in
it), an sRGB output intent, and no font that is not embedded.

Noto Sans CJK SC lacks some ideographs local history needs: rarer characters of Extension B and
beyond, in old place and personal names (a corrected page may hold 𪚥). Those come from HanaMin
(花園明朝, Debian fonts-hanazono: TrueType, every CJK ideograph through Extension F), cut out the
same way. A character no installed font has is left out of the text layer: PDF/A forbids drawing
the .notdef glyph, and the library's own search still finds it.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from pipeline.errors import EnvironmentProblemError

NOTO_FONT_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                   "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
NOTO_FAMILY = "Noto Sans CJK SC"  # the simplified-Chinese member of the collection
# For the characters Noto lacks, in this order (A: the BMP and Extension A; B: Extensions B-F).
FALLBACK_FONT_FILES = ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",
                       "/usr/share/fonts/truetype/hanazono/HanaMinB.ttf")
CU2QU_TOLERANCE = 1.0  # font units (of 1000 per em): invisible text needs no finer outlines
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
# Always in the subset: what a text layer may hold besides the catalog's text.
_ALWAYS = "".join(chr(c) for c in range(0x20, 0x7f)) + "，。、；：？！“”‘’（）《》〈〉…—"
_counter = itertools.count(1)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TextFonts:
    """The reportlab fonts registered for one export's text layers, each with the characters it
    draws; a character is drawn in the first font that has it."""

    names: tuple[str, ...]
    covers: tuple[frozenset[str], ...]

    @property
    def primary(self) -> str:
        """The Noto subset: the font of nearly every character."""
        return self.names[0]

    def runs(self, text: str) -> list[tuple[str, str]]:
        """`text` as (font, characters) runs; characters no font has are left out."""
        runs: list[tuple[str, str]] = []
        for char in text:
            font = next((n for n, c in zip(self.names, self.covers) if char in c), "")
            if not font:
                continue
            if runs and runs[-1][0] == font:
                runs[-1] = (font, runs[-1][1] + char)
            else:
                runs.append((font, char))
        return runs


def noto_cjk_path() -> tuple[Path, int]:
    """(font collection, index of Noto Sans CJK SC in it); EnvironmentProblemError if absent."""
    from fontTools.ttLib import TTFont

    candidates = [Path(p) for p in NOTO_FONT_FILES]
    fc_list = shutil.which("fc-list")
    if fc_list:
        listed = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True,
                                timeout=30, check=False).stdout
        candidates += [Path(line.split(":")[0]) for line in listed.splitlines()
                       if "NotoSansCJK" in line or "NotoSerifCJK" in line]
    for path in candidates:
        if not path.is_file():
            continue
        for number in range(10):
            try:
                font = TTFont(str(path), fontNumber=number, lazy=True)
            except Exception:  # past the last font of the collection (fontTools: TTLibError)
                break
            family = font["name"].getDebugName(1) or ""
            font.close()
            if family in (NOTO_FAMILY, "Noto Serif CJK SC"):
                return path, number
    raise EnvironmentProblemError("no Noto CJK font (Noto Sans CJK SC) for the PDF text layer: "
                                  "install the Debian package fonts-noto-cjk")


def _subset(font: Any, characters: Iterable[str]) -> None:
    """Cut `font` (fontTools) down to these characters, in place."""
    from fontTools import subset

    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.drop_tables += ["FFTM"]  # HanaMin's FontForge timestamps: fontTools cannot subset
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(set("".join(characters))))
    subsetter.subset(font)


def cjk_truetype_subset(characters: Iterable[str]) -> bytes:
    """A TrueType font (glyf outlines) with Noto Sans CJK SC's glyphs for these characters."""
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    path, number = noto_cjk_path()
    font = TTFont(str(path), fontNumber=number)
    _subset(font, set("".join(characters)) | set(_ALWAYS))
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, CU2QU_TOLERANCE, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    for table in ("CFF ", "VORG"):
        if table in font:
            del font[table]
    maxp = font["maxp"] = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(order)
    maxp.maxZones = 1
    for field in ("maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours",
                  "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                  "maxStackElements", "maxSizeOfInstructions", "maxComponentElements",
                  "maxComponentDepth"):
        setattr(maxp, field, 0)
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    font.sfntVersion = "\x00\x01\x00\x00"
    out = io.BytesIO()
    font.save(out)  # recalculates maxp's point counts and the glyph boxes
    return out.getvalue()


def _cmap(path: str | Path, number: int = 0) -> set[int]:
    from fontTools.ttLib import TTFont

    font = TTFont(str(path), fontNumber=number, lazy=True)
    try:
        return set(font.getBestCmap())
    finally:
        font.close()


def register_cjk_fonts(characters: Iterable[str]) -> TextFonts:
    """Register with reportlab a Noto CJK subset for these characters and, for those Noto
    lacks, HanaMin subsets (fonts-hanazono)."""
    from fontTools.ttLib import TTFont

    wanted = set("".join(characters)) | set(_ALWAYS)
    path, number = noto_cjk_path()
    noto = _cmap(path, number)
    primary = frozenset(c for c in wanted if ord(c) in noto)
    names, covers = [_register(cjk_truetype_subset(primary), "NotoSansCJKsc")], [primary]
    rest = {c for c in wanted - primary if c.isprintable() and not c.isspace()}
    for fallback in FALLBACK_FONT_FILES:
        if not rest or not Path(fallback).is_file():
            continue
        cmap = _cmap(fallback)
        drawn = frozenset(c for c in rest if ord(c) in cmap)
        if drawn:
            font = TTFont(fallback)
            _subset(font, drawn)
            out = io.BytesIO()
            font.save(out)
            names.append(_register(out.getvalue(), Path(fallback).stem))
            covers.append(drawn)
            rest -= drawn
    if rest:
        log.warning("%d characters have no glyph in the installed CJK fonts and are left out of "
                    "the PDF text layer (apt-get install fonts-hanazono): %s", len(rest),
                    "".join(sorted(rest))[:40])
    return TextFonts(tuple(names), tuple(covers))


def _register(truetype: bytes, family: str) -> str:
    """Register a TrueType font with reportlab under a name of its own, returned.

    reportlab keys embedded fonts by the font's PostScript name and hands a second font with
    the same one the first's object: a later export in the same process would draw with an
    earlier export's subset (its characters missing). So each subset gets its own name."""
    from fontTools.ttLib import TTFont as FontToolsFont
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"{family}-Wenshi{next(_counter)}"
    font = FontToolsFont(io.BytesIO(truetype))
    for record in font["name"].names:
        if record.nameID == 6:
            record.string = name
    out = io.BytesIO()
    font.save(out)
    pdfmetrics.registerFont(TTFont(name, io.BytesIO(out.getvalue())))
    return name


def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS through Pillow), marked version 4.2 as PDF/A-2 expects."""
    from PIL import ImageCms

    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[8:12] = bytes([4, 0x20, 0, 0])
    data[84:100] = bytes(16)  # the profile id is optional; it would no longer match
    return bytes(data)


def to_pdfa(data: bytes, title: str, author: str, subject: str) -> bytes:
    """The PDF `data` (reportlab's) made PDF/A-2b: XMP identification and metadata, an sRGB
    output intent, unused fonts that are not embedded dropped from the page resources."""
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            _drop_unused_fonts(page)
        _fix_astral_to_unicode(pdf)
        icc = pikepdf.Stream(pdf, srgb_profile())
        icc["/N"] = 3
        pdf.Root.OutputIntents = pikepdf.Array([pikepdf.Dictionary(
            Type=pikepdf.Name.OutputIntent, S=pikepdf.Name.GTS_PDFA1,
            OutputConditionIdentifier=pikepdf.String(OUTPUT_CONDITION),
            Info=pikepdf.String(OUTPUT_CONDITION),
            RegistryName=pikepdf.String("http://www.color.org"),
            DestOutputProfile=icc)])
        pdf.docinfo["/Title"] = title
        pdf.docinfo["/Subject"] = subject
        if author:
            pdf.docinfo["/Author"] = author
        elif "/Author" in pdf.docinfo:
            del pdf.docinfo["/Author"]
        if "/Trapped" in pdf.docinfo:  # reportlab's /False: unknown to XMP, so not kept
            del pdf.docinfo["/Trapped"]
        # The XMP packet mirrors the document information (PDF/A wants the two to agree).
        with pdf.open_metadata(set_pikepdf_as_editor=False) as meta:
            meta.load_from_docinfo(pdf.docinfo)
            meta["pdfaid:part"] = "2"
            meta["pdfaid:conformance"] = "B"
        out = io.BytesIO()
        pdf.save(out, fix_metadata_version=True, deterministic_id=True, min_version="1.7")
        return out.getvalue()


_BFCHAR_ASTRAL = re.compile(rb"<([0-9A-F]{2})> <([0-9A-F]{5,6})>")


def _utf16_hex(match: re.Match[bytes]) -> bytes:
    code = int(match.group(2), 16) - 0x10000
    high, low = 0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)
    return b"<%s> <%04X%04X>" % (match.group(1), high, low)


def _fix_astral_to_unicode(pdf: Any) -> None:
    """reportlab (5.1) writes a character beyond U+FFFF in a ToUnicode map as 5 hex digits
    ('<07> <2A6A5>'), which readers take as U+2A6A and a stray digit: copy-paste and search of
    the rare characters the fallback font draws would fail. The map wants UTF-16 (a surrogate
    pair: '<07> <D869DEA5>')."""
    for font in {f.objgen: f for page in pdf.pages
                 for f in page.obj.get("/Resources", {}).get("/Font", {}).values()}.values():
        cmap = font.get("/ToUnicode")
        if cmap is None:
            continue
        data = cmap.read_bytes()
        fixed = _BFCHAR_ASTRAL.sub(_utf16_hex, data)
        if fixed != data:
            cmap.write(fixed)


def _drop_unused_fonts(page: Any) -> None:
    """reportlab lists its default Helvetica in every page's fonts, used or not; PDF/A wants
    every font a page names embedded, so the ones no text operator selects go."""
    import pikepdf

    fonts = page.obj.get("/Resources", {}).get("/Font")
    if fonts is None:
        return
    used = {str(op.operands[0]) for op in pikepdf.parse_content_stream(page, "Tf")
            if isinstance(op, pikepdf.ContentStreamInstruction) and op.operands}
    for name in list(fonts.keys()):
        if name not in used:
            del fonts[name]
