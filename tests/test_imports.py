"""The import graph, read with `ast` from the source (function-level imports count too).

Dependencies point one way: cli.py -> index -> pipeline; inside pipeline, run -> page and text,
page -> text; the shared records, config and errors at the top of pipeline import no room.
No module imports another that (directly or through others) imports it back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "index")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> dict[str, Path]:
    found = {"cli": ROOT / "cli.py"}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "data" not in path.relative_to(ROOT).parts:  # scripts beside data files
                found[_module_name(path)] = path
    return found


MODULES = _sources()


def _imported(name: str, path: Path) -> set[str]:
    """Every module `name` names in an import statement, anywhere in the file, resolved."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            for alias in node.names:
                # `from package import module` names a module; `from module import name` not.
                candidate = f"{stem}.{alias.name}"
                targets.add(candidate if candidate in MODULES else stem)
    return targets


GRAPH = {name: _imported(name, path) for name, path in MODULES.items()}


def _own(target: str) -> str | None:
    """The module of this project `target` is, or lies in; None for other libraries."""
    while target:
        if target in MODULES:
            return target
        target = target.rpartition(".")[0]
    return None


def _in(module: str, room: str) -> bool:
    return module == room or module.startswith(room + ".")


def _edges() -> list[tuple[str, str]]:
    return sorted((source, target) for source, targets in GRAPH.items() for target in targets)


def test_the_graph_is_read() -> None:
    # Guards the test itself: known edges must be seen, or every rule below passes vacuously.
    assert ("pipeline.run.ingest", "pipeline.page.process") in _edges()
    assert ("cli", "index.api") in _edges()  # a function-level import
    assert ("pipeline.page.process", "pipeline.page.engines.tesseract") in _edges()
    assert len(MODULES) > 40


def test_no_import_cycles() -> None:
    internal = {name: {own for t in targets if (own := _own(t)) and own != name}
                for name, targets in GRAPH.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(internal[name]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(internal):
        if name not in state:
            visit(name, [name])
    assert cycles == []


RULES = [
    # (importing room, imported room or library, why)
    ("pipeline", "index", "the pipeline hands documents to a sink; it never imports the library"),
    ("pipeline", "cli", "nothing imports the command line"),
    ("pipeline", "click", "the pipeline runs without the command line"),
    ("index", "cli", "nothing imports the command line"),
    ("pipeline.page", "pipeline.run", "page work runs in workers without the orchestrator"),
    ("pipeline.text", "pipeline.run", "text tools are shared with index/"),
    ("pipeline.text", "pipeline.page", "text tools know nothing of page images"),
    ("pipeline.records", "pipeline.page", "the shared records import no room"),
    ("pipeline.records", "pipeline.text", "the shared records import no room"),
    ("pipeline.records", "pipeline.run", "the shared records import no room"),
    ("pipeline.config", "pipeline.page", "the shared config imports no room"),
    ("pipeline.config", "pipeline.text", "the shared config imports no room"),
    ("pipeline.config", "pipeline.run", "the shared config imports no room"),
    ("pipeline.errors", "pipeline", "the error tree imports nothing of Wenshi"),
]


@pytest.mark.parametrize("source, forbidden, why", RULES)
def test_dependencies_point_one_way(source: str, forbidden: str, why: str) -> None:
    bad = [(s, t) for s, t in _edges() if _in(s, source) and _in(t, forbidden) and s != t]
    assert bad == [], why


def test_nothing_imports_cli() -> None:
    assert [s for s, t in _edges() if t == "cli"] == []


@pytest.mark.parametrize("library, owner", [
    ("pytesseract", "pipeline.page.engines.tesseract"),
    ("rapidocr", "pipeline.page.engines.paddle"),
    ("rapid_layout", "pipeline.page.engines.layout_model"),
    # PP-OCR's models, the layout model and the time limit they share (engines/limits.py)
    ("onnxruntime", "pipeline.page.engines"),
    ("jieba", "pipeline.text.segment"),
    ("opencc", "pipeline.text.normalize"),
    ("whoosh", "index"),
])
def test_one_wrapper_module_per_external_tool(library: str, owner: str) -> None:
    users = {s for s, t in _edges() if _in(t, library)}
    assert users and all(_in(user, owner) for user in users), users
