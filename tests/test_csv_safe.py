"""Spreadsheet formula injection: every CSV the project writes neutralises formulas (one writer, used everywhere),
and the Pol.is export still reads back to the same statements."""

import csv
import io
import re
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from analysis import csv_safe
from analysis.polis_io import read_polis_export
from participate.extensions import db
from participate.models import Participant, Statement
from participate.services import moderation
from tests import factories

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = (
    '=HYPERLINK("http://evil.example","Click")',
    "+1 and more taxes",
    "-2 degrees is cold",
    "@SUM(1+1) please",
    "'=already quoted",
)
DANGEROUS = re.compile(r"[=+\-@\t\r]")
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+x", "'+x"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("-1", "-1"),
        ("+2.5e3", "+2.5e3"),
        (-1, -1),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("'quoted", "'quoted"),
    ],
)
def test_neutralise(value, written):
    assert csv_safe.neutralise(value) == written


@given(st.text())
def test_restore_undoes_neutralise(text):
    assert csv_safe.restore(csv_safe.neutralise(text)) == text


def test_no_other_csv_writer_in_the_code():
    """One writer everywhere: a new csv.writer or DictWriter would write formulas unescaped."""
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("participate", "analysis")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "csv_safe.py" and re.search(r"csv\.(writer|DictWriter)\(", path.read_text())
    ]
    assert offenders == []


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _assert_safe(text: str, where: str) -> None:
    bad = [c for c in _cells(text) if DANGEROUS.match(c) and not NUMBER.fullmatch(c)]
    assert bad == [], f"{where}: formulas written as they are: {bad}"


@pytest.fixture
def hostile(client, login, make_consultation, make_account):
    consultation = make_consultation(statements=HOSTILE)
    for text in HOSTILE:
        client.post_form("/c/test/vote", {"statement_id": _sid(text), "vote": "agree"})
    factories.submit_statement(db.session, consultation, "author", "=cmd|' /C calc'!A0")
    staff = make_account("admin")
    moderation.act(db.session, staff, consultation, [_sid("=cmd|' /C calc'!A0")], "reject", "=2+3 spam")
    login(client, account=staff)
    return consultation


def _sid(text):
    return db.session.scalar(select(Statement.id).where(Statement.text == text))


def test_every_csv_neutralises_formulas(client, hostile):
    report = client.get("/c/test/report.csv").text
    assert '=HYPERLINK("http://evil.example","Click")'.replace('"', '""') in report  # the text is all there
    _assert_safe(report, "report CSV")
    published = client.post_form("/c/test/report/publish", {})
    _assert_safe(client.get(published.headers["Location"] + ".csv").text, "published snapshot CSV")
    _assert_safe(client.get("/facilitate/test/moderation-log.csv").text, "moderation log CSV")
    archive = zipfile.ZipFile(io.BytesIO(client.get("/facilitate/test/export.zip").data))
    for name in archive.namelist():
        if name.endswith(".csv"):
            _assert_safe(archive.read(name).decode(), name)


def test_the_polis_export_reads_back_to_the_same_statements(client, hostile, tmp_path):
    archive = zipfile.ZipFile(io.BytesIO(client.get("/facilitate/test/export.zip").data))
    archive.extractall(tmp_path)
    (folder,) = tmp_path.iterdir()
    read = {s.text for s in read_polis_export(folder).statements}
    stored = set(db.session.scalars(select(Statement.text)))
    assert read == stored and set(HOSTILE) <= read
    assert db.session.scalar(select(Participant.id)) is not None
