"""PP-OCR through rapidocr on ONNX Runtime. The only module that imports rapidocr.

rapidocr 3.x ships its PP-OCR models inside the wheel (PP-OCRv6 detection and recognition,
"small", and the PP-OCR text-direction classifier, ~32 MB in all); the models are named here by
their path in the installed package, so rapidocr never reaches its download code and nothing is
fetched at run time. One engine is made per process, on first use, and kept: loading takes
~1-3 s and ~300 MB. ONNX Runtime runs one thread per worker (intra- and inter-op), as Tesseract
does under OMP_THREAD_LIMIT=1: pages run in parallel across workers instead.

Memory: detection's ONNX Runtime allocates a page's activations with malloc (its arena is off,
rapidocr's default) and frees them after each model run: detection of a 2000-px page takes
~450 MB for a second. glibc kept much of it (below its dynamic mmap threshold, which grows to
32 MB) in a fragmented heap, so a worker sat at ~450 MB between pages and peaked at ~950;
`_return_freed_memory` makes large blocks come from mmap and go back to the system when freed
(benchmarks/README.md, "Memory").

Speed: detection's input is normalised through a table of the 256 byte values
(`_DetPreProcess`), the same float32 numbers rapidocr computes in float64 over the whole page
(0.27 CPU s a page). Recognition keeps rapidocr's batches of 6 lines (one line at a time changed
a few characters: pooled F1 on the real pages 98.283 -> 98.275 %, benchmarks/README.md) on ONNX
Runtime's arena, emptied after each page (`_REC_ARENA`): the same numbers without the ~490,000
page faults of fresh mmaps a page of 15 lines cost. A batch runs in chunks of two or three lines
(`_ChunkedSession`): the same numbers again, in less memory than the whole batch, which leaves
the arena nothing to free between them. Detection runs
at a scale chosen from the page's measured character size (`_ScaledDetector`, `DET_CHAR`): a
page of large characters is detected on a smaller image, recognition still cropping the full
one. Across the workers of a local pool one page is detected at a time (`share_detection`):
detection is a page's ~450 MB peak ("Memory").

Time limit: a page's CPU seconds in the thread that reads it, watched from another thread
(`limits.deadline`, shared with the layout model), so it works in the main thread of a pool
worker and in a Dask worker's task threads alike. When the limit passes, ONNX Runtime's run in
progress is stopped (`RunOptions.terminate`) and every later run of the page fails at once.

A page comes back as a `Reading` (lines with polygons, per-character boxes and confidences) and,
through `ocr_image`, as the same `OcrResult` the Tesseract wrapper makes: the ALTO is built from
the lines (one String per character), so the look-alike correction, the mapping onto the scan,
hit boxes and confidence work as they do for Tesseract's ALTO.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import threading
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Sequence

import numpy as np
from PIL import Image

from ...errors import EnvironmentProblemError, OcrError
from . import (ENGINE_PADDLE, EngineInfo, Glyph, OcrLine, OcrResult, ReadOptions, Reading,
               installed)
from . import layout_model
from .alternatives import alternatives
from .limits import LimitedSession as _LimitedSession
from .limits import deadline as _deadline
from .nearly import STEP_RESTORED, nearly_read, put_at, put_back, restorable
from .variants import FormIndex, varied

log = logging.getLogger(__name__)

# Lines PP-OCR's recogniser scores below this are dropped (rapidocr's own default).
_TEXT_SCORE = 0.5
# PP-OCR's text-direction classifier is off: on real pages it turned whole letter-spaced lines
# upside down before recognition (cy_gazette_no1_p4's "三、本專刊自民國99年5月起..." read as
# "三系：", score 0.71), which lost 32-91 characters a page on 9 of the 59 pages of
# ../shared/realpages (benchmarks/README.md); each of those lines reads right on its own. A page
# that is upside down as a whole is turned by the page loop instead (pipeline.page.process).
_USE_CLS = False
# A detected box this much taller than wide is a vertical line (rapidocr turns such a crop on its
# side before recognising it: utils/process_img.get_rotate_crop_image uses the same 1.5).
VERTICAL_RATIO = 1.5
# Recognition allocates from ONNX Runtime's arena, emptied after each page
# (`_release_recognition_memory`): without it every batch's activations came from fresh mmaps
# (~490,000 page faults and ~1 CPU s of the kernel's a page of 15 lines), with it the same
# numbers in ~35 % less CPU for ~30 MB more a worker between pages (benchmarks/README.md,
# "Session 8"). It is not shrunk between a page's runs: freeing it after each run and faulting
# it in again for the next cost ~0.18 CPU s of the kernel's a page of 15 lines (session 11).
_REC_ARENA = True
# rapidocr's batches of 6 lines (padded to the widest of the six) run in chunks of this many
# lines, three where two would leave one alone (`_ChunkedSession`): ONNX Runtime computes each
# line of a batch of two or more to the same bits whatever the batch's size (a batch of one
# takes another path: not the same bits), and a chunk's activations are a third of the batch's,
# the 18,710-way character scores of every time step most of them.
_REC_CHUNK = 2
# The input of the run that empties recognition's arena after a page: one blank line image.
_FLUSH_SHAPE = (1, 3, 48, 48)
# Detection's scale (`_ScaledDetector`). rapidocr detects on its page image (long side at most
# 2000 px); a page whose characters come out larger there than those of an A4 page at 300 dpi
# (22 px: the median over the horizontal A4 pages of ../shared/realpages, 20-29 px;
# benchmarks/README.md, "Session 8") is detected at the scale that brings them to that size,
# recognition still cropping the lines from the full image. Detection's work goes with the
# square of the scale.
DET_CHAR = 22.0
# After a scaled detection, a page whose lines (their 5th percentile, short side, in the scaled
# image) are below this many pixels holds small text as well: it is detected again unscaled.
DET_CHECK_LINE = 18.0
# The character size is measured on a copy of the detector's input whose long side is at most
# this, from at least _MIN_PIECES pieces of ink.
_MEASURE_SIDE = 1000
_MIN_PIECES = 50
# The character height is this quantile of the heights of the page's pieces of ink: most Han
# characters hold a piece (a radical, a frame) of nearly their full height, while strokes, dots
# and the parts of split characters are shorter. The median is not: it moved from 0.6 to 0.9 of
# the font size with the resolution (rendered prose at 24-100 px); this quantile stayed at 0.9.
_CHAR_QUANTILE = 75
# Blocks this large or larger come from mmap and are returned to the system when freed (glibc's
# M_MMAP_THRESHOLD; its default starts at 128 KiB and rises to 32 MiB as blocks are freed).
MMAP_THRESHOLD = 64 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)
# Characters the recogniser nearly read (`nearly.nearly_read`, for the page quality estimate,
# pipeline/page/quality.py; benchmarks/README.md, "Page quality", session 11), and those of them
# put back into the line (STEP_RESTORED, which assemble records where the lines written hold
# one): engines/nearly.py.
# Per line rapidocr returns: the characters nearly read, the offsets of those put back, the
# characters read whose other forms were nearly read, and each character's alternatives
# (engines/alternatives.py) by its offset in the line's text (`_hidden`).
_Doubt = tuple[int, tuple[int, ...], int, tuple[tuple[str, ...], ...]]


class PaddleEngine:
    """The PP-OCR engine: one rapidocr instance per process, loaded on first use."""

    name = ENGINE_PADDLE

    def read(self, image: Image.Image, options: ReadOptions) -> OcrResult:
        """Recognise one page image: PP-OCR's lines put in reading order, their text and ALTO
        (pipeline.page.assemble). `options.lang` is not needed: the one model reads both
        scripts and directions, and the result's `lang` says which the page is."""
        # the page room's assembly; it imports no engine
        from ..assemble import assemble, measured, needs_layout_model
        from ..foldstrip import drop_cut_strip
        from ..straighten import askew, straightened
        from ..missed import STEP_MISSED_LINES, read_missed

        reading = read_image(image, options.timeout)
        # Lines the detector missed on the whole page, read again in strips (pipeline/page/
        # missed.py).
        reading, missed = read_missed(reading, image,
                                      lambda strip: read_image(strip, options.timeout))
        # A page found askew is laid out in a frame turned straight, and its boxes mapped back
        # onto `image` afterwards (pipeline/page/straighten.py).
        degrees = askew(reading, image) if options.deskew else 0.0
        cut: tuple[OcrLine, ...] | None = None
        straight = None
        if degrees:
            # The half-cut 版心 strip is found as the page lies, where its tests were measured
            # (foldstrip.py) and where the image's edge clips its box: turned straight on a
            # canvas larger than the leaf, the box ran past the cut into the paper beyond and
            # was no narrower than the columns (shiji_bw_p4 turned 2.5°: 0.86 of a column).
            reading, cut = drop_cut_strip(reading, image)
            straight = straightened(reading, image, degrees)
            reading, image = straight.reading, straight.image
        # The page's ink, measured once for its lines (pipeline/page/pagelook.py), says whether
        # the layout model can change the page (~0.25 CPU s a page when it runs).
        reading = measured(reading, image)
        regions = (layout_model.regions(image, options.timeout) if needs_layout_model(reading)
                   else None)
        result = assemble(reading, image, options, regions, cut)
        if straight is not None:
            result = straight.back(result)
        # (characters nearly read put back into the lines written: assemble's STEP_RESTORED)
        steps: tuple[str, ...] = (STEP_MISSED_LINES,) if missed else ()
        return replace(result, steps=result.steps + steps) if steps else result

    def info(self, model: str) -> EngineInfo:
        """PP-OCR, rapidocr's version and the model name (`model` is not PP-OCR's)."""
        return EngineInfo(self.name, _rapidocr_version(), model_name())

    def check(self, lang: str) -> None:
        """Fail when rapidocr, ONNX Runtime or the layout model is missing (`lang` needs no
        model of its own)."""
        check_available()


def available() -> bool:
    """True when rapidocr and ONNX Runtime are installed (`engines.installed`: found, not
    imported)."""
    return installed("onnxruntime", "rapidocr")


@lru_cache(maxsize=1)
def model_name() -> str:
    """The models rapidocr reads pages with, e.g. 'PP-OCRv6 small (rapidocr 3.10.0)'."""
    cfg = _engine().cfg
    return (f"{cfg.Rec.ocr_version.value} {cfg.Rec.model_type.value} "
            f"(rapidocr {_rapidocr_version()})")


def _rapidocr_version() -> str:
    from importlib.metadata import version

    return version("rapidocr")


def check_available() -> None:
    """Fail before any work when rapidocr or ONNX Runtime is missing (exit 3, naming the fix)."""
    if not available():
        raise EnvironmentProblemError(
            "PP-OCR is not installed: pip install rapidocr onnxruntime (make install does), "
            "or pass --engine tesseract")
    layout_model.check_available()


def preload() -> None:
    """Import rapidocr and rapid_layout (~0.5 s) without loading a model: the forkserver does,
    so that page workers fork with them imported. Neither imports ONNX Runtime until a model is
    loaded: each worker imports it then (0.03 CPU s; the forkserver 15 MB smaller since it no
    longer imports it to check it is installed, benchmarks/README.md "Session 10")."""
    if available():
        import rapidocr  # noqa: F401
    layout_model.preload()


def load() -> None:
    """Load this process's engine now (it stays loaded): pool workers do before their first
    page. The layout model is loaded where a page first needs it (engines/layout_model.py):
    most pages do not."""
    _engine()


@lru_cache(maxsize=1)
def _engine() -> Any:
    try:
        from rapidocr import RapidOCR
    except ImportError as exc:
        raise EnvironmentProblemError(
            "PP-OCR is not installed: pip install rapidocr onnxruntime (or make install), "
            "or pass --engine tesseract") from exc
    import rapidocr
    models = Path(rapidocr.__file__).parent / "models"
    params: dict[str, Any] = {
        "Global.log_level": "error",
        "Global.text_score": _TEXT_SCORE,
        "Global.return_word_box": True,
        "Global.use_cls": _USE_CLS,
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        # rapidocr's default, stated: an arena would keep a page's peak for the process's life
        "EngineConfig.onnxruntime.enable_cpu_mem_arena": False,
    }
    for task in ("Det", "Cls", "Rec"):
        path = _model_file(models, task)
        if path is None:
            raise EnvironmentProblemError(
                f"rapidocr's {task} model is missing from {models}: reinstall rapidocr")
        params[f"{task}.model_path"] = str(path)
    _return_freed_memory()
    started = time.perf_counter()
    engine = RapidOCR(params=params)
    # rapidocr loads its models on first use; load them now (a worker does before its first
    # page) and let each run take the time limit of the page it belongs to.
    loaders = ("_load_det_model", "_load_cls_model", "_load_rec_model") if _USE_CLS else \
        ("_load_det_model", "_load_rec_model")
    onnx = engine.cfg.EngineConfig.onnxruntime
    for loader in loaders:
        arena = loader == "_load_rec_model" and _REC_ARENA
        onnx.enable_cpu_mem_arena = arena  # read when the model's session is made
        try:
            part = getattr(engine, loader)()
        finally:
            onnx.enable_cpu_mem_arena = False
        part.session.session = _LimitedSession(part.session.session)
        if loader == "_load_rec_model":
            part.session.session = _ChunkedSession(part.session.session, arena)
            part.postprocess_op = _DoubtingDecoder(part.postprocess_op)
        if loader == "_load_det_model":
            part.session.session = _GatedSession(part.session.session)
            part.get_preprocess = _det_preprocess(part)
            setattr(engine, "text_det", _ScaledDetector(part))  # rapidocr calls it
    log.debug("[paddle] engine loaded in %.2f s", time.perf_counter() - started)
    return engine


def _model_file(models: Path, task: str) -> Path | None:
    pattern = {"Det": "*_det_*.onnx", "Cls": "*_cls_*.onnx", "Rec": "*_rec_*.onnx"}[task]
    found = sorted(models.glob(pattern))
    return found[0] if found else None


def _return_freed_memory() -> None:
    """Have this process's large blocks come from mmap (and go back when freed): see the module
    docstring. A no-op where the C library is not glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None and hasattr(libc, "mallopt"):
            libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except OSError:
        pass


def _det_preprocess(detector: Any) -> Any:
    """rapidocr's detection preprocessing with the normalisation by table (`_DetPreProcess`)."""
    made_by_rapidocr = detector.get_preprocess

    def make() -> _DetPreProcess:
        return _DetPreProcess(made_by_rapidocr())
    return make


_det_scale = threading.local()  # the scale of the detection running in this thread


def char_height(pixels: np.ndarray) -> float | None:
    """The page's character height in `pixels`' pixels: the _CHAR_QUANTILE-th percentile of the
    heights of its pieces of ink (Otsu's threshold on a copy at most _MEASURE_SIDE px long, the
    minority side as ink, so light text on dark counts too; pieces under 3 px or over an eighth
    of the page left out). None when fewer than _MIN_PIECES pieces are found."""
    import cv2  # rapidocr's own dependency

    grey = cv2.cvtColor(pixels, cv2.COLOR_BGR2GRAY) if pixels.ndim == 3 else pixels
    height, width = grey.shape[:2]
    k = max(1, -(-max(height, width) // _MEASURE_SIDE))
    if k > 1:
        grey = cv2.resize(grey, (max(1, width // k), max(1, height // k)),
                          interpolation=cv2.INTER_AREA)
    _, ink = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    if ink.mean() > 0.5:
        ink = 1 - ink
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h, w = stats[1:, cv2.CC_STAT_HEIGHT], stats[1:, cv2.CC_STAT_WIDTH]
    pieces = h[(h >= 3) & (h <= grey.shape[0] / 8) & (w <= grey.shape[1] / 8)]
    if len(pieces) < _MIN_PIECES:
        return None
    return float(np.percentile(pieces, _CHAR_QUANTILE)) * float(k)


def detection_scale(pixels: np.ndarray, floor: int = 0) -> float:
    """The scale the detector reads `pixels` (its input) at: DET_CHAR over the page's
    character size, at most 1; the short side kept at `floor` px or more."""
    char = char_height(pixels)
    if char is None or char <= DET_CHAR:
        return 1.0
    shortest = float(min(pixels.shape[:2]))
    return float(min(1.0, max(DET_CHAR / char, floor / max(1.0, shortest))))


class _ScaledDetector:
    """rapidocr's text detector, run at `detection_scale`: a page of small text as before, a
    page of large characters on a smaller image (and again unscaled when its lines show small
    text too). The boxes come back in the input's pixels either way."""

    def __init__(self, detector: Any) -> None:
        self._detector = detector

    def __call__(self, img: np.ndarray) -> Any:
        floor = self._detector.limit_side_len if self._detector.limit_type == "min" else 0
        scale = detection_scale(img, int(floor))
        if scale < 1.0:
            _det_scale.value = scale
            try:
                out = self._detector(img)
            finally:
                _det_scale.value = 1.0
            if _small_lines(out, scale) is False:
                return _upright(out)
            log.debug("[paddle] detected at %.2f: small lines, detecting unscaled", scale)
        return _upright(self._detector(img))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._detector, name)


# A page scanned askew lies at most this many degrees off straight (the range the Tesseract
# path's deskew corrects, pipeline/page/preprocess.py).
SKEW_MAX = 15.0


def _upright(out: Any) -> Any:
    """The detector's output with the corners of the boxes rapidocr would crop sideways put in
    the order it crops by (`upright_corners`)."""
    boxes = getattr(out, "boxes", None)
    if boxes is not None and len(boxes):
        out.boxes = upright_corners(np.asarray(boxes))
    return out


def upright_corners(boxes: np.ndarray) -> np.ndarray:
    """Boxes (n x 4 x 2) with the corners of those rapidocr would crop sideways put in the order
    it crops by: top left, top right, bottom right, bottom left, as a reader holding the page
    upright names them. Every other box comes back as it was.

    rapidocr's detector (ch_ppocr_det/utils.py, get_mini_boxes) orders a box's corners by x
    alone. A column of a vertical page scanned askew, tilted so that its foot lies left of its
    head (2.5° over a column 20 characters long is more than its width), comes back starting at
    its bottom-left corner: its first edge is then its long side, get_rotate_crop_image crops it
    turned a quarter (a wide crop of a tall box, not turned upright), and the column is read
    sideways as one or two characters (siku_mulu_p60 made to look scanned: a column of 20
    characters read as 香; benchmarks/README.md). Such a box's first edge is its longer and runs
    within SKEW_MAX of straight down the page; an upright or horizontal box, a tilted line of
    horizontal text, or text set at a steep angle (the lettering round an emblem) is not, and
    keeps rapidocr's order."""
    quads = boxes.reshape(-1, 4, 2)
    edge = quads[:, 1] - quads[:, 0]
    first_edge = np.linalg.norm(edge, axis=1)
    second_edge = np.linalg.norm(quads[:, 2] - quads[:, 1], axis=1)
    down = np.abs(edge[:, 0]) <= np.tan(np.radians(SKEW_MAX)) * np.abs(edge[:, 1])
    sideways = down & (first_edge > second_edge)
    if not sideways.any():
        return boxes
    out = quads.copy()
    tilted = quads[sideways]
    centre = tilted.mean(axis=1, keepdims=True)
    # Clockwise on the page (y grows downwards) is the order of the corners' angles round the
    # centre, ...
    angle = np.arctan2(tilted[..., 1] - centre[..., 1], tilted[..., 0] - centre[..., 0])
    clockwise = np.take_along_axis(tilted, np.argsort(angle, axis=1)[..., None], axis=1)
    # ... starting from the corner nearest the page's top left.
    first = np.argmin(clockwise.sum(axis=2), axis=1)
    turn = (first[:, None] + np.arange(4)[None, :]) % 4
    out[sideways] = np.take_along_axis(clockwise, turn[..., None], axis=1)
    return out.reshape(boxes.shape)


def _small_lines(out: Any, scale: float) -> bool | None:
    """True when a detection at `scale` found lines under DET_CHECK_LINE px (5th percentile of
    their short sides, in the scaled image); None when it found none."""
    boxes = getattr(out, "boxes", None)
    if boxes is None or len(boxes) == 0:
        return None
    quads = np.asarray(boxes, dtype=np.float64).reshape(-1, 4, 2)
    sides = np.minimum(np.linalg.norm(quads[:, 1] - quads[:, 0], axis=1),
                       np.linalg.norm(quads[:, 3] - quads[:, 0], axis=1))
    return bool(np.percentile(sides, 5) * scale < DET_CHECK_LINE)


class _DetPreProcess:
    """rapidocr's DetPreProcess (resize to a multiple of 32, normalise, channels first, float32)
    with the normalisation looked up per byte value: rapidocr computes `(v * scale - mean) / std`
    in float64 over the whole page, ~0.27 CPU s and ~270 MB of temporaries for a 1408x2016
    input (the table: ~0.01 s); every pixel of a byte value gets the same float32, so a table of
    the 256 values gives the same array (tests/test_paddle.py compares them)."""

    def __init__(self, rapidocrs: Any) -> None:
        self._rapidocrs = rapidocrs

    def __call__(self, img: np.ndarray) -> np.ndarray | None:
        inner = self._rapidocrs
        scale = getattr(_det_scale, "value", 1.0)
        if img.dtype != np.uint8 or img.ndim != 3:
            return inner(img)  # type: ignore[no-any-return]  # rapidocr is untyped
        import cv2  # rapidocr's own dependency

        resized = inner.resize(img)
        if resized is None:
            return None
        if scale < 1.0:  # rapidocr's sizes (multiples of 32), of the image scaled
            size = (max(32, int(round(img.shape[1] * scale / 32)) * 32),
                    max(32, int(round(img.shape[0] * scale / 32)) * 32))
            if size[0] < resized.shape[1] and size[1] < resized.shape[0]:
                resized = cv2.resize(img, size, interpolation=cv2.INTER_AREA)
        table = _normalise_table(float(inner.scale), tuple(float(m) for m in inner.mean),
                                 tuple(float(s) for s in inner.std), resized.shape[2])

        out = np.empty((1, resized.shape[2], resized.shape[0], resized.shape[1]),
                       dtype=np.float32)
        for channel, plane in enumerate(cv2.split(resized)):
            out[0, channel] = cv2.LUT(plane, table[channel].reshape(1, 256))
        return out


@lru_cache(maxsize=4)
def _normalise_table(scale: float, mean: tuple[float, ...], std: tuple[float, ...],
                     channels: int) -> np.ndarray:
    """What rapidocr's DetPreProcess.normalize makes of each byte value, per channel."""
    values = np.arange(256, dtype=np.uint8).reshape(256, 1, 1).repeat(channels, axis=2)
    normalised = (values.astype("float32") * scale - np.array(mean)) / np.array(std)
    return np.ascontiguousarray(normalised.astype(np.float32).reshape(256, channels).T)


_gate: list[Any] = []  # the lock detection is run under (share_detection)


def share_detection(lock: Any) -> None:
    """Run this process's detections under `lock` (a multiprocessing lock the workers of one
    local pool share): one page is detected at a time across them, the others recognise,
    clean up or decode meanwhile. Detection is a page's memory peak (~450 MB beside the engine's
    ~300); two at once set the pool's peak."""
    _gate[:] = [lock]


def detection_shared() -> bool:
    """True when this process detects under a lock it shares (`share_detection`)."""
    return bool(_gate)


class _GatedSession:
    """A session whose runs wait for the lock of `share_detection` (when one is shared)."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        if not _gate:
            return self._session.run(output_names, input_feed, run_options)
        # Waiting for the lock takes no CPU time: the page's time limit is not spent on it.
        with _gate[0]:
            return self._session.run(output_names, input_feed, run_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


@contextlib.contextmanager
def _ocr_errors(engine: Any, timeout: float) -> Iterator[None]:
    """Runs a PP-OCR call within the page's time limit (`timeout` CPU seconds): its errors and
    a time-out become one OcrError, and the recogniser's memory is let go afterwards, outside
    the limit."""
    try:
        with _deadline(timeout) as deadline:
            try:
                yield
            except Exception as exc:  # ONNX Runtime and rapidocr raise their own errors
                if deadline.expired:
                    raise OcrError(f"PP-OCR timed out after {timeout:.0f} CPU s") from exc
                # rapidocr puts a whole traceback into its message: its last line says what
                # went wrong.
                last = (str(exc).strip().splitlines() or [""])[-1]
                raise OcrError(f"PP-OCR failed: {type(exc).__name__}: {last}") from exc
    finally:
        _release_recognition_memory(engine)  # outside the page's time limit
    if deadline.expired:  # rapidocr logged the stopped run and returned what it had
        raise OcrError(f"PP-OCR timed out after {timeout:.0f} CPU s")


def read_image(image: Image.Image, timeout: float = 180.0) -> Reading:
    """The lines PP-OCR finds on `image`, in rapidocr's order, boxes in `image`'s pixels, each
    with the characters its recogniser nearly read (`OcrLine.hidden`)."""
    engine = _engine()
    with _ocr_errors(engine, timeout):
        out, hidden = _run(engine, _pixels(image))
    return Reading(tuple(_lines(out, hidden)), image.width, image.height, ENGINE_PADDLE,
                   model_name())


class MirroredLine(NamedTuple):
    """A line of `read_mirrored`: the characters the recogniser reads in it as it is, its score
    (0-1) as it is and mirrored, and its box (left, top, right, bottom) in the image's pixels."""

    chars: int
    plain: float
    mirrored: float
    box: tuple[int, int, int, int]


def read_mirrored(image: Image.Image, most: int, timeout: float = 180.0) -> list[MirroredLine]:
    """Up to `most` of the longest lines PP-OCR's detector finds on `image`, each recognised as
    it is and mirrored left to right on the page (the test of pipeline/page/bleed.py). Detection
    runs once: a mirrored line lies where the line lies."""
    engine = _engine()
    with _ocr_errors(engine, timeout):
        page = engine.load_img(_pixels(image))
        scaled, record = engine.preprocess_img(page)
        del page
        try:
            crops, det = engine.detect_and_crop(scaled, record)
        except Exception:  # rapidocr's "The text detection result is empty"
            return []
        if det.boxes is None or not len(crops):
            return []
        longest = sorted(range(len(crops)), key=lambda i: -max(crops[i].shape[:2]))[:most]
        chosen = [crops[i] for i in longest]
        # rapidocr turned the crop of a tall (vertical) line a quarter turn: the page's
        # left-right mirror is then the crop's top-bottom one.
        turned = [_is_tall(det.boxes[i]) for i in longest]
        boxes = _page_boxes(np.array([det.boxes[i] for i in longest], np.float64), record,
                            image.size)
        mirrored = [np.ascontiguousarray(c[::-1] if t else c[:, ::-1])
                    for c, t in zip(chosen, turned)]
        rec = engine.recognize_txt(chosen + mirrored)
    texts, scores = list(rec.txts or ()), [float(x) for x in rec.scores]
    n = len(chosen)
    if len(texts) != 2 * n or len(scores) != 2 * n:
        return []
    return [MirroredLine(len(str(texts[i]).strip()), scores[i], scores[n + i], boxes[i])
            for i in range(n)]


def _page_boxes(quads: np.ndarray, record: dict[str, Any], size: tuple[int, int]
                ) -> list[tuple[int, int, int, int]]:
    """The detector's boxes (in rapidocr's scaled and padded copy) as rectangles on the image."""
    from rapidocr.utils.process_img import map_boxes_to_original

    pts = map_boxes_to_original(quads, record, size[1], size[0])
    return [(int(q[:, 0].min()), int(q[:, 1].min()), int(np.ceil(q[:, 0].max())),
             int(np.ceil(q[:, 1].max()))) for q in pts]


def _is_tall(quad: Any) -> bool:
    """True when rapidocr turns this box's crop on its side (get_rotate_crop_image)."""
    pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    width = max(np.linalg.norm(pts[0] - pts[1]), np.linalg.norm(pts[2] - pts[3]))
    height = max(np.linalg.norm(pts[0] - pts[3]), np.linalg.norm(pts[1] - pts[2]))
    return bool(width > 0 and height / width >= VERTICAL_RATIO)


def _pixels(image: Image.Image) -> np.ndarray:
    """The array rapidocr reads `image` from: grey as it is, colour as BGR."""
    if image.mode == "L":
        return np.asarray(image)
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


def _run(engine: Any, pixels: np.ndarray) -> tuple[Any, list[_Doubt]]:
    """What rapidocr's `RapidOCR.__call__` does with `pixels` (the caller keeps no reference to
    them), without holding the full-size page while it detects and recognises; and the
    characters the recogniser nearly read in each line it returns (`_hidden`).

    rapidocr converts the page to BGR (a grey A4 page at 300 dpi: 8 MB becomes 25 MB), scales it
    to at most 2000 px and reads the scaled copy; it keeps the full-size one to the end for its
    size alone (`build_final_output` maps the boxes back with it and hands it out as
    `RapidOCROutput.img`, which Wenshi does not read). Here it is let go once scaled, and a
    stand-in of its shape (a broadcast zero, no memory) takes its place at the end: the same
    calls on the same arrays, ~25-33 MB less in a worker while it detects and while it
    recognises (benchmarks/README.md, "Session 10")."""
    page = engine.load_img(pixels)
    del pixels
    shape = page.shape
    scaled, record = engine.preprocess_img(page)
    del page  # freed here unless the page needed no scaling (then `scaled` is the page)
    det, cls, rec, crops = engine.run_ocr_steps(scaled, record)
    del scaled
    hidden = _hidden(engine, rec)  # build_final_output filters `rec` in place
    out = engine.build_final_output(np.broadcast_to(np.uint8(0), shape), det, cls, rec, crops,
                                    record)
    return out, hidden


def _hidden(engine: Any, rec: Any) -> list[_Doubt]:
    """The characters nearly read (`nearly.nearly_read`), where those of them put back
    (`nearly.restorable`) stand in the text, and the characters read whose other forms were
    nearly read (`variants.varied`), in each line rapidocr will return: the lines of `rec` it
    keeps (text not blank, score at least its text_score), in order."""
    texts, scores = getattr(rec, "txts", None), getattr(rec, "scores", None)
    if texts is None or scores is None:
        return []
    floor = float(getattr(engine, "text_score", _TEXT_SCORE))
    words = getattr(rec, "word_results", None) or ()
    return [(int(getattr(words[i], "hidden", 0)), tuple(getattr(words[i], "restored", ())),
             int(getattr(words[i], "variants", 0)),
             tuple(getattr(words[i], "alternatives", ())))
            if i < len(words) else (0, (), 0, ())
            for i, (text, score) in enumerate(zip(texts, scores))
            if str(text).strip() and float(score) >= floor]


class _DoubtingDecoder:
    """rapidocr's CTC decoder, which also finds each line's characters nearly read
    (`nearly.nearly_read`) in the recogniser's output it decodes: their count goes on the line's
    word information (`hidden`), where `_hidden` reads it, and those `nearly.restorable` picks
    are put back into the line (`restored`: where they stand in its text), with frames for
    rapidocr's word boxes and their probability as confidence. The line's score stays
    rapidocr's (the mean of the characters it read: the lines kept are the same). The decoding
    itself is rapidocr's. It also counts the characters read whose other forms the recogniser
    nearly read (`variants.varied`: `variants` on the word information), and the characters the
    recogniser saw where it read one it doubted (`alternatives.alternatives`: `alternatives`, one
    tuple per character of the line's text, none for a character put back)."""

    def __init__(self, decoder: Any) -> None:
        self._decoder = decoder
        self._forms = FormIndex(decoder.character)

    def __call__(self, preds: np.ndarray, return_word_box: bool = False,
                 **kwargs: Any) -> Any:
        lines, words = self._decoder(preds, return_word_box, **kwargs)
        ratios = kwargs.get("wh_ratio_list", (1.0,))
        widest = float(kwargs.get("max_wh_ratio", 1.0)) or 1.0
        space = len(self._decoder.character) - 1  # rapidocr adds the space as its last class
        for b, info in enumerate(words or ()):
            ratio = float(ratios[b]) if b < len(ratios) else widest
            frames = int(round(preds.shape[1] * ratio / widest))
            cols, found = nearly_read(preds[b], frames)
            variants = varied(preds[b], frames, cols, self._forms)
            back = restorable(cols, found, space, info.confs)
            text, score = lines[b]
            others = (alternatives(preds[b], frames, cols, info.confs, self._decoder.character)
                      if len(text) == len(cols) else [])
            if back and len(text) == len(cols):
                text, at, confs = put_back(text, cols, info.confs, back, self._decoder.character)
                selection = np.zeros(preds.shape[1], dtype=bool)
                selection[at] = True
                restored = self._decoder.get_word_info(text, selection)
                restored.line_txt_len, restored.confs = info.line_txt_len, confs
                lines[b], words[b], info = (text, score), restored, restored
                setattr(info, "restored", put_at(back))
                for k in put_at(back):
                    others.insert(k, ())
            # A space nearly read between two words is no character dropped (the text is
            # scored and searched without whitespace): on pages of Latin text nearly all
            # the characters found were spaces (benchmarks/README.md, "Session 18, page
            # quality").
            setattr(info, "hidden", sum(1 for n in found if n.label != space))
            setattr(info, "variants", variants)
            setattr(info, "alternatives", others)
        return lines, words

    def __getattr__(self, name: str) -> Any:
        return getattr(self._decoder, name)


class _ChunkedSession:
    """Recognition's session (a `LimitedSession`), running each batch rapidocr hands it in
    chunks of _REC_CHUNK lines (a last chunk of three rather than one alone) into one output
    array: the numbers of the whole batch (see _REC_CHUNK), in a chunk's activations.

    `arena`: the session allocates from ONNX Runtime's arena (`_release_recognition_memory`
    empties it after a page)."""

    def __init__(self, session: _LimitedSession, arena: bool) -> None:
        self._session = session
        self.arena = arena

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        (name, batch), = input_feed.items()
        spans = chunks(len(batch))
        if len(spans) == 1:
            return self._session.run(output_names, input_feed, run_options)
        out: np.ndarray | None = None
        for start, end in spans:
            part = self._session.run(output_names, {name: batch[start:end]}, run_options)
            if len(part) != 1:  # rapidocr's recogniser has one output; anything else: whole
                return self._session.run(output_names, input_feed, run_options)
            if out is None:
                out = np.empty((len(batch),) + part[0].shape[1:], dtype=part[0].dtype)
            out[start:end] = part[0]
            del part
        return [out]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def chunks(lines: int, size: int = 0) -> list[tuple[int, int]]:
    """The (start, end) spans a batch of `lines` is run in: `size` (default _REC_CHUNK) lines
    each, the last one up to `size` + 1 rather than a line alone."""
    size = max(2, size or _REC_CHUNK)
    spans, start = [], 0
    while lines - start > size + 1:
        spans.append((start, start + size))
        start += size
    spans.append((start, lines))
    return spans


def _release_recognition_memory(engine: Any) -> None:
    """Give recognition's arena back once a page's lines are read.

    A run told to shrink the arena frees its wholly unused regions when it ends, but the last
    batch's output is still held then, so the region holding it stays; a run on one blank line
    after the page, when nothing of it is held, frees them all."""
    from .limits import run_options

    rec = engine.text_rec
    session = getattr(getattr(rec, "session", None), "session", None)
    if not isinstance(session, _ChunkedSession) or not session.arena:
        return
    try:
        session.run(None, {session.get_inputs()[0].name: np.zeros(_FLUSH_SHAPE, np.float32)},
                    run_options(shrink=True))
    except Exception as exc:  # ONNX Runtime raises its own errors; memory only, not the page
        log.debug("[paddle] recognition's arena was not emptied: %s", exc)


def _lines(out: Any, hidden: list[_Doubt]) -> Iterator[OcrLine]:
    boxes, texts, scores = getattr(out, "boxes", None), getattr(out, "txts", None), \
        getattr(out, "scores", None)
    if boxes is None or texts is None or scores is None:
        return
    words = getattr(out, "word_results", None) or ()
    if len(hidden) != len(texts):  # not the lines measured: none rather than another's
        hidden = [(0, (), 0, ())] * len(texts)
    for i, (quad, text, score) in enumerate(zip(boxes, texts, scores)):
        text = str(text)
        if not text.strip():
            continue
        polygon = tuple((int(round(float(x))), int(round(float(y)))) for x, y in quad)
        xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
        box = (min(xs), min(ys), max(xs), max(ys))
        vertical = box[3] - box[1] >= VERTICAL_RATIO * (box[2] - box[0])
        glyphs = tuple(_glyphs(words[i] if i < len(words) else (), text, hidden[i][1],
                               hidden[i][3]))
        yield OcrLine(text, box, polygon, round(float(score) * 100, 1), glyphs, vertical,
                      hidden=hidden[i][0], restored=len(hidden[i][1]), variants=hidden[i][2])


def _glyphs(items: Any, text: str = "", restored: Sequence[int] = (),
            others: Sequence[tuple[str, ...]] = ()) -> Iterator[Glyph]:
    """The line's glyphs from rapidocr's word results; those spanning an offset of `restored`
    in the line's `text` are characters put back (engines/nearly.py). A word's offset is where
    it is found in `text` from the last word's end (the results leave out spaces). A glyph of one
    character gets the alternatives `others` holds at its offset (one tuple per character of
    `text`; none where `others` does not cover the text)."""
    at = 0
    for item in items or ():
        if len(item) != 3:
            continue
        char, score, quad = item
        found = text.find(str(char), at)
        start = found if found >= 0 else -1
        at = found + len(str(char)) if found >= 0 else at
        if quad is None:
            continue
        pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
        seen = (others[start] if len(others) == len(text) and 0 <= start and len(str(char)) == 1
                else ())
        yield Glyph(str(char), (int(pts[:, 0].min()), int(pts[:, 1].min()),
                                int(np.ceil(pts[:, 0].max())), int(np.ceil(pts[:, 1].max()))),
                    round(float(score) * 100, 1),
                    start >= 0 and any(start <= k < at for k in restored), seen)
