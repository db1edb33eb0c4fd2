"""Statements about the participant: the detector's precision and recall, and where it runs."""

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from participate.extensions import db
from participate.models import Statement
from participate.services import about_participants, moderation, statements
from tests import factories

LABELLED = Path(__file__).parents[1] / "data" / "about_participants.csv"


def scores() -> dict[str, tuple[float, float, int]]:
    """{language or "all" or "real": (precision, recall, statements)} on the labelled set."""
    counts = defaultdict(lambda: [0, 0, 0, 0])  # true positives, false positives, false negatives, statements
    with open(LABELLED, encoding="utf-8") as f:
        for row in csv.DictReader(f):
            found = about_participants.is_about_participants(row["text"])
            truth = row["about"] == "1"
            for key in {row["lang"], "all", *(["real"] if row["source"] == "real" else [])}:
                c = counts[key]
                c[0] += found and truth
                c[1] += found and not truth
                c[2] += truth and not found
                c[3] += 1
    return {k: (tp / (tp + fp), tp / (tp + fn), n) for k, (tp, fp, fn, n) in counts.items()}


def test_precision_and_recall_on_the_labelled_set():
    """The figures in the README (section "Statements about participants")."""
    got = scores()
    print(" ".join(f"{k}: P={p:.2f} R={r:.2f} n={n}" for k, (p, r, n) in sorted(got.items())))
    assert {"en", "cy", "de", "real"} <= set(got) and got["all"][2] >= 130
    for lang in ("en", "cy", "de"):
        precision, recall, _ = got[lang]
        assert precision >= 0.9 and recall >= 0.9, lang
    assert got["real"][0] >= 0.8 and got["real"][1] >= 0.8  # statements from real conversations, not written here


@pytest.mark.parametrize(
    ("text", "about"),
    [
        ("I am over 65", True),
        ("I work in the NHS", True),
        ("I have a driving licence", True),
        ("Rwy'n byw yng Nghaerdydd", True),
        ("Ich wohne in Graz", True),
        ("I am happy with how my council uses AI", False),
        ("I worry about face recognition", False),
        ("Councils should publish their algorithms", False),
    ],
)
def test_the_issues_examples(text, about):
    assert about_participants.is_about_participants(text) is about
    if about:
        assert about_participants.finding(text).phrase  # the facilitator can be told why


def test_seeded_and_submitted_statements_are_marked_and_a_facilitator_can_undo(make_consultation, make_account):
    consultation = make_consultation(statements=["I live in a rural area", "Rural buses should run hourly"])
    marked = {s.text: s.about_participants for s in consultation.statements}
    assert marked == {"I live in a rural area": True, "Rural buses should run hourly": False}
    assert all(s.is_meta == s.about_participants for s in consultation.statements)
    submitted = factories.submit_statement(db.session, consultation, "someone", "I am under 30")
    assert submitted.about_participants and submitted.is_meta
    view = factories.submit_statement(db.session, consultation, "someone", "I think the young are ignored")
    assert not view.about_participants and not view.is_meta
    assert [s.text for s in about_participants.find_all(db.session, consultation)] == [
        "I live in a rural area",
        "I am under 30",
    ]
    admin = make_account("admin", "admin@example.org")
    moderation.act(db.session, admin, consultation, [submitted.id], "unmeta")
    db.session.refresh(submitted)
    assert not submitted.about_participants and not submitted.is_meta
    assert isinstance(statements.seed(consultation.id, "Ich bin Studentin"), Statement)
    assert statements.seed(consultation.id, "Ich bin Studentin").about_participants


def test_the_facilitator_sees_the_list_on_the_moderation_page(client, login, make_consultation):
    make_consultation(statements=["I live in a rural area", "Rural buses should run hourly"])
    login(client, "admin")
    page = client.get("/facilitate/test/moderate?state=accepted").text
    assert page.count("about participants") == 1 and "“Not meta” undoes this" in page
