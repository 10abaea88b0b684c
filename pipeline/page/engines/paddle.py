"""PP-OCR through rapidocr on ONNX Runtime. The only module that imports rapidocr.

rapidocr 3.x ships its PP-OCR models inside the wheel (PP-OCRv6 detection and recognition,
"small", and the PP-OCR text-direction classifier, ~32 MB in all); the models are named here by
their path in the installed package, so rapidocr never reaches its download code and nothing is
fetched at run time. One engine is made per process, on first use, and kept: loading takes
~1-3 s and ~300 MB. ONNX Runtime runs one thread per worker (intra- and inter-op), as Tesseract
does under OMP_THREAD_LIMIT=1: pages run in parallel across workers instead.

Memory: ONNX Runtime allocates a page's activations with malloc (its arena is off, rapidocr's
default) and frees them after each model run: detection of a 2000-px page takes ~450 MB for a
second. glibc kept much of it (below its dynamic mmap threshold, which grows to 32 MB) in a
fragmented heap, so a worker sat at ~450 MB between pages and peaked at ~950;
`_return_freed_memory` makes large blocks come from mmap and go back to the system when freed
(benchmarks/README.md, "Memory").

Speed: detection's input is normalised through a table of the 256 byte values
(`_DetPreProcess`), the same float32 numbers rapidocr computes in float64 over the whole page
(0.27 CPU s a page). Recognition keeps rapidocr's batches of 6 lines without an arena: one line at
a time on the arena took ~15 % less CPU but changed a few characters (pooled F1 on the real pages
98.283 -> 98.275 %, benchmarks/README.md). Across the workers of a local pool one page is
detected at a time (`share_detection`): detection is a page's ~450 MB peak ("Memory").

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

import ctypes
import ctypes.util
import logging
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import numpy as np
from PIL import Image

from ...errors import EnvironmentProblemError, OcrError
from . import ENGINE_PADDLE, EngineInfo, Glyph, OcrLine, OcrResult, ReadOptions, Reading
from . import layout_model
from .limits import LimitedSession as _LimitedSession
from .limits import deadline as _deadline

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
# Blocks this large or larger come from mmap and are returned to the system when freed (glibc's
# M_MMAP_THRESHOLD; its default starts at 128 KiB and rises to 32 MiB as blocks are freed).
MMAP_THRESHOLD = 64 * 1024
_M_MMAP_THRESHOLD = -3  # mallopt's parameter number (malloc.h)


class PaddleEngine:
    """The PP-OCR engine: one rapidocr instance per process, loaded on first use."""

    name = ENGINE_PADDLE

    def read(self, image: Image.Image, options: ReadOptions) -> OcrResult:
        """Recognise one page image: PP-OCR's lines put in reading order, their text and ALTO
        (pipeline.page.assemble). `options.lang` is not needed: the one model reads both
        scripts and directions, and the result's `lang` says which the page is."""
        from ..assemble import assemble  # the page room's assembly; it imports no engine
        from ..missed import STEP_MISSED_LINES, read_missed

        reading = read_image(image, options.timeout)
        # Lines the detector missed on the whole page, read again in strips (pipeline/page/
        # missed.py).
        reading, missed = read_missed(reading, image,
                                      lambda strip: read_image(strip, options.timeout))
        result = assemble(reading, image, options, layout_model.regions(image, options.timeout))
        return replace(result, steps=result.steps + (STEP_MISSED_LINES,)) if missed else result

    def info(self, model: str) -> EngineInfo:
        """PP-OCR, rapidocr's version and the model name (`model` is not PP-OCR's)."""
        return EngineInfo(self.name, _rapidocr_version(), model_name())

    def check(self, lang: str) -> None:
        """Fail when rapidocr, ONNX Runtime or the layout model is missing (`lang` needs no
        model of its own)."""
        check_available()


def available() -> bool:
    """True when rapidocr and ONNX Runtime can be imported."""
    try:
        import onnxruntime  # noqa: F401
        import rapidocr  # noqa: F401
    except ImportError:
        return False
    return True


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
    """Import rapidocr, ONNX Runtime and rapid_layout (~0.5 s) without loading a model: the
    forkserver does, so that page workers fork with them imported."""
    if available():
        import rapidocr  # noqa: F401
    layout_model.preload()


def load() -> None:
    """Load this process's engine and layout model now (they stay loaded): pool workers do
    before their first page."""
    _engine()
    layout_model.load()


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
    for loader in loaders:
        part = getattr(engine, loader)()
        part.session.session = _LimitedSession(part.session.session)
        if loader == "_load_det_model":
            part.session.session = _GatedSession(part.session.session)
            part.get_preprocess = _det_preprocess(part)
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
        if img.dtype != np.uint8 or img.ndim != 3:
            return inner(img)  # type: ignore[no-any-return]  # rapidocr is untyped
        resized = inner.resize(img)
        if resized is None:
            return None
        table = _normalise_table(float(inner.scale), tuple(float(m) for m in inner.mean),
                                 tuple(float(s) for s in inner.std), resized.shape[2])
        import cv2  # rapidocr's own dependency

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


def read_image(image: Image.Image, timeout: float = 180.0) -> Reading:
    """The lines PP-OCR finds on `image`, in rapidocr's order, boxes in `image`'s pixels."""
    engine = _engine()
    if image.mode == "L":
        pixels = np.asarray(image)
    else:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        pixels = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])  # rapidocr wants BGR arrays
    with _deadline(timeout) as deadline:
        try:
            out = engine(pixels)
        except Exception as exc:  # ONNX Runtime and rapidocr raise their own, untyped, errors
            if deadline.expired:
                raise OcrError(f"PP-OCR timed out after {timeout:.0f} CPU s") from exc
            # rapidocr puts a whole traceback into its message: its last line says what went
            # wrong.
            last = (str(exc).strip().splitlines() or [""])[-1]
            raise OcrError(f"PP-OCR failed: {type(exc).__name__}: {last}") from exc
    if deadline.expired:  # rapidocr logged the stopped run and returned what it had
        raise OcrError(f"PP-OCR timed out after {timeout:.0f} CPU s")
    return Reading(tuple(_lines(out)), image.width, image.height, ENGINE_PADDLE, model_name())


def _lines(out: Any) -> Iterator[OcrLine]:
    boxes, texts, scores = getattr(out, "boxes", None), getattr(out, "txts", None), \
        getattr(out, "scores", None)
    if boxes is None or texts is None or scores is None:
        return
    words = getattr(out, "word_results", None) or ()
    for i, (quad, text, score) in enumerate(zip(boxes, texts, scores)):
        text = str(text)
        if not text.strip():
            continue
        polygon = tuple((int(round(float(x))), int(round(float(y)))) for x, y in quad)
        xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
        box = (min(xs), min(ys), max(xs), max(ys))
        vertical = box[3] - box[1] >= VERTICAL_RATIO * (box[2] - box[0])
        glyphs = tuple(_glyphs(words[i] if i < len(words) else ()))
        yield OcrLine(text, box, polygon, round(float(score) * 100, 1), glyphs, vertical)


def _glyphs(items: Any) -> Iterator[Glyph]:
    for item in items or ():
        if len(item) != 3 or item[2] is None:
            continue
        char, score, quad = item
        pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
        yield Glyph(str(char), (int(pts[:, 0].min()), int(pts[:, 1].min()),
                                int(np.ceil(pts[:, 0].max())), int(np.ceil(pts[:, 1].max()))),
                    round(float(score) * 100, 1))
