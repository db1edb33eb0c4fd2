"""Answers about participants travel as Pol.is-style participant metadata columns, and imports keep them."""

import csv

from sqlalchemy import select

from analysis import polis_io
from participate.extensions import db
from participate.models import ParticipantAnswer, ParticipantQuestion, utcnow
from participate.services import polis_exchange, population
from participate.services.participation import identity, votes


def _consultation_with_answers(make_consultation):
    consultation = make_consultation()
    age = population.add_template(db.session, consultation, None, "age_band", "uk")
    own = population.add_question(
        db.session, consultation, None, text="Where do you live?", categories="Urban = 83\nRural = 17"
    )
    statement = consultation.statements[0]
    answers = [{f"q{age.id}": "16-24", f"q{own.id}": "2"}, {f"q{age.id}": "prefer-not-to-say"}, {}]
    for i, form in enumerate(answers):
        person = identity.find_or_add(db.session, consultation, f"person-{i}")
        votes.record(db.session, consultation.id, person.id, statement.id, 1, utcnow())
        db.session.commit()
        if form:
            population.answer(db.session, consultation.slug, f"person-{i}", form)
    return consultation, age, own


def test_export_writes_metadata_columns_and_the_import_keeps_them(make_consultation, tmp_path):
    consultation, _, _ = _consultation_with_answers(make_consultation)
    polis_exchange.export_folder(db.session, consultation, tmp_path / "export")
    with (tmp_path / "export" / "participant-votes.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["What is your age?"] for r in rows] == ["16 to 24", "Prefer not to say", ""]
    assert [r["Where do you live?"] for r in rows] == ["Rural", "", ""]
    # the votes read back unchanged: metadata columns are not statements
    assert len(polis_io.read_polis_export(tmp_path / "export").votes) == 3

    imported = polis_exchange.import_export(db.session, tmp_path / "export", slug="copy")
    asked = population.questions(db.session, imported)
    assert [q.text for q in asked] == ["What is your age?", "Where do you live?"]
    assert asked[0].template == "age_band" and asked[0].population_year == 2022  # consultation.json carried them
    assert [(c.label, c.population_share) for c in asked[1].categories] == [("Urban", 0.83), ("Rural", 0.17)]
    answers = db.session.execute(
        select(ParticipantQuestion.text, ParticipantAnswer.category_id)
        .join(ParticipantQuestion)
        .where(ParticipantQuestion.consultation_id == imported.id)
        .order_by(ParticipantAnswer.participant_id, ParticipantQuestion.position)
    ).all()
    by_id = {c.id: c.label for q in asked for c in q.categories}
    assert [(t, by_id.get(c)) for t, c in answers] == [
        ("What is your age?", "16 to 24"),
        ("Where do you live?", "Rural"),
        ("What is your age?", None),  # prefer not to say
    ]


def _plain_export(tmp_path):
    """A Pol.is export without votes.csv whose participant-votes file has two metadata columns, age and email."""
    folder = tmp_path / "polis"
    folder.mkdir()
    (folder / "comments.csv").write_text(
        "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        "1,x,0,0,2,1,1,First statement\n",
        encoding="utf-8",
    )
    header = "participant,group-id,n-comments,n-votes,n-agree,n-disagree,age,email,0\n"
    rows = "".join(f"{i},,0,1,1,0,{'young' if i < 2 else 'old'},p{i}@example.org,1\n" for i in range(3))
    (folder / "participants-votes.csv").write_text(header + rows, encoding="utf-8")
    return folder


def test_a_plain_polis_export_with_metadata_columns_keeps_them_without_shares(app, tmp_path):
    imported = polis_exchange.import_export(db.session, _plain_export(tmp_path))
    asked = population.questions(db.session, imported)
    assert [q.text for q in asked] == ["age"]
    assert [(c.label, c.population_share) for c in asked[0].categories] == [("young", None), ("old", None)]
    # an identifier (a different value for everyone, more than a question's answers) is not kept
    assert len(db.session.scalars(select(ParticipantAnswer)).all()) == 3


def test_an_import_reads_the_participant_votes_file_once(app, tmp_path, monkeypatch):
    folder = _plain_export(tmp_path)
    expected = polis_io.read_participant_metadata(folder)
    assert polis_io.read_polis_export(folder).participant_metadata == expected  # read with the votes

    def read_again(path):
        raise AssertionError("the participant-votes file was read a second time for its metadata")

    monkeypatch.setattr(polis_io, "read_participant_metadata", read_again)
    imported = polis_exchange.import_export(db.session, folder)
    assert [q.text for q in population.questions(db.session, imported)] == ["age"]
