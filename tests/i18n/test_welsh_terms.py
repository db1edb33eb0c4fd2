"""The Welsh catalogue speaks its own terms: "ymgynghoriad" spelt right everywhere, and every message about a
consultation, statement, participant or opinion group uses the catalogue's word for it."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

from participate import i18n

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "participate" / "translations" / "cy" / "LC_MESSAGES" / "messages.po"
# The catalogue's own words (with their mutations): consultation, statement, participant, opinion group.
TERMS = {
    "consultation": r"ymgynghor",
    "statement": r"(d|dd|n)?datganiad|natganiad|datgan",
    "participant": r"(c|g|ch|ngh)yfranog",
    "opinion group": r"gr[ŵw]p|grwpiau|ngr[ŵw]p",
}
# Placeholders, file and column names are not words a person reads in Welsh: "statement_id", "participants.csv".
CODE = re.compile(r"%\([a-z_]+\)[sd]|\b[\w.-]*[_.][\w.-]*\b|[A-Z][A-Z_]+[A-Z]")


def _messages():
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    for message in catalogue:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        yield ids[0], [s for s in strings if s]


def test_no_misspelt_ymgynghoriad_anywhere():
    """ "Ymgyngoriadau" (for "Ymgynghoriadau") reached the main navigation once: no form of it anywhere."""
    wrong = re.compile(r"ymgy(?!nghor)[a-zŵŷ]*", re.IGNORECASE)
    places = [CATALOGUE, *ROOT.joinpath("templates").rglob("*.html"), *ROOT.joinpath("participate").rglob("*.py")]
    found = [(p.name, m) for p in places for m in wrong.findall(p.read_text(encoding="utf-8"))]
    assert found == []


def test_every_message_uses_the_catalogues_own_terms():
    missing = []
    for msgid, strings in _messages():
        words = CODE.sub(" ", msgid).lower()
        for term, pattern in TERMS.items():
            if re.search(rf"\b{term}", words):
                missing += [(term, msgid, s) for s in strings if not re.search(pattern, s, re.IGNORECASE)]
    assert missing == []


def test_every_audit_event_has_words_in_both_languages():
    """The audit log shows events in words, never a stored code like ``group_names_changed``."""
    recorded = set()
    for path in ROOT.joinpath("participate").rglob("*.py"):
        recorded |= set(re.findall(r'audit\.record\(\s*[^,]+,\s*[^,]+,\s*[^,]+,\s*"([a-z_]+)"', path.read_text()))
    assert "group_names_changed" in recorded
    assert sorted(recorded - set(i18n.AUDIT_ACTIONS)) == []
    translated = dict(_messages())
    untranslated = [
        str(i18n.AUDIT_ACTIONS[a]._args[0]) for a in recorded if not translated.get(i18n.AUDIT_ACTIONS[a]._args[0])
    ]
    assert untranslated == []
