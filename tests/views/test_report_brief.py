"""The report's brief (JSON and page): every figure in it recomputed here from the votes, independently of the report.

The only thing taken from the analysis is who is in which opinion group (that is the analysis); every tally,
share and ranking is recounted from the ``current_vote`` rows.
"""

import re
from collections import Counter, defaultdict

import pytest
from sqlalchemy import select

from participate.extensions import db
from participate.models import (
    AnalysisSnapshot,
    Consultation,
    CurrentVote,
    ModerationState,
    Statement,
    VoteValue,
)
from participate.services import publishing, simulate
from participate.services.snapshots import SnapshotView, runner
from tests import factories

FLOOR, GROUP_FLOOR = 20, 5  # the evidence floors: a claim about everyone, about one group
BRIEF_KEYS = {"headline", "common_ground", "divisions", "groups", "caveats"}
JARGON = ("Pol.is score", "Jeffreys", "silhouette", "z >", "repness", "bootstrap")


def pct(n: int, d: int) -> int:
    return int(100 * n / d + 0.5) if d else 0


def recount(consultation: Consultation, snapshot_id: int):
    """Tallies recounted from the votes on the statements a report counts: everyone's {sid: Counter}, per group
    {label: {sid: Counter}}, the view, and the people who voted on them."""
    snapshot = db.session.get(AnalysisSnapshot, snapshot_id)
    view = SnapshotView.from_result(snapshot.result)
    label_of = {p: g.label for g in view.groups for p in g.members}
    everyone: dict[int, Counter] = defaultdict(Counter)
    by_group: dict[str, dict[int, Counter]] = defaultdict(lambda: defaultdict(Counter))
    people = set()
    rows = db.session.execute(
        select(CurrentVote.participant_id, CurrentVote.statement_id, CurrentVote.value).where(
            CurrentVote.consultation_id == consultation.id
        )
    )
    shown = shown_statements(consultation)
    for pid, sid, value in rows:
        if sid not in shown:
            continue
        people.add(pid)
        kind = "agree" if value > 0 else "disagree" if value < 0 else "pass"
        everyone[sid][kind] += 1
        everyone[sid]["votes"] += 1
        if pid in label_of:
            by_group[label_of[pid]][sid][kind] += 1
            by_group[label_of[pid]][sid]["votes"] += 1
    return everyone, by_group, view, people


def shown_statements(consultation: Consultation) -> dict[int, str]:
    """What a report may show: not rejected, not meta (the moderation rule the report applies)."""
    rows = db.session.scalars(select(Statement).where(Statement.consultation_id == consultation.id)).all()
    return {s.id: s.text for s in rows if s.moderation != ModerationState.REJECTED and not s.is_meta}


def check_brief(client, consultation: Consultation) -> dict:
    """Fetch the JSON and check every figure of its brief against a recount; returns the brief."""
    body = client.get(f"/c/{consultation.slug}/report.json").get_json()
    brief, data = body["brief"], body["report"]
    assert set(brief) >= BRIEF_KEYS
    everyone, by_group, view, people = recount(consultation, data["analysis"]["snapshot_id"])
    n_votes = sum(c["votes"] for c in everyone.values())
    assert f"{len(people):,} " in brief["asked"] and f"{n_votes:,} vote" in brief["asked"]
    texts = shown_statements(consultation)
    labels = [g.label for g in view.groups_by_label]

    def check_item(item, *, side):
        sid = item["statement_id"]
        assert texts[sid] == item["text"]  # only statements the report may show, as written
        assert item["everyone"]["agree"] == everyone[sid]["agree"]
        assert item["everyone"]["votes"] == everyone[sid]["votes"]
        assert [t["label"] for t in item["groups"]] == labels
        shares = []
        for t in item["groups"]:
            counted = by_group[t["label"]][sid]
            assert (t["agree"], t["disagree"], t["votes"]) == (counted["agree"], counted["disagree"], counted["votes"])
            if counted["votes"] >= GROUP_FLOOR:  # a group below the floor gets no share in the sentence
                shares.append(pct(counted[side], counted["votes"]))
        if shares:
            assert f"{min(shares)}%" in item["sentence"] and f"{max(shares)}%" in item["sentence"]
        return shares

    for item in brief["headline"]:
        check_item(item, side="agree")
        assert (
            f"{pct(everyone[item['statement_id']]['agree'], everyone[item['statement_id']]['votes'])}%"
            in (item["sentence"])
        )
    for item in brief["common_ground"]:
        check_item(item, side="agree")
        assert all(2 * t["agree"] > t["votes"] for t in item["groups"])
    for item in brief["rejected"]:
        check_item(item, side="disagree")
        assert all(2 * t["disagree"] > t["votes"] for t in item["groups"])
    # Common ground is exactly the statements every group agrees with by a majority (up to the list's length).
    common = {
        sid
        for sid in texts
        if sid in view.statement_ids
        and everyone[sid]["votes"] >= FLOOR
        and all(2 * by_group[label][sid]["agree"] > by_group[label][sid]["votes"] >= GROUP_FLOOR for label in labels)
    }
    assert {i["statement_id"] for i in brief["common_ground"]} <= common
    assert len(brief["common_ground"]) == min(len(common), 5)
    # Where they divide: the widest gaps in agreement between groups, largest first, named in the sentence.
    gaps = []
    for item in brief["divisions"]:
        check_item(item, side="agree")
        sid = item["statement_id"]
        shares = {
            label: by_group[label][sid]["agree"] / by_group[label][sid]["votes"]
            for label in labels
            if by_group[label][sid]["votes"] >= GROUP_FLOOR
        }
        high, low = max(shares, key=shares.get), min(shares, key=shares.get)
        assert re.search(
            rf"Group {high}\b.*{pct(by_group[high][sid]['agree'], by_group[high][sid]['votes'])}%", item["sentence"]
        )
        assert re.search(
            rf"Group {low}\b.*{pct(by_group[low][sid]['agree'], by_group[low][sid]['votes'])}%", item["sentence"]
        )
        gaps.append(shares[high] - shares[low])
    assert gaps == sorted(gaps, reverse=True)
    # Each group: its size and share of the people grouped, and the figures of the statement its sentence quotes.
    grouped = sum(g.size for g in view.groups)
    assert [g["label"] for g in brief["groups"]] == labels
    for g, group in zip(brief["groups"], view.groups_by_label, strict=True):
        assert g["size"] == len(group.members)
        assert g["summary"].startswith(f"Group {g['label']}")
        assert f"{pct(g['size'], grouped)}% of the people in groups ({g['size']:,} " in g["summary"]
        quoted = re.findall(r"“([^”]+)” \((\d+)%", g["summary"])
        for text, share in quoted:
            sid = next(s for s, t in texts.items() if t.strip().rstrip(".") == text)
            counted = by_group[g["label"]][sid]
            assert int(share) in (pct(counted["agree"], counted["votes"]), pct(counted["disagree"], counted["votes"]))
    words = " ".join([brief["asked"], *brief["caveats"], *brief["certainty"]] + [g["summary"] for g in brief["groups"]])
    words += " ".join(i["sentence"] for k in ("headline", "common_ground", "rejected", "divisions") for i in brief[k])
    assert not [j for j in JARGON if j in words]
    return brief


def plain(html: str) -> str:
    """The page's text as the brief's JSON writes it: without the spans that mark the statements' language."""
    return re.sub(r"</?span[^>]*>", "", html).replace("&#34;", '"').replace("&#39;", "'")


def test_the_demo_brief_matches_a_recount_and_names_its_caveats(app, client):
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    demo = db.session.scalar(select(Consultation).where(Consultation.slug == simulate.DEMO_SLUG))
    brief = check_brief(client, demo)
    assert brief["headline"] and brief["groups"] and brief["divisions"]
    assert any("Simulated data" in c for c in brief["caveats"])
    assert any("not a representative sample" in c for c in brief["caveats"])
    assert not any("small sample" in c for c in brief["caveats"]), "500 people is not called small"
    assert any("of every 100 re-draws" in line for line in brief["certainty"])
    page = client.get(f"/c/{demo.slug}/report").get_data(as_text=True)
    top = page[page.index('id="brief-heading"') : page.index('id="annex-heading"')]
    assert not [j for j in JARGON if j in top], "the brief on the page has no jargon"
    assert (
        "Headline statements" in top
        and "Where they divide" in top
        and brief["groups"][0]["summary"]
        in re.sub(r"</?span[^>]*>", "", top).replace("&#34;", '"').replace("&#39;", "'")
    )
    assert re.search(r"<dd>\d{1,3}(,\d{3})+</dd>", page), "big numbers carry thousands separators"
    visible = re.sub(r"<[^>]+>", " ", page)
    assert "Where each group draws the line" in visible and not re.search(r"\b(use|condition):", visible), "labels"
    published = publishing.publish(db.session, demo)
    frozen = client.get(f"/r/{published.token}.json").get_json()["brief"]
    assert frozen["groups"] == brief["groups"] and frozen["headline"] == brief["headline"]


def test_a_small_consultation_below_the_threshold_says_so_plainly(client, make_consultation):
    consultation = make_consultation()
    sid = consultation.statements[0].id
    for i, value in enumerate([VoteValue.AGREE, VoteValue.AGREE, VoteValue.DISAGREE, VoteValue.PASS]):
        factories.cast(db.session, consultation, f"p{i}", sid, value)
    runner.analyse(db.session, consultation.id)
    brief = client.get("/c/test/report.json").get_json()["brief"]
    assert brief["headline"] == brief["common_ground"] == brief["divisions"] == brief["groups"] == []
    assert brief["asked"].startswith("4 people took part")
    assert any("small sample (4 people)" in c for c in brief["caveats"])
    assert any("need 7 people who each voted on 3 statements (0 so far)" in c for c in brief["caveats"])


def test_group_names_are_set_by_facilitators_only_and_appear_in_the_brief(app, client, login):
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    url = f"/c/{simulate.DEMO_SLUG}/report/groups"
    assert client.get(url).status_code == 403
    assert client.post_form(url, {"name-A": "Sceptics"}).status_code == 403
    login(client, "admin")
    assert client.post(url, data={"name-A": "Sceptics"}).status_code == 400, "no CSRF token, nothing stored"
    page = client.get(url)
    assert page.status_code == 200 and 'name="name-A"' in page.get_data(as_text=True)
    refused = client.post_form(url, {"name-A": "x" * 61})
    assert refused.status_code == 400 and "longer than 60 characters" in refused.get_data(as_text=True)
    assert client.post_form(url, {"name-A": "  Cautious   adopters "}).status_code == 302
    brief = client.get(f"/c/{simulate.DEMO_SLUG}/report.json").get_json()["brief"]
    assert brief["groups"][0]["name"] == "Cautious adopters"
    assert brief["groups"][0]["summary"].startswith("Group A (“Cautious adopters”), ")
    assert brief["groups"][1]["name_confirmed"] is False, "the other group keeps its generated name, unconfirmed"


def test_brief_in_welsh(app, client):
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    brief = client.get(f"/c/{simulate.DEMO_SLUG}/report.json?lang=cy").get_json()["brief"]
    assert brief["asked"].startswith("Cymerodd ")
    assert brief["groups"][0]["summary"].startswith("Grŵp A")
    assert "Data efelychiedig" in brief["caveats"][0]


@pytest.mark.slow  # the real conversations: a report each
def test_briefs_of_real_polis_conversations_match_a_recount(client, shared_conversations):
    for folder, consultation in shared_conversations:
        brief = check_brief(client, consultation)
        assert brief["groups"], folder.name
