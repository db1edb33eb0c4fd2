"""Questions about participants: set by facilitators, answered (or not) by participants, deleted with their data."""

import csv
import html
import io
import re

import pytest
from sqlalchemy import func, select

from participate.extensions import db
from participate.models import ParticipantAnswer, ParticipantQuestion
from participate.services import population

URL = "/facilitate/test/about-participants"


def _radio_values(html: str, qid: int) -> list[str]:
    return re.findall(rf'name="q{qid}" id="[^"]+" value="([^"]*)"', html)


@pytest.fixture
def asked(make_consultation):
    """An open consultation asking the UK age band and sex."""
    consultation = make_consultation()
    age = population.add_template(db.session, consultation, None, "age_band", "uk")
    sex = population.add_template(db.session, consultation, None, "sex", "uk")
    return consultation, age, sex


def test_facilitator_adds_a_template_with_the_population_shares_and_its_source(client, login, make_consultation):
    make_consultation()
    login(client, "admin")
    response = client.post_form(URL, {"action": "template", "template": "age_band", "area": "wales"})
    assert response.status_code == 302
    question = db.session.scalar(select(ParticipantQuestion))
    assert question.template == "age_band" and question.population_year == 2022
    assert "Wales" in question.population_source
    assert [c.value for c in question.categories][:2] == ["16-24", "25-34"]
    assert sum(c.population_share for c in question.categories) == pytest.approx(1.0)
    page = client.get(URL).text
    assert "What is your age?" in page and 'value="13"' in page  # 16-24 is 13% of Wales's people aged 16+


def test_facilitator_edits_shares_and_a_bad_total_is_refused_with_nothing_changed(client, login, asked):
    login(client, "admin")
    _, _age, sex = asked
    response = client.post_form(
        URL,
        {
            "action": "shares",
            "question_id": sex.id,
            "share-female": "50",
            "share-male": "50",
            "share-another": "",
            "source": "Census 2021",
            "year": "2021",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert [c.population_share for c in sex.categories] == [0.5, 0.5, None]
    assert sex.population_source == "Census 2021" and sex.population_year == 2021
    response = client.post_form(
        URL, {"action": "shares", "question_id": sex.id, "share-female": "70", "share-male": "50", "source": "x"}
    )
    assert response.status_code == 400 and "add up to 120%" in response.text
    db.session.expire_all()
    assert [c.population_share for c in sex.categories] == [0.5, 0.5, None]


def test_own_question_with_shares(client, login, make_consultation):
    make_consultation()
    login(client, "admin")
    response = client.post_form(
        URL, {"action": "own", "text": "Where do you live?", "categories": "Urban = 83\nRural = 17\n", "year": "2021"}
    )
    assert response.status_code == 302
    question = db.session.scalar(select(ParticipantQuestion))
    assert [(c.label, c.population_share) for c in question.categories] == [("Urban", 0.83), ("Rural", 0.17)]
    assert not question.special_category


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"text": "Do you have a disability?", "categories": "Yes\nNo"}, "special category"),
        ({"text": "Which religion?", "categories": "A\nB", "special_category": "1"}, "needs its lawful basis"),
        ({"text": "Where?", "categories": "Only one"}, "from 2 to"),
        ({"text": "Where?", "categories": "A = 50\nB = 2x"}, "is not a percentage"),
        ({"text": "", "categories": "A\nB"}, "Write the question"),
    ],
)
def test_own_question_refusals(client, login, make_consultation, form, message):
    make_consultation()
    login(client, "admin")
    response = client.post_form(URL, {"action": "own", **form})
    assert response.status_code == 400 and message in response.text
    assert db.session.scalar(select(func.count()).select_from(ParticipantQuestion)) == 0


def test_special_category_question_needs_and_shows_its_lawful_basis(client, login, make_consultation):
    consultation = make_consultation()
    login(client, "admin")
    basis = "Article 9(2)(j): statistics in the public interest, with the council's equality duty."
    response = client.post_form(
        URL,
        {
            "action": "own",
            "text": "What is your religion?",
            "categories": "None\nChristian\nOther",
            "special_category": "1",
            "lawful_basis": basis,
        },
    )
    assert response.status_code == 302
    page = client.get(f"/c/{consultation.slug}/about-you").text
    assert "What is your religion?" in page and "statistics in the public interest" in page


def test_no_questions_by_default_and_no_link(client, make_consultation):
    make_consultation()
    page = client.get("/c/test").text
    assert "/c/test/about-you" not in page
    page = client.get("/c/test/about-you").text
    assert "no questions about participants" in page
    assert "We ask so that" not in page  # no purpose given for questions that are not asked


def test_participant_answers_some_prefers_not_to_say_and_changes_their_mind_without_javascript(client, asked):
    _consultation, age, sex = asked
    vote_page = client.get("/c/test").text
    assert 'href="/c/test/about-you"' in vote_page and 'name="vote"' in vote_page  # a link, not a gate
    page = client.get("/c/test/about-you").text
    assert "We ask so that" in page  # the purpose, beside the questions
    assert "<script" not in page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert _radio_values(page, age.id) == [c.value for c in age.categories] + ["prefer-not-to-say", ""]
    assert "compare who took part with the population" in page  # the purpose, beside the questions
    response = client.post_form("/c/test/about-you", {f"q{age.id}": "25-34", f"q{sex.id}": "prefer-not-to-say"})
    assert response.status_code == 302
    rows = dict(db.session.execute(select(ParticipantAnswer.question_id, ParticipantAnswer.category_id)).all())
    assert rows == {age.id: age.categories[1].id, sex.id: None}
    page = client.get("/c/test/about-you").text
    assert re.search(r'value="25-34" checked', page) and re.search(r'value="prefer-not-to-say" checked', page)
    # "No answer" withdraws an answer; answering nothing at all is fine
    client.post_form("/c/test/about-you", {f"q{age.id}": "", f"q{sex.id}": "female"})
    rows = dict(db.session.execute(select(ParticipantAnswer.question_id, ParticipantAnswer.category_id)).all())
    assert rows == {sex.id: sex.categories[0].id}
    client.post_form("/c/test/about-you", {})
    assert db.session.scalar(select(func.count()).select_from(ParticipantAnswer)) == 0


def test_an_answer_not_offered_is_refused_and_nothing_is_stored(client, asked):
    _, age, _ = asked
    response = client.post_form("/c/test/about-you", {f"q{age.id}": "12-15"})
    assert response.status_code == 400 and "choose one of the answers offered" in response.text
    assert db.session.scalar(select(func.count()).select_from(ParticipantAnswer)) == 0


def test_answering_needs_the_csrf_token(client, asked):
    _, age, _ = asked
    response = client.post("/c/test/about-you", data={f"q{age.id}": "25-34"})
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(ParticipantAnswer)) == 0


def test_questions_and_purpose_in_welsh(client, asked):
    _, _age, _ = asked
    page = client.get("/c/test/about-you?lang=cy").text
    assert "Beth yw eich oedran?" in page and "16 i 24" in page and "Gwell gennyf beidio â dweud" in page
    assert "What is your age?" not in page
    privacy = client.get("/privacy?lang=cy").text
    assert 'id="about-you"' in privacy and "Cwestiynau amdanoch chi" in privacy


def test_answers_are_in_the_download_and_deleted_with_the_participant(client, asked):
    _, age, sex = asked
    client.post_form("/c/test/about-you", {f"q{age.id}": "65-74", f"q{sex.id}": "prefer-not-to-say"})
    data = client.get("/c/test/mine.json").get_json()
    assert [(a["question"], a["answer"]) for a in data["about_me"]] == [
        ("What is your age?", "65 to 74"),
        ("What is your sex?", "prefer not to say"),
    ]
    response = client.post_form("/c/test/mine/delete", {"confirmed": "1"})
    assert response.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(ParticipantAnswer)) == 0
    assert client.get("/c/test/mine.json").get_json()["about_me"] == []


def test_removing_a_question_removes_its_answers(client, login, asked):
    _, age, sex = asked
    client.post_form("/c/test/about-you", {f"q{age.id}": "65-74", f"q{sex.id}": "male"})
    login(client, "admin")
    assert client.post_form(URL, {"action": "remove", "question_id": age.id}).status_code == 302
    assert db.session.scalars(select(ParticipantAnswer.question_id)).all() == [sex.id]


def test_a_closed_consultation_takes_no_answers(client, asked):
    consultation, age, _ = asked
    consultation.status = consultation.status.CLOSED
    db.session.commit()
    response = client.post_form("/c/test/about-you", {f"q{age.id}": "65-74"})
    assert response.status_code == 409 and "answers can no longer change" in response.text
    assert db.session.scalar(select(func.count()).select_from(ParticipantAnswer)) == 0


def _upload(client, question_id: int, data: bytes, *, url: str = URL, **fields):
    form = {"action": "upload", "question_id": question_id, "source": "Census 2021", "year": "2021", **fields}
    return client.post_form(url, {**form, "shares_file": (io.BytesIO(data), "shares.csv")})


def _shares(question) -> list[float | None]:
    db.session.expire_all()
    return [c.population_share for c in question.categories]


@pytest.mark.parametrize(
    "data",
    [
        b"answer,share\nFemale,52\nMale,48\n",
        "\ufeffAnswer;Share (%)\r\nfemale ;52,0\r\n  MALE;48\r\n".encode(),  # Excel: BOM, semicolons, decimal comma
        b"Female\t52%\nMale\t48%\nIn another way\t\n",  # tab-separated, no header, an empty share
        "Female,52\nMale,48\n".encode("cp1252"),
        b"Female,52\rMale,48\r",  # an old Mac spreadsheet's line ends
    ],
)
def test_facilitator_uploads_the_population_shares_as_csv(client, login, asked, data):
    login(client, "admin")
    _, _age, sex = asked
    response = _upload(client, sex.id, data)
    assert response.status_code == 302
    assert _shares(sex) == [0.52, 0.48, None]
    assert sex.population_source == "Census 2021" and sex.population_year == 2021
    assert "The file's shares for 2 answers were saved" in html.unescape(client.get(URL).text)


def test_shares_download_round_trips_through_the_upload(client, login, asked):
    login(client, "admin")
    _, age, _sex = asked
    before = _shares(age)
    response = client.get(f"{URL}/{age.id}/shares.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["answer", "share"]
    assert [label for label, _ in rows[1:]] == [c.label for c in age.categories]
    assert sum(float(share) for _, share in rows[1:]) == pytest.approx(100)
    assert _upload(client, age.id, response.data).status_code == 302
    assert _shares(age) == pytest.approx(before)


def test_welsh_labels_are_understood_in_welsh(client, login, asked):
    login(client, "admin")
    _, _age, sex = asked
    response = _upload(client, sex.id, b"Benyw,50\nGwryw,50\n", url=URL + "?lang=cy")
    assert response.status_code == 302
    assert _shares(sex) == [0.5, 0.5, None]
    assert "Benyw,50" in client.get(f"{URL}/{sex.id}/shares.csv?lang=cy").text


@pytest.mark.parametrize(
    "data, message",
    [
        (b"answer,share\nFemale,52\nMen,48\n", "Row 3 of the file: “Men” is not one of this question's answers."),
        (b"Female,50,5\nMale,49,5\n", "Row 1 of the file has more than two cells"),
        (b"Female,70\nMale,50\n", "add up to 120%"),
        (b"Female,52\nfemale,48\n", "Row 2 of the file gives “female” a second time."),
        (b"Female,-5\nMale,105\n", "A population share must be a percentage from 0 to 100."),
        (b"answer,share\n", "The file has no shares in it"),
        (b"", "none was given, or it is empty"),
        (b"PK\x03\x04\x00\x00binary", "This file is not a CSV file."),
        (b"Female,50\n" * 10_000, "The file is too large for a table of shares (at most 64 KB)."),
    ],
)
def test_a_bad_shares_file_is_refused_with_nothing_changed(client, login, asked, data, message):
    login(client, "admin")
    _, _age, sex = asked
    before = _shares(sex)
    response = _upload(client, sex.id, data, source="changed", year="1999")
    assert response.status_code == 400
    assert message in html.unescape(response.text)
    assert _shares(sex) == before
    assert sex.population_source != "changed"


def test_shares_of_another_consultations_question_are_not_found(client, login, asked, make_consultation):
    other = make_consultation(slug="other")
    question = population.add_template(db.session, other, None, "sex", "uk")
    login(client, "admin")
    assert client.get(f"{URL}/{question.id}/shares.csv").status_code == 404
    assert _upload(client, question.id, b"Female,50\nMale,50\n").status_code == 404
    assert _shares(question) == [0.51, 0.49, None]
