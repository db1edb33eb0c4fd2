"""Benchmark a million-vote consultation's staff pages while its long work runs as jobs behind them.

Usage::

    .venv/bin/python bench/large.py [--votes 1000000] [--statements 100] [--database sqlite|URL]

1. Writes a synthetic Pol.is export (three latent opinion groups, ``--statements`` statements, each participant
   voting on half of them, ``--votes`` votes in all) as a zip, and imports it through the web form as a job
   (Flask's test client, the default ``thread`` runner: jobs and analyses run in background threads of this process,
   as in a web process of a production server without Redis).
2. While the import job, then the analysis, then the jobs the pages start run behind them, times every staff page
   (overview, monitor, moderation, report, export, PDF, publish) and ``mine.json`` for a new voter, again and again
   until the jobs are done, then once more with everything built.

Prints each request as ``page status wall_ms cpu_ms`` (cpu_ms: CPU time of the request's thread) and ends with
``RESULT votes=<n> import_request_s=<x> import_job_s=<x> analysis_s=<x> max_staff_page_s=<x> mine_json_ms=<x>``
(the slowest staff page and the slowest ``mine.json`` of the whole run).
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PASSWORD = "correct horse battery staple"
EMAIL = "bench@example.org"


def synthetic_export(votes: int, statements: int, *, seed: int = 0) -> bytes:
    """A Pol.is export zip of about ``votes`` votes: people in three latent groups, each voting on half the
    statements (agree with their group's leaning, else disagree or pass), one vote each."""
    rng = np.random.default_rng(seed)
    people = max(1, round(votes / (statements / 2)))
    leaning = rng.uniform(0.1, 0.9, size=(3, statements))  # each group's chance of agreeing with each statement
    group = rng.integers(0, 3, size=people)
    rows = []
    start = 1_700_000_000
    for pid in range(people):
        seen = rng.choice(statements, size=statements // 2, replace=False)
        draw = rng.random(len(seen))
        p = leaning[group[pid], seen]
        value = np.where(draw < p, 1, np.where(draw < p + (1 - p) * 0.8, -1, 0))
        stamp = start + pid * 3
        rows.extend(f"{stamp * 1000},,{sid},{pid},{v}" for sid, v in zip(seen.tolist(), value.tolist(), strict=True))
        if len(rows) >= votes:
            break
    rows = rows[:votes]
    comments = ["timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body"]
    comments += [f"{start * 1000},,{sid},0,0,0,1,Synthetic statement number {sid}" for sid in range(statements)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("large/comments.csv", "\n".join(comments) + "\n")
        archive.writestr("large/votes.csv", "timestamp,datetime,comment-id,voter-id,vote\n" + "\n".join(rows) + "\n")
        archive.writestr("large/summary.csv", "topic,A synthetic million-vote consultation\n")
    return buffer.getvalue()


def _csrf(client) -> str:
    return client.get("/api/v1/session").get_json()["csrf_token"]


class Timer:
    def __init__(self):
        self.rows: list[tuple[str, int, float, float]] = []

    def __call__(self, name: str, call):
        wall, cpu = time.perf_counter(), time.thread_time()
        response = call()
        wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
        self.rows.append((name, response.status_code, wall, cpu))
        print(f"{name:12s} {response.status_code} {wall * 1000:8.0f} {cpu * 1000:8.0f}", flush=True)
        response.close()
        return response

    def worst(self, names) -> float:
        return max((wall for name, _, wall, _ in self.rows if name in names), default=0.0)


def staff_round(timer: Timer, client, anonymous, slug: str, export: list[str]) -> None:
    """One visit to every staff page; the export is asked for once, then its status page is read (as its
    refreshing page does), so the run ends when the jobs do."""
    timer("overview", lambda: client.get(f"/facilitate/{slug}"))
    timer("monitor", lambda: client.get(f"/facilitate/{slug}/monitor"))
    timer("moderation", lambda: client.get(f"/facilitate/{slug}/moderate"))
    timer("report", lambda: client.get(f"/c/{slug}/report"))
    if export:
        timer("export", lambda: client.get(export[0]))
    else:
        export.append(timer("export", lambda: client.get(f"/facilitate/{slug}/export.zip")).headers["Location"])
    timer("pdf", lambda: client.get(f"/c/{slug}/report.pdf"))
    timer("mine.json", lambda: anonymous().get(f"/c/{slug}/mine.json"))


STAFF = ("overview", "monitor", "moderation", "report", "export", "pdf", "publish")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--votes", type=int, default=1_000_000)
    parser.add_argument("--statements", type=int, default=100)
    parser.add_argument("--database", default="sqlite", help="sqlite (a temporary file) or a database URL")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the jobs")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from participate import background, create_app, jobs
    from participate.extensions import db
    from participate.models import Consultation, Job, JobStatus, ReportVisibility, Role
    from participate.services import accounts

    folder = Path(tempfile.mkdtemp(prefix="participate-large-"))
    url = f"sqlite:///{folder / 'large.sqlite'}" if args.database == "sqlite" else args.database
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "ANALYSIS_RUNNER": "thread",
            "JOBS_FOLDER": str(folder / "jobs"),
            "PDF_RATE_LIMIT": "1000 per minute",  # the benchmark asks for the PDF every round
        }
    )
    with app.app_context():
        upgrade()
        accounts.create(db.session, EMAIL, PASSWORD, Role.ADMIN)
        db.session.remove()

    t = time.perf_counter()
    data = synthetic_export(args.votes, args.statements)
    print(f"export written: {len(data) / 1e6:.1f} MB zipped in {time.perf_counter() - t:.1f} s", flush=True)

    client = app.test_client()
    client.post("/login", data={"csrf_token": _csrf(client), "email": EMAIL, "password": PASSWORD})
    timer = Timer()
    form = {"csrf_token": _csrf(client), "export": (io.BytesIO(data), "large.zip"), "slug": "large"}
    started = time.perf_counter()
    response = timer("import", lambda: client.post("/facilitate/import", data=form, content_type="multipart/form-data"))
    import_request = timer.rows[-1][2]
    status_page = response.headers["Location"]
    job_id = status_page.rsplit("/", 1)[1]
    with app.app_context():
        while db.session.get(Job, job_id).status in (JobStatus.QUEUED, JobStatus.RUNNING):
            db.session.remove()
            timer("job status", lambda: client.get(status_page))
            time.sleep(2)
        job = db.session.get(Job, job_id)
        if job.status != JobStatus.DONE:
            sys.exit(f"the import failed: {job.error}")
        import_job = (job.finished_at - job.started_at).total_seconds()
        consultation = db.session.query(Consultation).filter_by(slug="large").one()
        consultation.report_visibility = ReportVisibility.PUBLIC  # so mine.json may show groups
        db.session.commit()
        db.session.remove()
    print(f"imported in {import_job:.1f} s (job); analysing in the background", flush=True)

    def anonymous():
        return app.test_client()

    analysed_at = None
    deadline = time.monotonic() + args.timeout
    runner = jobs.runner(app)
    published = False
    export: list[str] = []
    while time.monotonic() < deadline:
        staff_round(timer, client, anonymous, "large", export)
        if analysed_at is None:
            with app.app_context():
                analysed = db.session.execute(db.text("SELECT count(*) FROM analysis_snapshot")).scalar()
                db.session.remove()
            if analysed:
                analysed_at = time.perf_counter()
                print(f"first snapshot {analysed_at - started:.1f} s after the upload", flush=True)
        elif not published:
            timer("publish", lambda: client.post("/c/large/report/publish", data={"csrf_token": _csrf(client)}))
            published = True
        elif runner.wait_idle(timeout=0.01) and background.wait_for_jobs(timeout=0.01):
            break
        time.sleep(2)
    print("-- everything built: once more", flush=True)
    staff_round(timer, client, anonymous, "large", export)
    with app.app_context():
        failed = db.session.query(Job).filter(Job.status == JobStatus.FAILED).all()
        for job in failed:
            print(f"job {job.kind} failed: {job.error}", flush=True)
    analysis = (analysed_at - started) if analysed_at else float("nan")
    print(
        f"RESULT votes={args.votes} import_request_s={import_request:.2f} import_job_s={import_job:.1f} "
        f"analysis_s={analysis:.1f} max_staff_page_s={timer.worst(STAFF):.2f} "
        f"mine_json_ms={timer.worst(('mine.json',)) * 1000:.0f}"
    )


if __name__ == "__main__":
    main()
