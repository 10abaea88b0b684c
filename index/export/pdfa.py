"""PDF/A-2b for the searchable PDFs: an embedded CJK font and the archival metadata.

The installed Noto CJK fonts (Debian fonts-noto-cjk) have CFF outlines in a TrueType
collection, which reportlab cannot embed (its TTFont reads `glyf` outlines only). So for each
export the characters the text layers use are cut out of Noto Sans CJK SC with fontTools'
subsetter and their cubic outlines turned into TrueType quadratics (cu2qu, 1 font unit of
tolerance): a small TrueType font reportlab embeds (subset again per PDF, with a ToUnicode map,
so copy-paste and pdfplumber give the text). pikepdf then adds what PDF/A-2b asks beyond that:
XMP metadata with pdfaid:part 2 and conformance B (and the document information mirrored in
it), an sRGB output intent, and no font that is not embedded.
"""

from __future__ import annotations

import io
import itertools
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterable

from pipeline.errors import EnvironmentProblemError

NOTO_FONT_FILES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                   "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
NOTO_FAMILY = "Noto Sans CJK SC"  # the simplified-Chinese member of the collection
CU2QU_TOLERANCE = 1.0  # font units (of 1000 per em): invisible text needs no finer outlines
OUTPUT_CONDITION = "sRGB IEC61966-2.1"
# Always in the subset: what a text layer may hold besides the catalog's text.
_ALWAYS = "".join(chr(c) for c in range(0x20, 0x7f)) + "，。、；：？！“”‘’（）《》〈〉…—"
_counter = itertools.count(1)


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


def cjk_truetype_subset(characters: Iterable[str]) -> bytes:
    """A TrueType font (glyf outlines) with Noto Sans CJK SC's glyphs for these characters."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    path, number = noto_cjk_path()
    font = TTFont(str(path), fontNumber=number)
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = ["*"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="".join(set("".join(characters)) | set(_ALWAYS)))
    subsetter.subset(font)
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


def register_cjk_font(characters: Iterable[str]) -> str:
    """Register a Noto CJK subset for these characters with reportlab; returns its name."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"NotoSansCJKsc-Wenshi{next(_counter)}"
    pdfmetrics.registerFont(TTFont(name, io.BytesIO(cjk_truetype_subset(characters))))
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
