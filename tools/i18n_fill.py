"""Merge translations given as TSV lines (msgid<TAB>translation) into the Chinese catalogue.

Usage: python tools/i18n_fill.py FILE.tsv [...]   (then `make i18n-compile`)
Escapes \\n and \\t in a TSV cell stand for a newline and a tab."""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parents[1] / "salon" / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"


def _cell(text: str) -> str:
    return text.replace("\\n", "\n").replace("\\t", "\t")


def main(paths: list[str]) -> int:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="zh_Hans")
    given = {}
    for path in paths:
        for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            if "\t" not in line:
                print(f"{path}:{number}: no tab", file=sys.stderr)
                return 1
            msgid, text = line.split("\t", 1)
            given[_cell(msgid)] = _cell(text)
    filled = unknown = 0
    for msgid, text in given.items():
        message = catalog.get(msgid)
        if message is None:
            unknown += 1
            print(f"not in the catalogue (run `make i18n` first?): {msgid!r}", file=sys.stderr)
            continue
        message.string = text
        message.flags.discard("fuzzy")
        filled += 1
    with PO.open("wb") as fh:
        write_po(fh, catalog, width=0, sort_output=True, include_previous=False)
    missing = [m.id for m in catalog if m.id and not m.string]
    print(f"filled {filled}, unknown {unknown}, still untranslated {len(missing)}")
    for msgid in missing:
        print("  untranslated:", repr(msgid))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
