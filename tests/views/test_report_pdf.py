"""The report as a PDF document: tagged, numbered pages, the brief within two pages, nothing off the page, cached."""

import io
import re

import pytest
import weasyprint
from pypdf import PdfReader
from sqlalchemy import select
from weasyprint.formatting_structure import boxes

from participate.extensions import db
from participate.models import Consultation, VoteValue
from participate.services import simulate
from participate.services.snapshots import runner
from tests import factories

BRIEF_PAGES = 2  # the brief fits two A4 pages (the title block and header included)


@pytest.fixture
def layouts(monkeypatch):
    """The layouts WeasyPrint computes while the view builds a PDF (its pages and boxes)."""
    found = []
    render = weasyprint.HTML.render

    def spy(self, *args, **kwargs):
        document = render(self, *args, **kwargs)
        found.append(document)
        return document

    monkeypatch.setattr(weasyprint.HTML, "render", spy)
    return found


def overflowing(document) -> list[str]:
    """Text and tables that reach past the page's content area (with half a point of slack)."""
    out = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        right = page_box.margin_width() - page_box.margin_right - page_box.padding_right
        left = page_box.margin_left
        for box in page_box.descendants():
            if not isinstance(box, (boxes.TextBox, boxes.TableBox, boxes.ReplacedBox)):
                continue
            if box.position_x < left - 0.5 or box.position_x + box.margin_width() > right + 0.5:
                text = getattr(box, "text", type(box).__name__)
                out.append(
                    f"page {number}: {text[:40]!r} at {box.position_x:.0f}+{box.margin_width():.0f} > {right:.0f}"
                )
    return out


def check_pdf(client, url: str, layouts, *, footer: str = "page {n} of {m}", annex: str = "Details and methods"):
    """Fetch the PDF at ``url``; check it is tagged, every page footed, the brief short and nothing off the page."""
    layouts.clear()
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(response.data))
    root = pdf.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in root, "a tagged PDF"
    assert root["/Lang"]
    pages = [page.extract_text() for page in pdf.pages]
    for n, text in enumerate(pages, start=1):
        assert footer.format(n=n, m=len(pages)) in text, f"page {n} has no footer"
    annex_page = next(n for n, text in enumerate(pages, start=1) if annex in text)
    assert annex_page <= BRIEF_PAGES + 1, f"the brief ends on page {annex_page - 1}"
    assert len(layouts) == 1, "one layout per build"
    assert not overflowing(layouts[0])
    return response, pages


@pytest.mark.slow  # two layouts of the demo's whole report: seconds each (test_pdf_below_the_threshold stays fast)
def test_demo_pdf_is_a_tagged_document_with_the_brief_first_and_is_served_from_the_cache(app, client, layouts):
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    url = f"/c/{simulate.DEMO_SLUG}/report.pdf"
    first, pages = check_pdf(client, url, layouts)
    assert "Votes (SHA-256)" in pages[0] and "Code version" in pages[0] and "In brief" in pages[0]
    assert re.search(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])", pages[0].replace("\n", "")), (
        "the votes' hash in the title block"
    )
    layouts.clear()
    again = client.get(url)
    assert again.data == first.data and not layouts, "served from the cache: not laid out again"
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == simulate.DEMO_SLUG))
    consultation.title = "Renamed demo"
    db.session.commit()
    assert client.get(url).data != first.data and len(layouts) == 1, "a change to what it shows rebuilds it"


@pytest.mark.slow  # a layout of the demo's whole report
def test_welsh_pdf_is_footed_in_welsh(app, client, layouts):
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    _, pages = check_pdf(
        client,
        f"/c/{simulate.DEMO_SLUG}/report.pdf?lang=cy",
        layouts,
        footer="tudalen {n} o {m}",
        annex="Manylion a dulliau",
    )
    assert "Yn gryno" in pages[0]


def test_pdf_below_the_threshold(client, make_consultation, layouts):
    consultation = make_consultation()
    factories.cast(db.session, consultation, "p1", consultation.statements[0].id, VoteValue.AGREE)
    runner.analyse(db.session, consultation.id)
    _, pages = check_pdf(client, "/c/test/report.pdf", layouts)
    assert "Opinion groups are not shown yet" in " ".join(pages)


@pytest.mark.slow  # the real conversations: a report and its PDF each
def test_pdfs_of_real_polis_conversations(client, shared_conversations, layouts):
    for _, consultation in shared_conversations:
        check_pdf(client, f"/c/{consultation.slug}/report.pdf", layouts)
