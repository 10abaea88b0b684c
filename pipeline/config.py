"""One frozen Config, resolved once: defaults < environment < explicit arguments (CLI flags)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .errors import UsageError

DEFAULT_LIBRARY = "library"
DEFAULT_LANG = "auto"
LANG_CHOICES = ("auto", "chi_sim", "chi_tra", "chi_sim_vert", "chi_tra_vert")
# OCR engines: PP-OCR through rapidocr, Tesseract, or the one the page's measurements pick.
ENGINE_CHOICES = ("auto", "paddle", "tesseract")
DEFAULT_ENGINE = "auto"
DEFAULT_PDF_DPI = 300
DEFAULT_OCR_TIMEOUT = 180.0  # seconds for one page; a stuck page must not stall a batch
# A PDF page whose text layer has fewer real characters than this is treated as a scan.
DEFAULT_MIN_TEXT_LAYER_CHARS = 8
# Pillow's own bomb limit is ~89 Mpx; an A0 page at 600 dpi is ~ 600 Mpx, so allow that much
# and refuse anything larger with a clear message instead of exhausting memory.
DEFAULT_MAX_IMAGE_PIXELS = 600_000_000
DEFAULT_PROOFREAD_THRESHOLD = 70.0  # mean word confidence below this: 需校对
# Working memory of the ingest's writer process for its index buffers, in MB (WENSHI_WRITER_MEMORY):
# the exact index's new segments and merges and the Whoosh writer's posting pool are flushed to
# disk within it. Sized for a small machine; the whole ingest (writer, workers, forkserver) of a
# 1亿-character batch stays under ~2 GB with it (benchmarks/ingest_memory.py).
DEFAULT_WRITER_MEMORY_MB = 256
MIN_WRITER_MEMORY_MB = 32
# The image clean-up steps before OCR (pipeline/page/preprocess.py), each of which can be skipped.
PREPROCESS_STEPS = ("bleed-through", "seal", "grayscale", "upscale", "border", "normalize",
                    "denoise", "deskew", "binarize", "despeckle", "orientation", "smooth")

_ENV = {
    "library": "WENSHI_LIBRARY",
    "lang": "WENSHI_LANG",
    "engine": "WENSHI_ENGINE",
    "jobs": "WENSHI_JOBS",
    "ocr_timeout": "WENSHI_OCR_TIMEOUT",
    "pdf_dpi": "WENSHI_PDF_DPI",
    "proofread_threshold": "WENSHI_PROOFREAD_THRESHOLD",
    "scheduler": "WENSHI_SCHEDULER",
    "writer_memory": "WENSHI_WRITER_MEMORY",
}


@dataclass(frozen=True)
class Config:
    """Every setting the pipeline and the library read. Validated on construction."""

    library: Path = Path(DEFAULT_LIBRARY)
    lang: str = DEFAULT_LANG
    engine: str = DEFAULT_ENGINE
    jobs: int = 0  # 0: one worker per core
    ocr_timeout: float = DEFAULT_OCR_TIMEOUT
    pdf_dpi: int = DEFAULT_PDF_DPI
    min_text_layer_chars: int = DEFAULT_MIN_TEXT_LAYER_CHARS
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    proofread_threshold: float = DEFAULT_PROOFREAD_THRESHOLD
    preprocess: bool = True
    skip_steps: tuple[str, ...] = ()
    scheduler: str = ""  # Dask scheduler address (tcp://host:8786): OCR on a cluster, not locally
    writer_memory: int = DEFAULT_WRITER_MEMORY_MB  # MB for the index writer's buffers

    def __post_init__(self) -> None:
        if self.lang not in LANG_CHOICES and not all(
            part and part.replace("_", "").isalnum() for part in self.lang.split("+")
        ):
            raise UsageError(f"invalid --lang {self.lang!r}: use one of {', '.join(LANG_CHOICES)}")
        if self.engine not in ENGINE_CHOICES:
            raise UsageError(f"invalid --engine {self.engine!r}: use one of "
                             f"{', '.join(ENGINE_CHOICES)}")
        if self.jobs < 0:
            raise UsageError("--jobs must be 0 (all cores) or a positive number")
        if self.ocr_timeout <= 0:
            raise UsageError("the OCR timeout must be positive")
        unknown = [s for s in self.skip_steps if s not in PREPROCESS_STEPS]
        if unknown:
            raise UsageError(f"unknown preprocessing step {unknown[0]!r}: "
                             f"steps are {', '.join(PREPROCESS_STEPS)}")
        if not 72 <= self.pdf_dpi <= 1200:
            raise UsageError("the PDF rasterisation dpi must be between 72 and 1200")
        if self.writer_memory < MIN_WRITER_MEMORY_MB:
            raise UsageError(f"the writer's memory (WENSHI_WRITER_MEMORY) must be at least "
                             f"{MIN_WRITER_MEMORY_MB} MB")
        if self.scheduler and ":" not in self.scheduler:
            raise UsageError(f"invalid --scheduler {self.scheduler!r}: "
                             "use tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)")

    @property
    def workers(self) -> int:
        """Number of OCR worker processes to run."""
        return self.jobs or (os.cpu_count() or 1)

    @classmethod
    def resolve(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Config":
        """Build the Config from defaults, then the environment, then non-None overrides."""
        env = os.environ if env is None else env
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, var in _ENV.items():
            if env.get(var):
                values[name] = _convert(types[name], env[var], var)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "library" in values:
            values["library"] = Path(values["library"])
        return cls(**values)

    def with_(self, **changes: Any) -> "Config":
        """A copy with some settings changed (validated again)."""
        return replace(self, **changes)


def _convert(type_name: object, raw: str, var: str) -> Any:
    try:
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
    except ValueError as exc:
        raise UsageError(f"environment variable {var}={raw!r} is not a number") from exc
    return raw
