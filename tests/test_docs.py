"""The documentation against the code: every CLI command and option documented, every link whole.

As sqlite-utils' test_docs.py does: the click command tree of `cli.py` is walked, and each
command must have its section (`## catalog export`) in docs/commands.md, naming every long
option the command takes. A new command or option without its documentation fails here, and a
section for a command that no longer exists does too. Relative links (and their #anchors) in
README.md and docs/ must resolve.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import click
import pytest

import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
COMMANDS_MD = DOCS / "commands.md"
README_LIMIT = 10_000  # bytes: the README is a front door; the reference lives in docs/

_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
_HEADING = re.compile(r"^(#{1,6}) +(.+?) *$", re.MULTILINE)


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from _commands(command, path + (name,))
        else:
            yield path + (name,), command


def _long_options(command: click.Command) -> list[str]:
    names: list[str] = []
    for param in command.params:
        if isinstance(param, click.Option):
            names += [o for o in param.opts + param.secondary_opts if o.startswith("--")]
    return [n for n in names if n != "--help"]


def _sections(text: str) -> dict[str, str]:
    """`## heading` -> the text up to the next `## ` heading (code blocks included)."""
    sections: dict[str, str] = {}
    parts = re.split(r"^## +(.+?) *$", text, flags=re.MULTILINE)
    for heading, body in zip(parts[1::2], parts[2::2]):
        sections[heading.strip()] = body
    return sections


def missing_documentation(main: click.Group, commands_md: str) -> list[str]:
    """What the command tree has that commands.md does not say, and sections of no command."""
    sections = _sections(commands_md)
    problems: list[str] = []
    wanted: dict[str, click.Command] = {"wenshi": main}
    wanted.update({" ".join(path): command for path, command in _commands(main)})
    for name, command in wanted.items():
        section = sections.get(name)
        if section is None:
            problems.append(f"command {name!r}: no '## {name}' section in docs/commands.md")
            continue
        for option in _long_options(command):
            if not re.search(re.escape(option) + r"(?![\w-])", section):
                problems.append(f"command {name!r}: option {option} not in its section")
    for heading in sections:
        if heading not in wanted:
            problems.append(f"docs/commands.md: section '## {heading}' names no command")
    return problems


def test_every_command_and_option_is_documented() -> None:
    assert missing_documentation(cli.main, COMMANDS_MD.read_text(encoding="utf-8")) == []


def test_an_undocumented_option_is_found() -> None:
    """The check can fail: a command given an option the docs do not name is reported."""
    @click.group()
    def main() -> None:
        pass

    @main.command("ingest")
    @click.option("--collection")
    @click.option("--brand-new-option", is_flag=True)
    def ingest(collection: str, brand_new_option: bool) -> None:
        pass

    @main.command("unlisted")
    def unlisted() -> None:
        pass

    doc = "# Commands\n\n## wenshi\n\n## ingest\n\n`--collection NAME`, `--brand-new`\n\n## gone\n"
    assert missing_documentation(main, doc) == [
        "command 'ingest': option --brand-new-option not in its section",
        "command 'unlisted': no '## unlisted' section in docs/commands.md",
        "docs/commands.md: section '## gone' names no command",
    ]


def test_readme_is_a_front_door() -> None:
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes; move reference text to docs/"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in ("make demo", "make test"):
        assert command in readme


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {_slug(m.group(2)) for m in _HEADING.finditer(text)}


def _markdown_files() -> list[Path]:
    return [ROOT / "README.md"] + sorted(DOCS.rglob("*.md"))


@pytest.mark.parametrize("page", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    broken: list[str] = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        resolved = (page.parent / file_part).resolve() if file_part else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
            broken.append(f"{target}: no heading with that anchor")
    assert broken == []


def test_docs_index_lists_every_page() -> None:
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    pages = [p.name for p in DOCS.glob("*.md") if p.name != "README.md"]
    assert pages, "docs/ holds no pages"
    assert [p for p in pages if f"]({p})" not in index] == []
