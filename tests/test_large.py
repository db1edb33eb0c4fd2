"""A million-vote consultation imported through the web form as a job; its staff pages and ``mine.json`` then do
no heavy work on the request path (spies on every builder, and the SQL each request sends, counted).

Slow: the import and the analysis of a million votes take minutes (``PARTICIPATE_LARGE_VOTES`` sets another size).
The seconds are measured by ``bench/large.py``, not asserted here.
"""

import importlib.util
import io
import os
from pathlib import Path

import pytest
from sqlalchemy import event, select

from participate.extensions import db
from participate.models import Consultation, Job, JobStatus, ReportVisibility
from tests import factories

VOTES = int(os.environ.get("PARTICIPATE_LARGE_VOTES", 1_000_000))
BENCH = Path(__file__).resolve().parents[1] / "bench" / "large.py"
MAX_STATEMENTS = 40  # SQL statements one request may send (the slowest page sends about 20)

pytestmark = pytest.mark.slow


def _synthetic_export(votes: int) -> bytes:
    spec = importlib.util.spec_from_file_location("bench_large", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.synthetic_export(votes, 100)


def test_a_million_votes_import_as_a_job_and_every_staff_page_only_reads(
    app, client, other_client, login, queued, no_heavy_work, tmp_path
):
    app.config["JOBS_FOLDER"] = str(tmp_path / "jobs")
    app.config["LARGE_VOTES"] = min(app.config["LARGE_VOTES"], VOTES // 2)  # a smaller run takes the same path
    login(client, "admin")
    form = {"export": (io.BytesIO(_synthetic_export(VOTES)), "large.zip"), "slug": "large"}
    response = client.post_form("/facilitate/import", form, content_type="multipart/form-data")
    assert response.status_code == 302 and "/facilitate/jobs/" in response.headers["Location"]
    assert client.get(response.headers["Location"]).status_code == 200  # progress, while it waits
    factories.run_queued()  # a worker imports it, then analyses it (the sync runner) and builds its report
    assert db.session.scalar(select(Job.status).where(Job.kind == "import")) == JobStatus.DONE
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == "large"))
    consultation.report_visibility = ReportVisibility.PUBLIC
    db.session.commit()

    no_heavy_work()
    sent = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    pages = {
        "overview": lambda: client.get("/facilitate/large"),
        "monitor": lambda: client.get("/facilitate/large/monitor"),
        "moderation": lambda: client.get("/facilitate/large/moderate"),
        "report": lambda: client.get("/c/large/report"),
        "export": lambda: client.get("/facilitate/large/export.zip"),
        "pdf": lambda: client.get("/c/large/report.pdf"),
        "publish": lambda: client.post_form("/c/large/report/publish", {}),
        "mine.json": lambda: other_client.get("/c/large/mine.json"),
    }
    for name, request in pages.items():
        sent.clear()
        status = request().status_code
        assert status in (200, 202, 302), (name, status)
        assert len(sent) <= MAX_STATEMENTS, (name, len(sent))
    assert set(queued) >= {"monitor", "pdf", "export", "publish"}
