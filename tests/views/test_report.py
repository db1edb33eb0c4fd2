"""The report pages: states, numbers, sorting, downloads, visibility and published snapshots."""

import csv
import io
import re

import flask_babel
import numpy as np
import pytest
from sqlalchemy import select

from analysis.polis_io import read_conversation
from participate.extensions import db
from participate.models import (
    Consultation,
    ConsultationStatus,
    ModerationMode,
    ReportSnapshot,
    ReportVisibility,
    Statement,
    VoteValue,
)
from participate.services import report
from participate.services.about_participants import is_about_participants
from participate.services.snapshots import runner, store
from tests import factories
from tests.factories import CAMP_X, CAMP_Y, PEOPLE, hand_votes, make_hand_consultation

AGREE, DISAGREE, PASS = VoteValue.AGREE, VoteValue.DISAGREE, VoteValue.PASS


def _pct(n, d):
    return int(100 * n / d + 0.5)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_empty_consultation(client, make_consultation):
    make_consultation()
    page = client.get("/c/test/report")
    assert page.status_code == 200
    text = _text(page.get_data(as_text=True))
    assert "Title test" in text and "Question test?" in text
    assert "Opinion groups appear once at least 7 people have voted on 3 statements: 0 so far." in text
    assert "Loading" not in text


def test_below_threshold_shows_tallies(client, make_consultation):
    consultation = make_consultation()
    sid = consultation.statements[0].id
    for i, value in enumerate([AGREE, AGREE, DISAGREE]):
        factories.cast(db.session, consultation, f"p{i}", sid, value)
    runner.analyse(db.session, consultation.id)
    text = _text(client.get("/c/test/report").get_data(as_text=True))
    assert "3 so far" not in text and "0 so far" in text
    assert "2 agree, 1 disagree, 0 pass" in text and "67% agree, 33% disagree, 0% pass" in text


def test_every_number_in_the_hand_made_report(client, make_consultation):
    _, sids, _ = make_hand_consultation(make_consultation)
    votes = hand_votes()
    html = client.get("/c/hand/report").get_data(as_text=True)
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert figures["Participants"] == str(PEOPLE) and figures["Votes"] == str(len(votes))
    assert figures["Statements"] == "10" and figures["People in opinion groups"] == str(PEOPLE)
    # Group letters follow group ids; find which camp each letter is from its size on the page.
    sizes = dict(re.findall(r'<tr><th scope="row">([A-E])</th><td>(\d+)</td>', html))
    assert sorted(sizes.values(), key=int) == [str(len(CAMP_Y)), str(len(CAMP_X))]
    camps = {label: set(CAMP_X) if size == str(len(CAMP_X)) else set(CAMP_Y) for label, size in sizes.items()}
    for s, sid in enumerate(sids):
        row = re.search(rf'<tr id="s{sid}">(.*?)</tr>', html, re.S).group(1)
        cast = [v for (p, t), v in votes.items() if t == s]
        a, d, n = cast.count(AGREE), cast.count(DISAGREE), len(cast)
        expected = {str(x) for x in (a, d, n - a - d, n, _pct(a, n), _pct(d, n), _pct(n - a - d, n), s)}
        assert f"{a} agree, {d} disagree, {n - a - d} pass" in _text(row)
        shares, log_j = [], 0.0
        for label in sorted(camps):
            group = [v for (p, t), v in votes.items() if t == s and p in camps[label]]
            ga, gd, gn = group.count(AGREE), group.count(DISAGREE), len(group)
            gp = gn - ga - gd
            shown = f"{_pct(ga, gn)}% agree, {_pct(gd, gn)}% disagree, {_pct(gp, gn)}% pass ({gn} votes)"
            assert f"{label} {shown}" in _text(row)
            expected |= {label, str(_pct(ga, gn)), str(_pct(gd, gn)), str(_pct(gn - ga - gd, gn)), str(gn)}
            shares.append(ga / gn)
            log_j += np.log((ga + 0.5) / (gn + 1))
        jeffreys = f"{np.exp(log_j / len(camps)):.2f}"
        divisive = str(int(100 * (max(shares) - min(shares)) + 0.5))
        expected |= {jeffreys, divisive}
        numbers = set(re.findall(r"\d+(?:\.\d+)?", re.sub(r'style="[^"]*"', "", _text(row))))
        assert numbers <= expected, (s, numbers - expected)
        assert jeffreys in _text(row) and divisive in _text(row)
    # Each group's distinguishing statements: the group's and the other groups' shares, independently computed.
    checked = 0
    for section in re.findall(r'<section class="group-card"(.*?)</section>', html, re.S):
        label = re.search(r'id="group-([A-E])"', section).group(1)
        for item in re.findall(r"<li>(.*?)</li>", section, re.S):
            s = int(re.search(r"Hand statement (\d)", item).group(1))
            for who, people in ((f"Group {label}", camps[label]), ("Other groups", set(range(PEOPLE)) - camps[label])):
                cast = [v for (p, t), v in votes.items() if t == s and p in people]
                a, d, n = cast.count(AGREE), cast.count(DISAGREE), len(cast)
                shown = f"{who} {_pct(a, n)}% agree, {_pct(d, n)}% disagree, {_pct(n - a - d, n)}% pass ({n} votes)"
                assert shown in _text(item), (label, s, who)
                checked += 1
    assert checked >= 8
    # Common ground: statement 0, with each group's agreement and counts.
    common = re.search(r"supported by every group</caption>(.*?)</table>", html, re.S).group(1)
    assert "Hand statement 0" in common
    for label, people in camps.items():
        cast = [v for (p, t), v in votes.items() if t == 0 and p in people]
        assert f"{label}: {_pct(cast.count(AGREE), len(cast))}% ({cast.count(AGREE)}/{len(cast)})" in _text(common)


def test_sorting_and_theme_filter_work_without_javascript(client, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    db.session.get(Statement, sids[3]).themes = []
    from participate.models import StatementTheme

    db.session.get(Statement, sids[9]).themes = [StatementTheme(name="uncertain")]
    db.session.commit()

    def order(query):
        html = client.get(f"/c/hand/report{query}").get_data(as_text=True)
        return [int(x) for x in re.findall(r'<tr id="s(\d+)">', html)]

    assert order("") == sids
    by_agree = order("?sort=agree")
    data = report.build(db.session, consultation)
    shares = {r["id"]: r["overall"]["agree"] / r["overall"]["votes"] for r in data["statements"]}
    assert [shares[i] for i in by_agree] == sorted(shares.values(), reverse=True)
    assert order("?sort=pass")[0] == sids[9]
    assert order("?theme=uncertain") == [sids[9]]
    assert order("?sort=nonsense") == sids


def test_downloads_csv_json_pdf(client, make_consultation):
    _, sids, _ = make_hand_consultation(make_consultation)
    rows = list(csv.DictReader(io.StringIO(client.get("/c/hand/report.csv").data.decode("utf-8-sig"))))
    assert [int(r["statement_id"]) for r in rows] == sids
    assert {"group_A_agree_share", "group_B_agree_low90", "group_consensus_jeffreys"} <= set(rows[0])
    body = client.get("/c/hand/report.json").get_json()
    assert body["report"]["format"] == "participate-report/1" and body["report"]["common_ground"] == [sids[0]]
    pdf = client.get("/c/hand/report.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    from pypdf import PdfReader

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = re.sub(r"\s+", " ", text)
    assert "Title hand" in text and "Hand statement 0" in text


def test_private_link_only_and_draft_reports(client, make_consultation):
    consultation = make_consultation()
    consultation.report_visibility = ReportVisibility.PRIVATE
    db.session.commit()
    assert client.get("/c/test/report").status_code == 403
    assert client.get("/c/test/report.json").status_code == 403
    assert client.get("/c/test/report.pdf").status_code == 403
    consultation.report_visibility = ReportVisibility.LINK
    consultation.report_key = "k" * 32
    db.session.commit()
    assert client.get("/c/test/report").status_code == 404
    assert client.get("/c/test/report?key=wrong").status_code == 404
    page = client.get("/c/test/report?key=" + "k" * 32)
    assert page.status_code == 200 and "noindex" in page.get_data(as_text=True)
    consultation.report_visibility = ReportVisibility.PUBLIC
    consultation.status = ConsultationStatus.DRAFT
    db.session.commit()
    assert client.get("/c/test/report").status_code == 404
    assert client.get("/c/nope/report").status_code == 404


def test_publish_is_refused_to_anonymous_visitors(client, make_consultation):
    make_consultation()
    assert client.post_form("/c/test/report/publish", {}).status_code == 403
    assert client.post("/c/test/report/publish").status_code == 400  # no CSRF token


def test_published_snapshot_is_frozen_and_downloadable(app, client, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    out = app.test_cli_runner().invoke(args=["publish-report", "hand"])
    assert out.exit_code == 0, out.output
    token = re.search(r"/r/(\S+)", out.output).group(1)
    before = client.get(f"/r/{token}").get_data(as_text=True)
    assert "Published snapshot" in before and "Hand statement 0" in before
    for i in range(8):
        factories.cast(db.session, consultation, f"late-{i}", sids[1], DISAGREE)
    runner.analyse(db.session, consultation.id)
    after = client.get(f"/r/{token}").get_data(as_text=True)
    strip = re.compile(r'name="csrf_token" value="[^"]+"')
    assert strip.sub("", after) == strip.sub("", before)
    body = client.get(f"/r/{token}.json").get_json()
    assert body["published"]["vote_count"] == len(hand_votes())
    assert body["analysis"]["result"]["k"] == 2 and body["analysis"]["robustness"]
    assert client.get(f"/r/{token}.csv").status_code == 200
    assert client.get(f"/r/{token}.pdf").mimetype == "application/pdf"
    assert client.get("/r/not-a-real-token").status_code == 404
    assert f"/r/{token}" in client.get("/c/hand/report").get_data(as_text=True)  # public report: listed
    consultation.report_visibility = ReportVisibility.PRIVATE
    db.session.commit()
    assert client.get(f"/r/{token}").status_code == 403


def test_init_demo_and_sample_reports(app, client):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init"]).exit_code == 0
    index = _text(client.get("/reports").get_data(as_text=True))
    assert "Demo (simulated data)" in index and "Simulated data" in index
    hidden = db.session.scalar(select(Consultation).where(Consultation.slug == "public-interest-ai"))
    hidden.report_visibility = ReportVisibility.LINK
    db.session.commit()
    assert "public-interest AI" not in client.get("/reports").get_data(as_text=True)
    hidden.report_visibility = ReportVisibility.PUBLIC
    db.session.commit()
    demo = client.get("/c/demo-unacceptable-ai-uses/report").get_data(as_text=True)
    assert "Simulated data." in demo and "Where each group draws the line" in demo
    assert 'role="img"' in demo and "<caption>Opinion groups and their sizes</caption>" in demo
    for slug in ("public-interest-ai", "unacceptable-ai-uses"):
        assert "Simulated data." not in client.get(f"/c/{slug}/report").get_data(as_text=True)
        out = runner.invoke(args=["demo-votes", slug, "--participants", "120", "--seed", "5"])
        assert out.exit_code == 0, out.output
        page = client.get(f"/c/{slug}/report")
        html = page.get_data(as_text=True)
        assert page.status_code == 200 and "Simulated data." in html and "Opinion groups" in html
        assert "Common ground" in html and "◆ robust" in html
        assert "Simulated data:" in client.get(f"/c/{slug}").get_data(as_text=True)
    assert "Simulated data" in client.get("/").get_data(as_text=True)


@pytest.mark.slow
def test_reports_of_real_polis_conversations(client, shared_conversations):
    for folder, consultation in shared_conversations:
        page = client.get(f"/c/{consultation.slug}/report")
        html = page.get_data(as_text=True)
        assert page.status_code == 200, folder.name
        assert "CC BY 4.0" in html and "Opinion groups" in html, folder.name
        data = client.get(f"/c/{consultation.slug}/report.json").get_json()["report"]
        assert data["ready"] and len(data["groups"]) >= 2, folder.name
        export = read_conversation(folder)
        # The report counts votes on the statements it shows: not rejected, not meta, and accepted if pre-moderated.
        pre = consultation.moderation == ModerationMode.PRE
        shown = [s.id for s in export.statements if not s.is_meta and s.moderated >= (1 if pre else 0)]
        # ...nor statements about the participant ("I voted to Remain"), marked meta at import
        shown = [s.id for s in export.statements if s.id in shown and not is_about_participants(s.text)]
        assert data["counts"]["votes"] == np.isin(export.latest().statement_ids, shown).sum(), folder.name


@pytest.mark.parametrize("suffix", ["", ".json", ".csv"])
def test_unknown_consultation_is_404(client, suffix):
    assert client.get(f"/c/missing/report{suffix}").status_code == 404


def _own(consultation, account):
    from participate.models import ConsultationOwner

    db.session.add(ConsultationOwner(consultation_id=consultation.id, account_id=account.id))
    db.session.commit()


def test_staff_read_private_reports_and_publish(client, other_client, make_consultation, login):
    consultation, _, _ = make_hand_consultation(make_consultation)
    consultation.report_visibility = ReportVisibility.PRIVATE
    db.session.commit()
    owner = login(client, "facilitator", email="owner@example.org")
    _own(consultation, owner)
    login(other_client, "facilitator", email="someone-else@example.org")
    assert other_client.get("/c/hand/report").status_code == 403
    assert other_client.post_form("/c/hand/report/publish", {}).status_code == 403
    page = client.get("/c/hand/report").get_data(as_text=True)
    assert "Publish a frozen snapshot" in page
    response = client.post_form("/c/hand/report/publish", {})
    assert response.status_code == 302 and response.location.startswith("/r/")
    assert client.get(response.location).status_code == 200
    assert other_client.get(response.location).status_code == 403
    assert "1 published snapshot" in client.get("/c/hand/report").get_data(as_text=True)
    assert "published snapshot" not in other_client.get("/c/hand/report").get_data(as_text=True)
    published = db.session.scalar(select(ReportSnapshot))
    assert published.published_by_id == owner.id


def test_admins_read_every_report(client, make_consultation, login):
    consultation = make_consultation()
    consultation.report_visibility = ReportVisibility.PRIVATE
    db.session.commit()
    login(client, "admin")
    assert client.get("/c/test/report").status_code == 200


def test_facilitators_edit_themes_and_the_grid_follows(client, other_client, make_consultation, login):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    assert client.get("/c/hand/report/themes").status_code == 403
    owner = login(client, "facilitator", email="owner@example.org")
    _own(consultation, owner)
    login(other_client, "facilitator", email="someone-else@example.org")
    assert other_client.post_form("/c/hand/report/themes", {f"themes-{sids[1]}": "x"}).status_code == 403
    assert client.get("/c/hand/report/themes").status_code == 200
    form = {f"themes-{sids[1]}": "use:policing, condition:never", f"themes-{sids[2]}": "use:policing,condition:appeal"}
    response = client.post_form("/c/hand/report/themes", form)
    assert response.status_code == 302
    assert sorted(db.session.get(Statement, sids[2]).theme_names) == ["condition:appeal", "use:policing"]
    html = client.get("/c/hand/report").get_data(as_text=True)
    assert "Where each group draws the line" in html and "policing" in html
    too_long = client.post_form("/c/hand/report/themes", {f"themes-{sids[3]}": "x" * 61})
    assert too_long.status_code == 400 and "longer than 60 characters" in too_long.get_data(as_text=True)
    assert db.session.get(Statement, sids[3]).theme_names == []
    flask_babel.refresh()  # the test's app context outlives each request and would keep the English locale
    welsh = client.post_form("/c/hand/report/themes?lang=cy", {f"themes-{sids[3]}": "x" * 61})
    assert welsh.status_code == 400 and "yn hwy na 60 nod" in welsh.get_data(as_text=True)


def test_recruitment_described_by_the_facilitator_replaces_the_self_selected_caveat(client, make_consultation):
    consultation = make_consultation()
    html = client.get(f"/c/{consultation.slug}/report").text
    assert "a self-selected group" in html
    consultation.recruitment = "A panel of 1,000 adults <recruited> by a polling company"
    db.session.commit()
    html = client.get(f"/c/{consultation.slug}/report").text
    assert "a self-selected group" not in html
    assert "A panel of 1,000 adults &lt;recruited&gt; by a polling company" in html


def test_while_checks_wait_the_page_says_which_earlier_analysis_it_shows(client, make_consultation):
    consultation, sids, _ = make_hand_consultation(make_consultation)
    checked = store.latest_snapshot(db.session, consultation)
    for i in range(3):
        factories.cast(db.session, consultation, f"late-{i}", sids[0], DISAGREE)
    runner.analyse(db.session, consultation.id, more_coming=lambda: True)  # a newer snapshot, not checked yet
    text = _text(client.get("/c/hand/report").get_data(as_text=True))
    assert f"over {len(hand_votes())} votes (snapshot {checked.id}). 3 newer votes are not included yet." in text
    assert "◆ robust" in text and "not checked yet" not in text
