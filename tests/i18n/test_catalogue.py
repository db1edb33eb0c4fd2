"""Every interface string is translatable, and the Welsh catalogue translates every one of them."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
CATALOGUE = ROOT / "participate" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
# Visible text that is the same in every language: symbols, units, names of things and of languages.
SAME_IN_EVERY_LANGUAGE = {
    "✓",
    "✗",
    "?",
    "·",
    "—",
    "#",
    "%",
    ":",
    "(",
    ")",
    ",",
    "/c/",
    "UTC",
    "Pol.is",
    "CSV",
    "PDF",
    "JSON",
    "SVG",
    "XID",
    "A",
    "B",
    "C",
}
VISIBLE_ATTRIBUTES = ("aria-label", "title", "alt", "placeholder", "data-select-all")


class _Text(HTMLParser):
    """Collects the text a person would see or hear in raw template markup (outside Jinja's tags); code meant to be
    copied (a ``<textarea translate="no">``) is not interface text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "textarea") and (tag != "textarea" or ("translate", "no") in attrs):
            self._skip += 1
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value:
                self.found.append(value)

    def handle_endtag(self, tag):
        if tag in ("style", "script", "textarea"):
            self._skip = max(0, self._skip - 1)

    def handle_data(self, data):
        if not self._skip:
            self.found.append(data)


def untranslated_text(source: str) -> list[str]:
    """Visible words in a template that are outside ``{{ _() }}``, ``ngettext`` and ``{% trans %}``."""
    env = Environment(extensions=["jinja2.ext.i18n"])
    raw = []
    for _, kind, value in env.lex(source):
        if kind == "data":
            raw.append(value)
        elif not raw or raw[-1] != "0":
            raw.append("0")  # an expression or a tag: a letter-free stand-in that also keeps <h{{ n }}> a tag
    parser = _Text()
    parser.feed("".join(raw))
    parser.close()
    words = []
    for chunk in parser.found:
        piece = re.sub(r"0+", " ", chunk).strip()
        if re.search(r"[A-Za-z]{2,}", piece) and piece not in SAME_IN_EVERY_LANGUAGE:
            words.append(piece)
    return words


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_template_text_is_marked_for_translation(template):
    found = untranslated_text((TEMPLATES / template).read_text(encoding="utf-8"))
    assert not found, f"{template}: text outside _()/ngettext/trans: {found}"


def test_the_check_finds_unmarked_text():
    assert untranslated_text('<p>{{ _("Fine") }}</p><p>Not fine</p><a aria-label="Close">x</a>') == [
        "Not fine",
        "Close",
    ]
    assert untranslated_text('<p class="x">{{ _("Fine") }} · {{ n }}</p>') == []


def _extract():
    """The messages the code and templates use now (what ``pybabel extract`` with babel.cfg finds)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "lazy_gettext": None,
        "_l": None,
        "N_": None,
        "plural_forms": (1, 2),
    }
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value


def _welsh():
    with open(CATALOGUE, "rb") as f:
        return read_po(f, locale="cy")


def test_welsh_catalogue_translates_every_interface_string():
    catalogue = _welsh()
    used = _extract()
    assert len(used) > 300 and "Agree" in used, "the extraction itself works"
    known = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalogue if m.id}
    assert not sorted(used - known), "not in the Welsh catalogue: run pybabel extract/update (README, Languages)"
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    empty = [m.id for m in catalogue if m.id and not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    assert not fuzzy, f"fuzzy Welsh entries: {fuzzy}"
    assert not empty, f"untranslated Welsh entries: {empty}"
    assert not list(catalogue.check()), "placeholders differ between English and Welsh"


def test_compiled_welsh_catalogue_is_current():
    from babel.messages.mofile import read_mo

    mo = CATALOGUE.with_suffix(".mo")
    assert mo.exists(), "messages.mo is committed: restore it, or run pybabel compile -d participate/translations"
    with open(mo, "rb") as f:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
    source = {_key(m.id): _key(m.string) for m in _welsh() if m.id and not m.fuzzy}
    assert compiled == source, "the .mo is older than the .po: run scripts/setup or pybabel compile"
