"""The documentation a newcomer reads first: every relative link resolves in a fresh clone, and the README stays short.

Checked: README.md, CHANGELOG.md, bench/README.md and docs/*.md. A link `[text](path#anchor)` must name a file
or folder of the checkout (relative to the page that links); an `#anchor` into a Markdown page must match one of
its headings, slugged as GitHub slugs them. Links to other sites (http, https, mailto) are not followed.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", ROOT / "CHANGELOG.md", ROOT / "bench" / "README.md",
                *(ROOT / "docs").glob("*.md")])
README_MAX_LINES = 250


LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~)")
INLINE_CODE = re.compile(r"`[^`]*`")


def _prose(text: str, keep_code: bool = False) -> list[tuple[int, str]]:
    """The lines outside fenced code blocks, numbered. Inline code is blanked out (a link inside code is not a
    link) unless keep_code: a heading's `code` is part of its slug."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line if keep_code else INLINE_CODE.sub(lambda m: " " * len(m.group()), line)))
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)     # a link in a heading keeps its text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)                          # \w keeps CJK and digits; drops § . ` ( ) : …
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in _prose(page.read_text(encoding="utf-8"), keep_code=True):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            base = slug(match.group(1))
            n = seen.get(base, 0)
            found.add(base if n == 0 else f"{base}-{n}")
            seen[base] = n + 1
    return found


def links(page: Path) -> list[tuple[int, str]]:
    return [(number, m.group(1)) for number, line in _prose(page.read_text(encoding="utf-8"))
            for m in LINK.finditer(line)]


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    problems = []
    for number, target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):           # http:, https:, mailto: …
            continue
        path_part, _, anchor = target.partition("#")
        destination = (page.parent / path_part).resolve() if path_part else page
        where = f"{page.relative_to(root)}:{number}: {target}"
        if not destination.exists():
            problems.append(f"{where}: no such file")
            continue
        if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            problems.append(f"{where}: no heading with the anchor #{anchor}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(page):
    assert page.exists(), f"{page.relative_to(ROOT)} is missing"
    assert broken_links(page) == []


def test_the_readme_is_at_most_250_lines():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail into docs/ or bench/README.md"


def test_the_check_finds_a_broken_link_and_a_missing_anchor(tmp_path):
    """The check can fail: a missing file and a missing anchor are reported; links in code are not links."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "rules.md").write_text("# Rules\n\n## §4.1 The committee through real life\n")
    (tmp_path / "docs" / "architecture.md").write_text("# Architecture\n")
    page = tmp_path / "README.md"
    page.write_text("[ok](docs/rules.md#41-the-committee-through-real-life) [web](https://example.org/x)\n"
                    "[gone](docs/gone.md) [bad anchor](docs/rules.md#41-committee)\n"
                    "`[in code](docs/nowhere.md)`\n```\n[fenced](docs/nowhere.md)\n```\n"
                    "[present, wrong anchor](docs/architecture.md#no-such-heading)\n")
    problems = broken_links(page, root=tmp_path)
    assert problems == [
        "README.md:2: docs/gone.md: no such file",
        "README.md:2: docs/rules.md#41-committee: no heading with the anchor #41-committee",
        "README.md:7: docs/architecture.md#no-such-heading: no heading with the anchor #no-such-heading",
    ]


def test_slugs_follow_github():
    assert slug("§4.1 The committee through real life") == "41-the-committee-through-real-life"
    assert slug("Pages at 1 and 10 years: `bench/pages.py`") == "pages-at-1-and-10-years-benchpagespy"
    assert slug("What still holds traces, and what a deployment should do") == \
        "what-still-holds-traces-and-what-a-deployment-should-do"
    assert slug("Salon — 社区治理主题沙龙") == "salon--社区治理主题沙龙"
