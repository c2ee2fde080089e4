"""Every user-facing string has a Chinese translation, and the compiled catalogue matches the source."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "salon/translations/zh_Hans/LC_MESSAGES/messages.po"
MO = PO.with_suffix(".mo")
METHODS = [("salon/**.py", "python"), ("salon/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS, options_map={"salon/templates/**.html": {}}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue():
    with PO.open("rb") as fh:
        return read_po(fh, locale="zh_Hans")


def test_every_string_in_the_code_has_a_chinese_translation():
    catalogue = _catalogue()
    missing = sorted(m for m in _source_messages()
                     if catalogue.get(m) is None or not catalogue.get(m).string
                     or "fuzzy" in catalogue.get(m).flags)
    assert not missing, ("strings without a Chinese translation (run `make i18n`, translate, "
                         f"`make i18n-compile`): {missing}")


def test_compiled_catalogue_is_not_stale():
    source = {m.id: m.string for m in _catalogue() if m.id and m.string and "fuzzy" not in m.flags}
    with MO.open("rb") as fh:
        compiled = {m.id: m.string for m in read_mo(fh) if m.id}
    assert compiled == source, "messages.mo differs from messages.po: run `make i18n-compile`"


def test_placeholders_survive_translation():
    import re

    pattern = re.compile(r"%\(\w+\)[sd]")
    wrong = [m.id for m in _catalogue() if m.id and m.string
             and sorted(pattern.findall(m.id)) != sorted(pattern.findall(m.string))]
    assert not wrong, f"translations that lose or invent placeholders: {wrong}"
