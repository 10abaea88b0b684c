"""Ingest throughput against raw Tesseract and OCRmyPDF, and peak memory of a 500-page volume.

Generates scanned pages (300 dpi, 志书-like prose on slightly grey, noisy paper): half as one
multi-page scanned PDF (a JPEG per page), half as single PNG/JPEG/TIFF files. Then prints, as
pages per minute, with N jobs:

  (a) raw `tesseract` N at a time on the original page images;
  (b) raw `tesseract` N at a time on the images exactly as Wenshi hands them to Tesseract (every
      Tesseract run of a real ingest is captured: preprocessed image, language, arguments);
  (c) `wenshi ingest --jobs N`, end to end (a fresh library, the command's whole wall time);
  (b) and (c) alternate `--rounds` times (default 2), each round printed, the ratios over all;
  c/b (pipeline overhead: everything that is not Tesseract) and c/a (what the clean-up costs);
  the same ingest through a Dask LocalCluster of N single-threaded workers;
  `ocrmypdf --jobs N --sidecar` beside `wenshi ingest --jobs N` on the same PDF;
  peak memory (RSS and PSS summed over the whole process tree) of a 500-page PDF ingest.

    .venv/bin/python benchmarks/ingest_throughput.py --jobs 2
    .venv/bin/python benchmarks/ingest_throughput.py --jobs 2 --pages 40 --memory-pages 500 \\
        --ocrmypdf /tmp/ocrmypdf-venv/bin/ocrmypdf

OCRmyPDF is not a Wenshi dependency: install it for the benchmark only, e.g.
`python3 -m venv /tmp/ocrmypdf-venv && /tmp/ocrmypdf-venv/bin/pip install ocrmypdf`.
Everything is written to a temporary folder (kept with --keep DIR), never into the repository
(but for Python's bytecode of Wenshi's modules, in the __pycache__ folders an install makes).
Targets at N = 2: c/b >= 0.9, c/a >= 0.7, Wenshi faster than OCRmyPDF, peak memory <= 1 GB.
"""

from __future__ import annotations

import argparse
import compileall
import io
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

os.environ["OMP_THREAD_LIMIT"] = "1"  # one thread per Tesseract, as the ingest workers run it

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FONT_PATH = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"
FONT_SC = 2
DPI = 300
A5 = (1748, 2480)  # the page set: a 志书 page at 300 dpi
A4 = (2480, 3508)  # the 500-page memory volume: the largest common scan
MARGIN = 170
FONT_PX = 44  # 五号 at 300 dpi
LINE_PITCH = 88
LINES = 15  # ~ 450 characters a page: 2-5 s of single-threaded Tesseract here
LANG = "chi_sim"

PROSE = (
    "一九五八年春，县人民委员会决定在城东白沙河畔兴建第一座火力发电厂，由省电业管理局派技术人员协助勘测设计。"
    "当年五月破土动工，全县抽调民工三千余人，肩挑背扛，日夜施工。因缺乏起重设备，锅炉汽包由工人用木排沿河运抵工地，"
    "再以人力绞盘吊装就位。次年十月，两台一千五百千瓦汽轮发电机组先后并网发电，结束了县城依靠柴油机照明的历史。"
    "这条铁路全长二百一十四公里，北起江口车站，南至青石岭，沿途设大小车站十七处。清光绪末年，地方士绅曾集股筹建"
    "商办铁路，终因资金不足而中辍。民国二十五年，国民政府铁道部重新测量线路，并于次年开工修筑路基。"
    "据县志记载，本县地处丘陵与平原交界之处，东西宽约六十公里，南北长约八十五公里，总面积四千一百平方公里。"
    "境内河流纵横，以白沙河、清水江两水系为主，年平均降水量一千二百毫米，适宜种植水稻、油菜和茶叶。"
    "明洪武三年设县，清代沿袭旧制。辛亥革命以后，县署改称县公署，后又改为县政府，下设民政、财政、教育、建设四科。"
)


# -- page generation ---------------------------------------------------------------------------

def render_page(seed: int, size: tuple[int, int] = A5, lines: int = LINES,
                noise: float = 7.0) -> Image.Image:
    """One scanned page: prose on grey, slightly noisy paper, a little skewed."""
    rng = random.Random(seed)
    font = ImageFont.truetype(FONT_PATH, FONT_PX, index=FONT_SC)
    width, height = size
    page = Image.new("L", size, 236)
    draw = ImageDraw.Draw(page)
    per_line = (width - 2 * MARGIN) // FONT_PX
    start = rng.randrange(len(PROSE))
    text = (PROSE * 3)[start:start + per_line * lines]
    for i in range(lines):
        draw.text((MARGIN, MARGIN + i * LINE_PITCH), text[i * per_line:(i + 1) * per_line],
                  font=font, fill=35)
    page = page.rotate(rng.uniform(-0.6, 0.6), resample=Image.Resampling.BICUBIC, fillcolor=236)
    grain = np.random.default_rng(seed).normal(0.0, noise, (height, width))
    pixels = np.clip(np.asarray(page, dtype=np.float32) + grain, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(0.4))


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85, dpi=(DPI, DPI))
    return buffer.getvalue()


def write_scanned_pdf(path: Path, pages: Sequence[bytes], size: tuple[int, int]) -> None:
    """A PDF with one embedded JPEG per page, as a scanner writes it."""
    import pypdfium2

    pdf = pypdfium2.PdfDocument.new()
    width_pt, height_pt = size[0] * 72 / DPI, size[1] * 72 / DPI
    for data in pages:
        page = pdf.new_page(width_pt, height_pt)
        image = pypdfium2.PdfImage.new(pdf)
        image.load_jpeg(io.BytesIO(data), inline=True)
        image.set_matrix(pypdfium2.PdfMatrix().scale(width_pt, height_pt))
        page.insert_obj(image)
        page.gen_content()
        page.close()
    pdf.save(str(path))
    pdf.close()


@dataclass
class PageSet:
    folder: Path  # what `wenshi ingest` reads: volume.pdf and the single files
    volume: Path
    originals: list[Path]  # every page as a lossless PNG: what raw Tesseract reads in (a)
    pdf_pages: int


def make_page_set(base: Path, count: int) -> PageSet:
    folder, originals_dir = base / "scans", base / "originals"
    folder.mkdir(parents=True)
    originals_dir.mkdir()
    in_pdf = count // 2
    pdf_pages: list[bytes] = []
    originals = []
    for n in range(count):
        page = render_page(seed=n)
        data = jpeg(page)
        original = originals_dir / f"p{n:03d}.png"
        if n < in_pdf:
            pdf_pages.append(data)
            Image.open(io.BytesIO(data)).save(original, dpi=(DPI, DPI))  # the pixels in the PDF
        else:
            kind = ("png", "jpg", "tif")[n % 3]
            target = folder / f"第{n:03d}页.{kind}"
            if kind == "jpg":
                target.write_bytes(data)
                Image.open(io.BytesIO(data)).save(original, dpi=(DPI, DPI))
            else:
                page.save(target, dpi=(DPI, DPI),
                          **({"compression": "tiff_deflate"} if kind == "tif" else {}))
                page.save(original, dpi=(DPI, DPI))
        originals.append(original)
    volume = folder / "县志稿 卷一.pdf"
    write_scanned_pdf(volume, pdf_pages, A5)
    return PageSet(folder, volume, originals, in_pdf)


# -- measuring ---------------------------------------------------------------------------------

def per_minute(pages: int, seconds: float) -> float:
    return pages / seconds * 60 if seconds > 0 else 0.0


@dataclass(frozen=True)
class Run:
    """One measured configuration: wall-clock seconds and the CPU seconds of every process in it.

    On a machine shared with other work, wall-clock rates swing with the load; CPU seconds per
    page do not, so the ratios are given both ways."""

    wall: float
    cpu: float

    @staticmethod
    def total(runs: Sequence["Run"]) -> "Run":
        return Run(sum(r.wall for r in runs), sum(r.cpu for r in runs))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def raw_tesseract(images: Sequence[Path], jobs: int, lang: str = LANG) -> Run:
    """Seconds for plain `tesseract IMAGE OUT -l LANG --psm 3 --dpi 300`, `jobs` at a time."""
    out = Path(tempfile.mkdtemp(prefix="raw-tess-"))

    def one(image: Path) -> None:
        subprocess.run(["tesseract", str(image), str(out / image.stem), "-l", lang, "--psm", "3",
                        "--dpi", str(DPI)], check=True, capture_output=True)

    started, cpu = time.monotonic(), _children_cpu()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, images))
    run = Run(time.monotonic() - started, _children_cpu() - cpu)
    shutil.rmtree(out, ignore_errors=True)
    return run


@dataclass(frozen=True)
class TesseractCall:
    image: str  # a copy of the file Wenshi passed to Tesseract
    extension: str
    lang: str
    config: str
    timeout: int


_CAPTURE_DIR = ""


def _install_capture(folder: str) -> None:
    """In a capture worker: copy every Tesseract input and record its arguments, then run it."""
    import pytesseract

    global _CAPTURE_DIR
    _CAPTURE_DIR = folder
    real = pytesseract.pytesseract.run_tesseract

    def capturing(input_filename: str, output_filename_base: str, extension: str, lang: str,
                  config: str = "", nice: int = 0, timeout: int = 0) -> Any:
        copy = Path(_CAPTURE_DIR) / f"{uuid.uuid4().hex}{Path(input_filename).suffix}"
        shutil.copy(input_filename, copy)
        call = TesseractCall(str(copy), extension, lang, config, timeout)
        with open(Path(_CAPTURE_DIR) / "calls.jsonl", "a", encoding="utf-8") as log:
            log.write(json.dumps(call.__dict__) + "\n")
        return real(input_filename, output_filename_base, extension, lang, config, nice, timeout)

    pytesseract.pytesseract.run_tesseract = capturing


class _NullSink:
    """Takes the pages of a capture run and keeps nothing: the ingest's scheduling without a
    library."""

    def document_state(self, doc_id: str) -> None:
        return None

    def begin_document(self, plan: Any, collection: str, metadata: dict[str, str]) -> None:
        pass

    def store_page(self, doc_id: str, page: Any) -> None:
        if page.error:
            print(f"  warning: page {page.number} failed while capturing: {page.error}")

    def finish_document(self, doc_id: str) -> tuple[int, int]:
        return 0, 0

    def discard_document(self, doc_id: str) -> None:
        pass

    def record_failure(self, path: str, error: str, doc_id: str) -> None:
        print(f"  warning: {path} failed while capturing: {error}")


def capture_tesseract_calls(page_set: PageSet, jobs: int, folder: Path) -> list[TesseractCall]:
    """Run Wenshi's ingest scheduling and page processing on every page (`ingest_paths`, so the
    per-document `--lang auto` decision works as in (c)) and record each Tesseract run."""
    from pipeline.config import Config
    from pipeline.run.ingest import ingest_paths

    folder.mkdir()
    cfg = Config(jobs=jobs)
    with ProcessPoolExecutor(jobs, initializer=_install_capture, initargs=(str(folder),)) as pool:
        ingest_paths([page_set.folder], "基准", cfg, _NullSink(), executor=pool)
    lines = (folder / "calls.jsonl").read_text(encoding="utf-8").splitlines()
    return [TesseractCall(**json.loads(line)) for line in lines]


def replay(calls: Sequence[TesseractCall], jobs: int) -> Run:
    """Seconds for the captured Tesseract runs, with their own arguments, `jobs` at a time."""
    import pytesseract

    out = Path(tempfile.mkdtemp(prefix="replay-"))

    def one(call: TesseractCall) -> None:
        pytesseract.pytesseract.run_tesseract(call.image, str(out / Path(call.image).stem),
                                              call.extension, call.lang, call.config, 0, 0)

    started, cpu = time.monotonic(), _children_cpu()
    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(one, calls))
    run = Run(time.monotonic() - started, _children_cpu() - cpu)
    shutil.rmtree(out, ignore_errors=True)
    return run


class TreeMemory:
    """Samples the summed RSS and PSS of a process and all its descendants from /proc."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = pss = 0
            for pid in self._tree():
                rss += _status_kb(pid, "VmRSS:")
                pss += _rollup_kb(pid, "Pss:")
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def _tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
        tree, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += children.get(pid, [])
        return tree


class TreeCpu:
    """CPU seconds of an ingest's whole process tree, sampled from /proc four times a second.

    Python processes count their own time; a worker also counts the Tesseract runs it waited for
    (its children's time), which is exact however short each run was. The writer's own CPU is
    kept apart: it is the time the workers could not have on a machine with N cores."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        self.pid, self.interval = pid, interval
        self.own: dict[int, float] = {}
        self.reaped: dict[int, float] = {}
        self.parents: set[int] = set()  # pids with a child that is not Tesseract
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> "TreeCpu":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        """All CPU seconds seen: every Python process, and the Tesseract runs of the workers."""
        return sum(self.own.values()) + sum(t for pid, t in self.reaped.items()
                                            if pid not in self.parents)

    @property
    def writer(self) -> float:
        """CPU seconds of the ingest's main process (the writer)."""
        return self.own.get(self.pid, 0.0)

    @property
    def tesseract(self) -> float:
        """CPU seconds of the Tesseract runs the workers waited for."""
        return sum(t for pid, t in self.reaped.items() if pid not in self.parents)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid, ppid, name, own, reaped in _process_tree(self.pid, self._tick):
                if name == "tesseract":
                    continue
                self.own[pid], self.reaped[pid] = own, reaped
                if ppid in self.own and ppid != pid:
                    self.parents.add(ppid)
            self._stop.wait(self.interval)


def _process_tree(root: int, tick: int) -> list[tuple[int, int, str, float, float]]:
    """(pid, ppid, name, own CPU s, waited-for children's CPU s) of root and its descendants."""
    table: dict[int, tuple[int, str, float, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / tick
        reaped = (int(fields[13]) + int(fields[14])) / tick
        table[int(entry)] = (int(fields[1]), name, own, reaped)
    tree, todo = [], [root]
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_rest) in table.items():
        children.setdefault(ppid, []).append(pid)
    while todo:
        pid = todo.pop()
        if pid in table:
            ppid, name, own, reaped = table[pid]
            tree.append((pid, ppid, name, own, reaped))
        todo += children.get(pid, [])
    return tree


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _rollup_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def wenshi_ingest(paths: Sequence[Path], library: Path, jobs: int, *extra: str,
                  watch: Callable[[int], Any] | None = None) -> tuple[float, dict[str, Any], Any]:
    """Run `wenshi ingest` in a fresh process; returns (wall seconds, its JSON, the watcher)."""
    command = [sys.executable, str(ROOT / "cli.py"), "--library", str(library), "ingest",
               *map(str, paths), "-c", "基准", "--jobs", str(jobs), "--json", "--no-progress",
               *extra]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WENSHI_")}
    env.pop("OMP_THREAD_LIMIT", None)  # Wenshi must set it for its own workers
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    watcher = watch(proc.pid) if watch else None
    if watcher:
        with watcher:
            out, err = proc.communicate()
    else:
        out, err = proc.communicate()
    elapsed = time.monotonic() - started
    if proc.returncode not in (0, 1) or not out.strip():
        raise SystemExit(f"wenshi ingest failed ({proc.returncode}):\n{err}")
    report = json.loads(out)
    if report["failed"] or report["failed_pages"]:
        print(f"  warning: failures in the ingest: {report['failed'][:2]} "
              f"{report['failed_pages'][:2]}")
    return elapsed, report, watcher


def ocrmypdf_run(command: str, pdf: Path, jobs: int, out: Path) -> Run:
    started, cpu = time.monotonic(), _children_cpu()
    result = subprocess.run([command, "--jobs", str(jobs), "-l", LANG, "--output-type", "pdf",
                             "--sidecar", str(out / "sidecar.txt"), str(pdf),
                             str(out / "ocrmypdf.pdf")],
                            capture_output=True, text=True)
    run = Run(time.monotonic() - started, _children_cpu() - cpu)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip()
                           else "failed")
    return run


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} cores"


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--pages", type=int, default=40, help="pages in the throughput set (>= 40)")
    parser.add_argument("--memory-pages", type=int, default=500,
                        help="pages of the memory volume (0: skip)")
    parser.add_argument("--ocrmypdf", default=shutil.which("ocrmypdf") or "",
                        help="the ocrmypdf command")
    parser.add_argument("--rounds", type=int, default=2,
                        help="times (b) and (c) are measured, alternately (default 2)")
    parser.add_argument("--no-cluster", action="store_true", help="skip the Dask LocalCluster run")
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated files here")
    parser.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # allow tiny runs
    args = parser.parse_args(argv)
    if args.pages < 40 and not args.smoke:
        parser.error("--pages must be at least 40")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    jobs = args.jobs
    base = Path(args.keep or tempfile.mkdtemp(prefix="wenshi-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    try:
        return _run(args, jobs, base)
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


def _run(args: argparse.Namespace, jobs: int, base: Path) -> int:
    from pipeline.page.engines import tesseract

    # As installed (`make install` compiles them): without bytecode each `wenshi` process would
    # compile Wenshi's modules itself, ~0.2 CPU s in the writer and again in the forkserver, when
    # PYTHONDONTWRITEBYTECODE is set or the tree is read-only.
    compileall.compile_file(str(ROOT / "cli.py"), quiet=1)
    for package in ("pipeline", "index"):
        compileall.compile_dir(str(ROOT / package), quiet=1)

    print(f"Wenshi ingest throughput, N = {jobs} jobs, Tesseract {tesseract.tesseract_version()}, "
          f"{load()}")
    page_set = make_page_set(base / "set", args.pages)
    pages = args.pages
    print(f"page set: {pages} A5 pages at {DPI} dpi, {LINES} lines each: {page_set.pdf_pages} "
          f"in one scanned PDF, {pages - page_set.pdf_pages} single PNG/JPEG/TIFF files")
    rows: list[tuple[str, int, Run | None, str]] = []

    a = raw_tesseract(page_set.originals, jobs)
    rows.append(("(a) raw tesseract, original images", pages, a, load()))
    calls = capture_tesseract_calls(page_set, jobs, base / "captured")
    # (b) and (c) alternate, `--rounds` times: Tesseract's own speed drifted by 5-10 % between
    # runs minutes apart on these machines, as much as the overhead c/b measures.
    b_runs, c_runs, trees, inner_seconds = [], [], [], []
    for n in range(1, args.rounds + 1):
        label = f", round {n}" if args.rounds > 1 else ""
        b_runs.append(replay(calls, jobs))
        rows.append((f"(b) raw tesseract, Wenshi's images ({len(calls)} runs){label}", pages,
                     b_runs[-1], load()))
        wall, report, tree = wenshi_ingest([page_set.folder], base / f"lib-c{n}", jobs,
                                           watch=TreeCpu)
        assert report["pages"] == pages, report
        c_runs.append(Run(wall, tree.seconds))
        trees.append(tree)
        inner_seconds.append(report["elapsed"])
        rows.append((f"(c) wenshi ingest --jobs {jobs}{label}", pages, c_runs[-1], load()))
    b, c = Run.total(b_runs), Run.total(c_runs)
    if args.rounds > 1:
        rows.append((f"(b) all {args.rounds} rounds", pages * args.rounds, b, ""))
        rows.append((f"(c) all {args.rounds} rounds", pages * args.rounds, c, ""))
    writer_cpu = sum(t.writer for t in trees)
    tesseract_cpu = sum(t.tesseract for t in trees)
    inner = per_minute(pages * args.rounds, sum(inner_seconds))

    if not args.no_cluster:
        cluster_wall = _cluster_run(page_set, base, jobs)
        if cluster_wall is not None:
            rows.append((f"    wenshi ingest --scheduler (LocalCluster, {jobs} workers)", pages,
                         Run(cluster_wall, 0.0), load()))

    wall, _, tree = wenshi_ingest([page_set.volume], base / "lib-pdf", jobs, watch=TreeCpu)
    pdf_wenshi = Run(wall, tree.seconds)
    rows.append((f"    wenshi ingest --jobs {jobs}, the PDF alone", page_set.pdf_pages, pdf_wenshi,
                 load()))
    pdf_ocrmypdf = None
    if args.ocrmypdf:
        try:
            out = base / "ocrmypdf"
            out.mkdir()
            pdf_ocrmypdf = ocrmypdf_run(args.ocrmypdf, page_set.volume, jobs, out)
            rows.append((f"    ocrmypdf --jobs {jobs} --sidecar, the same PDF", page_set.pdf_pages,
                         pdf_ocrmypdf, load()))
        except (OSError, RuntimeError) as exc:
            print(f"ocrmypdf failed: {exc}")

    print()
    print(f"{'':58} {'pages/min':>9} {'CPU s/page':>10}")
    for name, count, run, when in rows:
        cpu = f"{run.cpu / count:>10.2f}" if run and run.cpu else f"{'-':>10}"
        print(f"{name:58} {per_minute(count, run.wall if run else 0):>9.1f} {cpu}"
              + (f"   ({when})" if when else ""))
    print(f"{'    (c) inside the ingest, without process start-up':58} {inner:>9.1f}")
    print(f"    (c) CPU: {c.cpu:.1f} s in all = Tesseract {tesseract_cpu:.1f} s + worker Python "
          f"{c.cpu - tesseract_cpu - writer_cpu:.1f} s (decode, clean-up, ALTO) + writer "
          f"{writer_cpu:.1f} s (start-up, planning, catalog, tags, index)")
    print()
    print("ratios, by wall clock (swings with the machine's load) and by CPU seconds per page:")
    if args.rounds > 1:
        print("  c/b round by round: " + ", ".join(
            f"{rb.wall / rc.wall:.2f} wall / {rb.cpu / rc.cpu:.2f} CPU"
            for rb, rc in zip(b_runs, c_runs) if rc.cpu))
    _ratio("c/b", "pipeline overhead" + (", all rounds" if args.rounds > 1 else ""), b, c, 0.9)
    # Tesseract's own CPU a page moved by 5-10 % between (b) and (c) of one quiet run, both ways;
    # its share of (c)'s CPU compares the overhead with the Tesseract runs of the same ingest.
    if c.cpu:
        print(f"  Tesseract's share of (c)'s CPU = {tesseract_cpu / c.cpu:.2f}: c/b with Tesseract "
              "costing the same in both (steadier than c/b across runs)")
    per_round = Run(c.wall / args.rounds, c.cpu / args.rounds)
    _ratio("c/a", "what the clean-up costs end to end", a, per_round, 0.7)
    if pdf_ocrmypdf is not None:
        wall_x, cpu_x = pdf_ocrmypdf.wall / pdf_wenshi.wall, pdf_ocrmypdf.cpu / pdf_wenshi.cpu
        print(f"  Wenshi vs OCRmyPDF on the same PDF: {wall_x:.2f}x by wall clock, "
              f"{cpu_x:.2f}x by CPU ({verdict(min(wall_x, cpu_x) > 1.0)}: Wenshi faster)")
    else:
        print("  OCRmyPDF: not run (pass --ocrmypdf PATH)")

    if args.memory_pages:
        _memory_run(base, jobs, args.memory_pages)
    return 0


def _ratio(name: str, meaning: str, base: Run, wenshi: Run, target: float) -> None:
    by_wall = base.wall / wenshi.wall
    by_cpu = base.cpu / wenshi.cpu if wenshi.cpu else 0.0
    print(f"  {name} = {by_wall:.2f} by wall clock, {by_cpu:.2f} by CPU: {meaning} "
          f"(target >= {target:.2f}: wall {verdict(by_wall >= target)}, "
          f"CPU {verdict(by_cpu >= target)})")


def _cluster_run(page_set: PageSet, base: Path, jobs: int) -> float | None:
    try:
        from distributed import LocalCluster
    except ImportError:
        print("Dask: not installed (pip install 'dask[distributed]')")
        return None
    with LocalCluster(n_workers=jobs, threads_per_worker=1,  # type: ignore[no-untyped-call]
                      processes=True, host="127.0.0.1", dashboard_address=None,
                      silence_logs=40) as cluster:
        seconds, report, _ = wenshi_ingest([page_set.folder], base / "lib-dask", jobs,
                                           "--scheduler", cluster.scheduler_address)
    assert report["pages"] == len(page_set.originals), report
    return seconds


def _memory_run(base: Path, jobs: int, count: int) -> None:
    volume = base / "memory" / f"{count}页 卷宗.pdf"
    volume.parent.mkdir()
    # Full-size A4 scans (what memory depends on); a few lines on clean paper keep Tesseract quick
    # (paper grain makes Tesseract's layout analysis of a whole A4 page several times slower).
    pages = [jpeg(render_page(seed=1000 + n % 25, size=A4, lines=3, noise=0.0)) for n in range(25)]
    write_scanned_pdf(volume, [pages[n % 25] for n in range(count)], A4)
    print(f"\nmemory: {count}-page scanned PDF ({volume.stat().st_size / 2**20:.0f} MB, "
          f"A4 at {DPI} dpi), wenshi ingest --jobs {jobs}, {load()}")
    seconds, report, watcher = wenshi_ingest([volume], base / "lib-memory", jobs, watch=TreeMemory)
    assert report["pages"] == count, report
    peak = watcher.peak_rss / 1024
    print(f"peak memory of the process tree: RSS sum {peak:.0f} MB, "
          f"PSS sum {watcher.peak_pss / 1024:.0f} MB (target <= 1024 MB: {verdict(peak <= 1024)}); "
          f"{per_minute(count, seconds):.1f} pages/min, {seconds:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
