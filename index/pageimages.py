"""The page images a library keeps (pages/DOC_ID/NNNN.WxH.jpg): writing, finding, checking and
making them again from the original files for libraries ingested before they were kept."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from pipeline.errors import InputFileError, NotFoundError, WenshiError
from pipeline.records import PageImage

from .catalog import Catalog, DocumentRow, ImageSize
from .records import ImageProblem, ImagesMade

if TYPE_CHECKING:
    from pipeline.config import Config

PAGES_DIR = "pages"
_DOC_ID = re.compile(r"[0-9a-f]{16}")
_JPEG_START, _JPEG_END = b"\xff\xd8", b"\xff\xd9"


def image_path(root: Path, doc_id: str, number: int, width: int, height: int) -> Path:
    """Where one copy of a page image lives. `doc_id` must be a full document id."""
    if not _DOC_ID.fullmatch(doc_id) or number < 1 or width < 1 or height < 1:
        raise ValueError(f"not a page image: {doc_id!r} {number} {width}x{height}")
    return root / PAGES_DIR / doc_id / f"{number:04d}.{width}x{height}.jpg"


def write_page_images(root: Path, doc_id: str, number: int, images: Sequence[PageImage],
                      write_file: Callable[[str, Path, bytes], None]
                      ) -> list[tuple[int, int, int]]:
    """Write a page's copies through `write_file(doc_id, path, data)` (the library's: whole
    files, each with its checksum); returns (width, height, bytes) of each."""
    sizes = []
    for image in images:
        target = image_path(root, doc_id, number, image.width, image.height)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_file(doc_id, target, image.jpeg)
        sizes.append((image.width, image.height, len(image.jpeg)))
    return sizes


@dataclass(frozen=True)
class PageScan:
    """A scanned page as the reading room shows it: its size as read (the scan's pixels, in
    which the ALTO boxes are), its kept image sizes (largest first) and its ALTO file."""

    number: int
    width: int
    height: int
    images: tuple[ImageSize, ...]
    alto: Path


def page_scans(root: Path, catalog: Catalog, doc_id: str) -> dict[int, PageScan]:
    """The pages of a document that have kept images, by number."""
    dims = catalog.page_dimensions(doc_id)
    return {number: PageScan(number, *dims.get(number, (0, 0)), tuple(sizes),
                             root / PAGES_DIR / doc_id / f"{number:04d}.alto.xml")
            for number, sizes in catalog.page_images(doc_id).items()}


def image_file(root: Path, doc_id: str, number: int, size: ImageSize) -> Path:
    """The file of a kept page image, checked to resolve inside the library's pages folder (a
    symbolic link out of it is refused). NotFoundError otherwise."""
    try:
        path = image_path(root, doc_id, number, size.width, size.height)
        resolved = path.resolve(strict=True)
    except (ValueError, OSError, RuntimeError) as exc:
        raise NotFoundError(f"no image file for {doc_id} page {number}") from exc
    pages = (root / PAGES_DIR).resolve()
    if not resolved.is_relative_to(pages) or not resolved.is_file():
        raise NotFoundError(f"no image file for {doc_id} page {number}")
    return resolved


def check_page_images(root: Path, catalog: Catalog) -> tuple[int, list[ImageProblem]]:
    """Every recorded page image exists, has its recorded length and is a whole JPEG.
    Returns (images checked, problems)."""
    checked, problems = 0, []
    for doc_id, number, size in catalog.all_page_images():
        checked += 1
        path = image_path(root, doc_id, number, size.width, size.height)
        reason = _image_problem(path, size)
        if reason:
            problems.append(ImageProblem(doc_id, number, str(path), reason))
    return checked, problems


def _image_problem(path: Path, size: ImageSize) -> str:
    try:
        length = path.stat().st_size
        if length != size.bytes:
            return f"{length} bytes, {size.bytes} recorded"
        with path.open("rb") as fh:
            start = fh.read(2)
            fh.seek(-2, os.SEEK_END)
            end = fh.read(2)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    if start != _JPEG_START or end != _JPEG_END:
        return "not a whole JPEG file"
    return ""


def make_missing_images(root: Path, catalog: Catalog,
                        write_file: Callable[[str, Path, bytes], None], cfg: Config,
                        open_source: Callable[[DocumentRow], Path],
                        progress: Callable[[int, int], None] | None = None) -> ImagesMade:
    """Give every scanned page without kept images, or with a damaged one, its images, decoded
    again from the original file where it still exists unchanged (`open_source` finds it and
    checks it, raising a WenshiError that says why not), written through `write_file` (the
    library's, with checksums); the others are listed with the reason."""
    from pipeline.page.derivatives import page_derivatives
    from pipeline.page.images import load_page_image
    from pipeline.records import PageTask

    _, damaged = check_page_images(root, catalog)
    todo = list(dict.fromkeys(catalog.scanned_pages_without_images()
                              + [(p.doc_id, p.page) for p in damaged]))
    made, total_bytes = 0, 0
    unavailable: list[tuple[str, int, str]] = []
    sources: dict[str, Path | str] = {}
    for done, (doc_id, number) in enumerate(todo, 1):
        doc = catalog.document(doc_id)
        if doc is None:
            continue
        if doc_id not in sources:
            try:
                sources[doc_id] = open_source(doc)
            except WenshiError as exc:
                sources[doc_id] = str(exc)
        source = sources[doc_id]
        if isinstance(source, str):
            unavailable.append((doc_id, number, source))
            continue
        try:
            image, _ = load_page_image(PageTask(doc_id, str(source), doc.kind, number), cfg)
        except InputFileError as exc:
            unavailable.append((doc_id, number, str(exc)))
            continue
        sizes = write_page_images(root, doc_id, number, page_derivatives(image),
                                  write_file)
        catalog.store_page_images(doc_id, number, sizes)
        made += 1
        total_bytes += sum(n for _, _, n in sizes)
        if progress is not None:
            progress(done, len(todo))
    return ImagesMade(made, total_bytes, tuple(unavailable))
