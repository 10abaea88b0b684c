"""Memory of a big text ingest: peak resident memory of all of `wenshi ingest`'s processes.

    .venv/bin/python benchmarks/ingest_memory.py --fractions 0.1,0.2 --work /tmp/mem   # quick
    .venv/bin/python benchmarks/ingest_memory.py --fractions 0.5,1 --work DIR        # issue 18

Builds the 1亿-character set with `../shared/corpus/make_1yi.py` (98 M characters, 16,870
.txt files) under `--work`, takes a fraction of its files (every file whose running share
crosses a whole number: 0.5 is every other file, in the set's sorted order) as hard links in a
folder of their own, and runs

    wenshi --library LIB ingest SUBSET --collection 法规 --jobs N --json

into a fresh library for each fraction. While it runs, every `--interval` seconds, the resident
set (VmRSS) of the command and of every process under it (the forkserver, the page workers and
the index workers are all its descendants) is summed; PSS (which splits pages shared between
processes) is summed from smaps_rollup every few samples. Printed per run: characters, wall
seconds, characters/s, the peak of the sum, the writer's own peak (VmHWM), the sum at each
quarter of the run, the load average before and after; and across runs the ratio of the peaks
(which must not grow with the batch) and of the throughputs. `--ocr-pages N` runs the same
measurement on a scanned volume made by repeating the ingest benchmark's pages (see
ingest_throughput.py) instead of the text set.

Libraries go under `--work` and are deleted after each run unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
MAKE_SET = SHARED / "corpus" / "make_1yi.py"
TARGET_MB = 2048.0
TARGET_CHARS_S = 100_000


def _children() -> dict[int, list[int]]:
    """Parent pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants."""
    tree = _children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, ()))
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


@dataclass
class Sampler:
    """Samples the memory of a process tree in a thread until stopped."""

    root: int
    interval: float = 0.5
    # (seconds since start, RSS sum MB, writer RSS MB, processes)
    samples: list[tuple[float, float, float, int]] = field(default_factory=list)
    peak_pss_mb: float = 0.0
    writer_hwm_mb: float = 0.0
    peak_procs: int = 0
    cpu: dict[int, float] = field(default_factory=dict)  # last CPU seconds seen of each process

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._start = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            pids = process_tree(self.root)
            for p in pids:
                self.cpu[p] = max(self.cpu.get(p, 0.0), _cpu_s(p))
            rss = sum(_status_kb(p, "VmRSS") for p in pids) / 1024
            writer = _status_kb(self.root, "VmRSS") / 1024
            hwm = _status_kb(self.root, "VmHWM") / 1024
            if hwm:
                self.writer_hwm_mb = max(self.writer_hwm_mb, hwm)
            if n % 4 == 0:
                self.peak_pss_mb = max(self.peak_pss_mb, sum(_pss_kb(p) for p in pids) / 1024)
            self.samples.append((time.monotonic() - self._start, rss, writer, len(pids)))
            self.peak_procs = max(self.peak_procs, len(pids))
            n += 1
            self._stop.wait(self.interval)

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        """Highest sum of RSS over the tree."""
        return max((s[1] for s in self.samples), default=0.0)

    @property
    def cpu_s(self) -> float:
        """CPU seconds of every process of the tree (as last sampled)."""
        return sum(self.cpu.values())

    @property
    def peak_at(self) -> float:
        """Share of the run's duration at which the RSS sum peaked."""
        if not self.samples:
            return 0.0
        best = max(self.samples, key=lambda s: s[1])
        return best[0] / max(self.samples[-1][0], 1e-9)

    def at(self, share: float) -> float:
        """The RSS sum at a share of the run's duration (the sample nearest before it)."""
        if not self.samples:
            return 0.0
        end = self.samples[-1][0]
        before = [s for s in self.samples if s[0] <= share * end]
        return (before[-1] if before else self.samples[0])[1]


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def make_set(work: Path) -> Path:
    """The 1亿 text set under `work` (made once)."""
    target = work / "set1yi"
    if not (target / ".complete").exists():
        shutil.rmtree(target, ignore_errors=True)
        subprocess.run([sys.executable, str(MAKE_SET), str(target)], check=True)
        (target / ".complete").write_text("")
    return target


def subset(full: Path, fraction: float, work: Path) -> Path:
    """A folder of hard links to `fraction` of the set's files, spread evenly over it."""
    if fraction >= 1:
        return full
    target = work / f"subset-{fraction:g}"
    shutil.rmtree(target, ignore_errors=True)
    files = sorted(p for p in full.rglob("*.txt"))
    for i, path in enumerate(files):
        if int((i + 1) * fraction) > int(i * fraction):
            link = target / path.relative_to(full)
            link.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, link)
    return target


def make_scanned_pdf(path: Path, count: int) -> None:
    """The ingest benchmark's memory volume: 25 A4 pages at 300 dpi, repeated to `count`."""
    from ingest_throughput import A4, jpeg, render_page, write_scanned_pdf

    pages = [jpeg(render_page(seed=1000 + n % 25, size=A4, lines=3, noise=0.0)) for n in range(25)]
    write_scanned_pdf(path, [pages[n % 25] for n in range(count)], A4)


def wenshi() -> list[str]:
    """The command that runs Wenshi (the installed entry point beside this interpreter)."""
    exe = Path(sys.executable).with_name("wenshi")
    return [str(exe)] if exe.exists() else [sys.executable, str(ROOT / "cli.py")]


@dataclass
class Run:
    """What one measured ingest printed and used."""

    label: str
    chars: int
    pages: int
    wall: float
    peak_mb: float
    pss_mb: float
    writer_mb: float
    peak_at: float
    cpu_s: float
    quarters: list[float]
    load_before: str
    load_after: str
    summary: dict[str, object]

    @property
    def rate(self) -> float:
        """Characters per wall second."""
        return self.chars / self.wall if self.wall else 0.0


def measure(label: str, inputs: list[Path], library: Path, jobs: int, interval: float,
            extra_env: dict[str, str], collection: str = "法规") -> Run:
    """Run one ingest into a fresh library, sampling its process tree."""
    shutil.rmtree(library, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra_env)
    before = load()
    started = time.monotonic()
    proc = subprocess.Popen([*wenshi(), "--library", str(library), "ingest",
                             *map(str, inputs), "--collection", collection, "--jobs", str(jobs),
                             "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT, env=env)
    sampler = Sampler(proc.pid, interval)
    out, err = proc.communicate()
    wall = time.monotonic() - started
    sampler.stop()
    if proc.returncode not in (0, 1):  # 1: some inputs failed (the set's empty files)
        sys.stderr.write(err.decode(errors="replace")[-3000:])
        raise SystemExit(f"{label}: wenshi ingest exited {proc.returncode}")
    summary = json.loads(out)
    return Run(label, int(summary["characters"]), int(summary["pages"]), wall, sampler.peak_mb,
               sampler.peak_pss_mb, sampler.writer_hwm_mb, sampler.peak_at, sampler.cpu_s,
               [sampler.at(q) for q in (0.25, 0.5, 0.75, 1.0)], before, load(), summary)


def report(run: Run) -> None:
    """Print one run's figures."""
    q = ", ".join(f"{v:,.0f}" for v in run.quarters)
    writer_peak = run.summary.get("writer_peak_rss_mb")
    print(f"{run.label}: {run.chars:,} characters, {run.pages:,} pages in {run.wall:.1f} s = "
          f"{run.rate:,.0f} chars/s (target >= {TARGET_CHARS_S:,}) "
          f"{'OK' if run.rate >= TARGET_CHARS_S else 'MISSED'}  (load {run.load_before} -> "
          f"{run.load_after} on {os.cpu_count()} cores)")
    print(f"  peak memory of the process tree: RSS sum {run.peak_mb:,.0f} MB "
          f"(target <= {TARGET_MB:,.0f}) {'OK' if run.peak_mb <= TARGET_MB else 'MISSED'}, "
          f"PSS sum {run.pss_mb:,.0f} MB; writer process peak (VmHWM) {run.writer_mb:,.0f} MB"
          + (f", as the summary reports it {writer_peak} MB" if writer_peak is not None else ""))
    print(f"  RSS sum at 1/4, 1/2, 3/4 of the run and at the end: {q} MB; it peaked at "
          f"{run.peak_at:.0%} of the run")
    print(f"  CPU time of the ingest's processes (user + system, sampled): {run.cpu_s:,.0f} s"
          f" = {run.chars / max(run.cpu_s, 1e-9):,.0f} characters per CPU second")


def indexed_chars(library: Path) -> int:
    """Characters of the documents the library has indexed so far."""
    return _count(library, "SELECT COALESCE(SUM(char_count), 0) FROM documents WHERE indexed = 1")


def stored_pages(library: Path) -> int:
    """Pages the library has stored so far (a scanned volume is indexed only when finished)."""
    return _count(library, "SELECT COUNT(*) FROM pages")


def _count(library: Path, sql: str) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{library / 'catalog.sqlite'}?mode=ro", uri=True,
                             timeout=30) as db:
            return int(db.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return -1


def watch(pid: int, library: Path, interval: float) -> None:
    """Sample a running ingest until it ends; a line a minute, flushed (for runs that may not
    finish: the figures so far)."""
    sampler = Sampler(pid, interval)
    last = 0.0
    while Path(f"/proc/{pid}").exists():
        time.sleep(1)
        if time.monotonic() - last >= 60:
            last = time.monotonic()
            now = sampler.samples[-1] if sampler.samples else (0.0, 0.0, 0.0, 0)
            chars = indexed_chars(library)
            print(f"{now[0]:7.0f} s  {stored_pages(library):>7,} pages stored, "
                  f"indexed {chars:>12,} chars ({chars / max(1, now[0]):,.0f}/s)"
                  f"  RSS sum {now[1]:6,.0f} MB (peak {sampler.peak_mb:6,.0f}, PSS peak "
                  f"{sampler.peak_pss_mb:6,.0f})  writer {now[2]:6,.0f} MB (peak "
                  f"{sampler.writer_hwm_mb:6,.0f})  {now[3]} processes  load {load()}",
                  flush=True)
    sampler.stop()
    print(f"ended: peak RSS sum {sampler.peak_mb:,.0f} MB, PSS {sampler.peak_pss_mb:,.0f} MB, "
          f"writer {sampler.writer_hwm_mb:,.0f} MB", flush=True)


def main() -> None:
    """Measure, print."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path,
                        help="folder for the text set, subsets and libraries")
    parser.add_argument("--fractions", default="0.5,1",
                        help="comma-separated shares of the 1亿 set to ingest, one run each")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples")
    parser.add_argument("--ocr-pages", type=int, default=0,
                        help="instead: a scanned PDF of N pages (the ingest benchmark's pages)")
    parser.add_argument("--keep", action="store_true", help="keep the libraries")
    parser.add_argument("--env", action="append", default=[],
                        help="NAME=VALUE for the ingest's environment (e.g. WENSHI_WRITER_MEMORY)")
    parser.add_argument("--watch", type=int, default=0, metavar="PID",
                        help="instead: sample a running ingest's process tree, printing a line "
                             "a minute with the characters its --library has indexed so far")
    parser.add_argument("--library", type=Path, help="with --watch: the ingest's library")
    args = parser.parse_args()
    if args.watch:
        watch(args.watch, args.library, args.interval)
        return
    if args.work is None:
        parser.error("--work is required")
    args.work.mkdir(parents=True, exist_ok=True)
    extra_env = dict(e.split("=", 1) for e in args.env)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "index"),
                    str(ROOT / "pipeline"), str(ROOT / "cli.py")], check=False, env={
                        k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"})
    runs: list[Run] = []
    if args.ocr_pages:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        pdf = args.work / f"scanned-{args.ocr_pages}.pdf"
        if not pdf.exists():
            make_scanned_pdf(pdf, args.ocr_pages)
        run = measure(f"scanned PDF, {args.ocr_pages} pages", [pdf], args.work / "lib-ocr",
                      args.jobs, args.interval, extra_env, collection="县志")
        report(run)
        print(f"  {run.pages / run.wall * 60:.1f} pages/min")
        runs.append(run)
    else:
        full = make_set(args.work)
        for fraction in (float(f) for f in args.fractions.split(",")):
            inputs = subset(full, fraction, args.work)
            library = args.work / f"lib-{fraction:g}"
            run = measure(f"{fraction:g} of the 1亿 set", [inputs], library, args.jobs,
                          args.interval, extra_env)
            report(run)
            runs.append(run)
            if not args.keep:
                shutil.rmtree(library, ignore_errors=True)
            if inputs != full:
                shutil.rmtree(inputs, ignore_errors=True)
    if len(runs) > 1:
        base = runs[0]
        for run in runs[1:]:
            print(f"{run.label} / {base.label}: characters {run.chars / base.chars:.2f}x, "
                  f"peak RSS sum {run.peak_mb / base.peak_mb:.2f}x, writer peak "
                  f"{run.writer_mb / base.writer_mb:.2f}x, throughput {run.rate / base.rate:.2f}x")


if __name__ == "__main__":
    main()
