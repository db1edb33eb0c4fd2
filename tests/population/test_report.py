"""The report's "who took part" table, weighted agree shares and their suppression, the brief's sentence, the demo."""

import csv
import io

import numpy as np
import pytest
from sqlalchemy import func, insert, select

from analysis.weighting import rake
from participate.extensions import db
from participate.models import CurrentVote, Participant, ParticipantAnswer, ParticipantQuestion
from participate.services import brief, population, population_brief, report, simulate
from participate.services.snapshots import runner
from participate.services.snapshots import votes as snapshot_votes


def _simulated(make_consultation, people: int, *, seed: int = 0):
    consultation = make_consultation(statements=[f"Statement number {i}" for i in range(8)])
    simulate.simulate_votes(db.session, consultation, people, seed=seed)
    age = population.add_template(db.session, consultation, None, "age_band", "uk")
    sex = population.add_template(db.session, consultation, None, "sex", "uk")
    return consultation, age, sex


def _answer(consultation, age, sex, *, seed=0, skip_band=None):
    """Answers for every participant: ages skewed young, a few not answered or "prefer not to say"."""
    rng = np.random.default_rng(seed)
    pids = db.session.scalars(select(Participant.id).where(Participant.consultation_id == consultation.id)).all()
    p_age = np.array([0.3, 0.25, 0.15, 0.1, 0.1, 0.05, 0.05])
    if skip_band is not None:
        p_age[skip_band] = 0
    rows = []
    for pid in pids:
        a, s = rng.choice(7, p=p_age / p_age.sum()), rng.choice(4, p=[0.55, 0.35, 0.05, 0.05])
        if rng.random() > 0.1:
            rows.append({"participant_id": pid, "question_id": age.id, "category_id": age.categories[a].id})
        if s < 3:
            rows.append({"participant_id": pid, "question_id": sex.id, "category_id": sex.categories[s].id})
        else:
            rows.append({"participant_id": pid, "question_id": sex.id, "category_id": None})  # prefer not to say
    db.session.execute(insert(ParticipantAnswer), rows)
    db.session.commit()


def test_who_took_part_equals_the_counts_and_weights_reproduce_the_margins(make_consultation):
    consultation, age, sex = _simulated(make_consultation, 160)
    _answer(consultation, age, sex)
    runner.analyse(db.session, consultation.id)
    data = report.build(db.session, consultation)
    section = data["population"]
    assert section["participants"] == data["counts"]["participants"] == 160
    for q, question in zip(section["questions"], (age, sex), strict=True):
        assert q["id"] == question.id and q["text"] == question.text
        for a, category in zip(q["answers"], question.categories, strict=True):
            counted = db.session.scalar(
                select(func.count()).select_from(ParticipantAnswer).where(ParticipantAnswer.category_id == category.id)
            )
            assert (a["value"], a["label"], a["count"]) == (category.value, category.label, counted)
            assert a["population_share"] == category.population_share
        answered = db.session.scalar(
            select(func.count())
            .select_from(ParticipantAnswer)
            .where(ParticipantAnswer.question_id == question.id, ParticipantAnswer.category_id.is_not(None))
        )
        assert q["not_answered"] == 160 - answered
    assert section["questions"][1]["prefer_not_to_say"] > 0
    assert section["suppressed"] is None and 30 <= section["effective_n"] < 160 and section["design_effect"] > 1

    # the weighted agree share is Σ w·agree / Σ w over the statement's voters, with the weights raked to the margins
    pids = sorted(db.session.scalars(select(Participant.id).where(Participant.consultation_id == consultation.id)))
    codes = np.full((len(pids), 2), -1)
    for pid, qid, cid in db.session.execute(
        select(ParticipantAnswer.participant_id, ParticipantAnswer.question_id, ParticipantAnswer.category_id)
    ):
        if cid is not None:
            question = age if qid == age.id else sex
            codes[pids.index(pid), 0 if qid == age.id else 1] = [c.id for c in question.categories].index(cid)
    shares = [np.array([c.population_share or 0 for c in q.categories]) for q in (age, sex)]
    w = rake(codes, shares).weights
    for j, share in enumerate(shares):
        answered = (codes[:, j] >= 0) & (share[np.maximum(codes[:, j], 0)] > 0)
        got = np.bincount(codes[answered, j], weights=w[answered], minlength=len(share)) / w[answered].sum()
        np.testing.assert_allclose(got, share / share.sum(), atol=1e-6)
    row = data["statements"][0]
    votes = db.session.execute(
        select(CurrentVote.participant_id, CurrentVote.value).where(CurrentVote.statement_id == row["id"])
    ).all()
    weight = np.array([w[pids.index(p)] for p, _ in votes])
    agree = np.array([v > 0 for _, v in votes])
    assert row["weighted"]["agree_share"] == pytest.approx(weight[agree].sum() / weight.sum(), abs=1e-4)
    assert row["weighted"]["low"] < row["weighted"]["agree_share"] < row["weighted"]["high"]

    summary = brief.build(data)
    for item in summary["headline"] + summary["common_ground"] + summary["divisions"]:
        assert set(item["weighted"]) in ({"agree_share", "low", "high"}, {"suppressed"})
    assert summary["weighting"].startswith("Weighting the participants to match the population")


def test_the_json_download_carries_the_contract(client, make_consultation):
    consultation, age, sex = _simulated(make_consultation, 60)
    _answer(consultation, age, sex)
    runner.analyse(db.session, consultation.id)
    body = client.get("/c/test/report.json").get_json()
    section = body["report"]["population"]
    assert {"questions", "effective_n", "design_effect"} <= set(section)
    assert set(section["questions"][0]) >= {"id", "text", "answers", "not_answered"}
    assert set(section["questions"][0]["answers"][0]) >= {"value", "label", "count", "population_share"}
    assert isinstance(section["effective_n"], float) and isinstance(section["design_effect"], float)
    items = body["brief"]["headline"]
    assert items and all(set(i["weighted"]) in ({"agree_share", "low", "high"}, {"suppressed"}) for i in items)
    page = client.get("/c/test/report").text
    assert 'id="population-heading"' in page and "Weighted to match the population" in page
    rows = list(csv.DictReader(io.StringIO(client.get("/c/test/report.csv").data.decode("utf-8-sig"))))
    statements = {r["id"]: r for r in body["report"]["statements"]}
    for row in rows:
        weighted = statements[int(row["statement_id"])]["weighted"]
        assert row["weighted_suppressed"] == weighted.get("suppressed", "")
        if "agree_share" in weighted:
            assert float(row["weighted_agree_share"]) == pytest.approx(weighted["agree_share"])


def test_below_the_effective_sample_floor_weighted_figures_are_suppressed(make_consultation):
    consultation, age, _sex = _simulated(make_consultation, 35)
    pids = db.session.scalars(select(Participant.id).where(Participant.consultation_id == consultation.id)).all()
    rows = [
        {"participant_id": p, "question_id": age.id, "category_id": age.categories[i % 7].id}
        for i, p in enumerate(pids)
    ]
    db.session.execute(insert(ParticipantAnswer), rows)
    db.session.commit()
    runner.analyse(db.session, consultation.id)
    data = report.build(db.session, consultation)
    assert data["population"]["suppressed"] is None and data["population"]["effective_n"] <= 35
    suppressed = 0
    for row in data["statements"]:
        if row["overall"]["votes"] < 30:  # the effective sample size is at most the number of voters
            assert row["weighted"] == {"suppressed": "effective_n_below_30"}
            suppressed += 1
    assert suppressed > 0


def test_an_empty_population_cell_suppresses_the_weighting_with_the_reason(client, make_consultation):
    consultation, age, sex = _simulated(make_consultation, 80)
    _answer(consultation, age, sex, skip_band=6)  # nobody aged 75 or over
    runner.analyse(db.session, consultation.id)
    data = report.build(db.session, consultation)
    assert data["population"]["suppressed"] == "empty_population_cell"
    assert data["population"]["questions"][0]["answers"][6]["count"] == 0
    assert all(r["weighted"] == {"suppressed": "empty_population_cell"} for r in data["statements"])
    assert "Nobody who took part is in one of the population" in client.get("/c/test/report").text


def test_without_questions_nothing_is_weighted_and_the_brief_says_nothing(make_consultation):
    consultation = make_consultation(statements=[f"Statement number {i}" for i in range(8)])
    simulate.simulate_votes(db.session, consultation, 40, seed=1)
    runner.analyse(db.session, consultation.id)
    data = report.build(db.session, consultation)
    assert data["population"]["questions"] == [] and data["population"]["suppressed"] == "no_questions"
    assert all(r["weighted"] == {"suppressed": "no_questions"} for r in data["statements"])
    assert brief.build(data)["weighting"] is None


def test_new_answers_reach_the_cached_report(make_consultation):
    consultation, age, sex = _simulated(make_consultation, 40)
    runner.analyse(db.session, consultation.id)
    assert report.build(db.session, consultation)["population"]["questions"][0]["not_answered"] == 40
    _answer(consultation, age, sex)
    assert report.build(db.session, consultation)["population"]["questions"][0]["not_answered"] < 40


@pytest.mark.parametrize(
    ("agree", "votes", "weighted", "changed"),
    [
        (60, 100, {"agree_share": 0.58, "low": 0.52, "high": 0.64}, False),
        (60, 100, {"agree_share": 0.45, "low": 0.39, "high": 0.51}, True),  # a majority becomes a minority
        (80, 100, {"agree_share": 0.70, "low": 0.65, "high": 0.75}, True),  # 80% is outside the weighted interval
    ],
)
def test_a_headline_finding_changes_when_its_side_flips_or_the_count_is_outside_the_interval(
    agree, votes, weighted, changed
):
    item = {"text": "x", "everyone": {"agree": agree, "votes": votes}, "weighted": weighted}
    assert population_brief.changed_findings([item]) == ([item] if changed else [])
    assert population_brief.changed_findings([{**item, "weighted": {"suppressed": "no_questions"}}]) is None


def test_the_demo_asks_about_participants_and_weighting_moves_its_figures(app):
    demo = simulate.load_demo(db.session, participants=200)
    questions = db.session.scalars(
        select(ParticipantQuestion.template).where(ParticipantQuestion.consultation_id == demo.id)
    ).all()
    assert sorted(questions) == ["age_band", "sex"]
    runner.analyse(db.session, demo.id)
    data = report.build(db.session, demo)
    young = data["population"]["questions"][[q["template"] for q in data["population"]["questions"]].index("age_band")]
    answered = sum(a["count"] for a in young["answers"])
    assert young["answers"][0]["count"] / answered > young["answers"][0]["population_share"] + 0.03  # skewed young
    moved = [
        abs(r["weighted"]["agree_share"] - r["overall"]["agree"] / r["overall"]["votes"])
        for r in data["statements"]
        if "agree_share" in r["weighted"]
    ]
    assert moved and max(moved) > 0.02


def test_without_questions_statements_about_participants_fill_the_who_took_part_table(app, make_consultation):
    """The claims work lists statements about participants in ``report["about_participants"]``; they feed the
    table (as votes, with no population figure) when the consultation asks no questions."""
    consultation = make_consultation(statements=["I am under 30", "I live in a rural area", "Buses should be free"])
    simulate.simulate_votes(db.session, consultation, 40, seed=2)
    data = report.build(db.session, consultation)
    rows = {r["text"]: r for r in data["statements"]}
    about = {**data, "about_participants": [rows["I am under 30"]["id"], rows["I live in a rural area"]["id"]]}
    votes = snapshot_votes.current_votes(db.session, consultation.id)
    section = population.section(
        db.session, consultation, about, (votes.participant_ids, votes.statement_ids, votes.values)
    )
    assert [q["text"] for q in section["questions"]] == ["I am under 30", "I live in a rural area"]
    for q in section["questions"]:
        overall = rows[q["text"]]["overall"]
        assert q["kind"] == "statement"
        assert [(a["value"], a["count"], a["population_share"]) for a in q["answers"]] == [
            ("agree", overall["agree"], None),
            ("disagree", overall["disagree"], None),
            ("pass", overall["pass"], None),
        ]
        assert q["not_answered"] == section["participants"] - overall["votes"]
    assert section["suppressed"] == "no_questions"
    assert population_brief.weighting_sentence({**about, "population": section}, []) is None
    with app.test_request_context():
        from flask import render_template_string

        html = render_template_string('{% include "report/_population.html" %}', report={"population": section})
    assert "statements participants wrote about themselves" in html and "Did not vote on it" in html
    assert "Weighted to match the population" not in html
