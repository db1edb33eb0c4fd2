"""Benchmark what the analysis runner and the report page cost, on SQLite, in this process.

Usage::

    .venv/bin/python bench/report.py [--participants 2000] [--statements 40] [--repeat 7] [--polis PATH]

1. A consultation of ``--participants`` simulated voters and ``--statements`` statements, analysed once; then, median
   of ``--repeat`` (wall and CPU time): ``store.compute_snapshot``, ``checks.compute_robustness``,
   ``integrity.compute``, and ``runner.analyse`` while more votes are coming (a snapshot alone) and once voting has
   paused (a snapshot and its checks).
2. On the demo consultation, or with ``--polis`` on a Pol.is export folder (e.g.
   ``../shared/data/polis/american-assembly.bowling-green``): ``report.build`` and the report page (HTML, JSON, PDF),
   the first request (built) and the median of the repeats (served from the per-process caches).

Each timing prints one machine-readable line ``RESULT what=<name> wall_ms=<x> cpu_ms=<x>``. Last, the report's PDF:
its first build in CPU seconds (every cache cleared), a download served from the cache (median wall seconds), and
the pages before the annex (the brief, in English and Welsh, the larger), as the final line
``RESULT pdf_first_s=<x> pdf_cached_s=<x> pages_brief=<n>``.

Measured on the 2-core development machine (busy), wall time. 2,000 people and 40 statements: a snapshot 0.18 s,
robustness 0.11 s, integrity 0.38 s; ``analyse`` 0.09 s while votes keep coming, 0.74 s once they pause. Before the
checks waited for a pause and votes were read by ``np.fromiter``: snapshot 0.83 s, robustness 0.86 s, integrity
1.17 s, every run 2.8 s. bowling-green (2,031 people, 896 statements): ``report.build`` 0.65 s built, 7 ms cached;
the page 0.90 s and 0.14 s; its JSON 0.64 s and 35 ms.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

import bench_setup  # noqa: F401  (first: it puts the project on sys.path)
from flask_migrate import upgrade
from pypdf import PdfReader
from sqlalchemy import delete

from participate import create_app
from participate.extensions import db
from participate.models import (
    Consultation,
    ConsultationStatus,
    ModerationMode,
    ReportVisibility,
    SharedCache,
)
from participate.services import polis_exchange, report, simulate
from participate.services import statements as statement_service
from participate.services.snapshots import checks, integrity, runner, store


def timed(name: str, repeat: int, call) -> float:
    """Print the median wall and CPU time of ``repeat`` calls; the median wall time in ms."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        db.session.remove()
    wall_ms, cpu_ms = sorted(walls)[repeat // 2] * 1000, sorted(cpus)[repeat // 2] * 1000
    print(f"{name:34s} wall {wall_ms:8.1f} ms   CPU {cpu_ms:8.1f} ms")
    print(f"RESULT what={name} wall_ms={wall_ms:.1f} cpu_ms={cpu_ms:.1f}")
    return wall_ms


def ratio(what: str, measured: float, baseline: float) -> None:
    print(f"{what}: {measured / baseline:.2f} of the baseline ({baseline / measured:.1f}x faster)")


def runner_costs(participants: int, statements: int, repeat: int) -> None:
    consultation = Consultation(
        slug="bench",
        title="Benchmark",
        question="What does an analysis run cost?",
        status=ConsultationStatus.OPEN,
        moderation=ModerationMode.POST,
    )
    db.session.add(consultation)
    db.session.flush()
    db.session.add_all(statement_service.seed(consultation.id, f"Statement {i + 1}") for i in range(statements))
    db.session.commit()
    simulate.simulate_votes(db.session, consultation, participants, seed=1)
    cid = consultation.id
    runner.analyse(db.session, cid)  # a previous snapshot to warm-start from, as under voting

    def latest():
        return store.latest_snapshot(db.session, cid)

    timed("compute_snapshot", repeat, lambda: store.compute_snapshot(db.session, cid))
    timed("compute_robustness", repeat, lambda: checks.compute_robustness(db.session, latest()))
    timed("integrity.compute", repeat, lambda: integrity.compute(db.session, latest()))
    busy = timed("analyse_more_coming", repeat, lambda: runner.analyse(db.session, cid, more_coming=lambda: True))
    quiet = timed("analyse_quiet", repeat, lambda: runner.analyse(db.session, cid))
    ratio("a run while votes keep coming vs a run with its checks (baseline)", busy, quiet)


def brief_pages(pdf: bytes) -> int:
    """Pages before the annex (title block, header and brief): the page of the annex's heading, counted from 0."""
    reader = PdfReader(io.BytesIO(pdf))
    return reader.get_destination_page_number(reader.named_destinations["annex-heading"])


def pdf_costs(app, consultation: Consultation, repeat: int) -> tuple[float, float, int]:
    """The PDF's first build (CPU seconds, every cache cleared), a cached download (median wall seconds), and the
    brief's pages in English and in Welsh (the larger)."""
    client = app.test_client()
    url = f"/c/{consultation.slug}/report.pdf"
    pages = 0
    for lang in ("cy", "en"):  # English last: its timings are the ones reported
        report.forget_built()
        db.session.execute(delete(SharedCache).where(SharedCache.key.like("pdf:%")))  # the shared PDF cache
        db.session.commit()
        cpu = time.process_time()
        response = client.get(f"{url}?lang={lang}")
        first = time.process_time() - cpu
        assert response.status_code == 200, response.status_code
        pages = max(pages, brief_pages(response.data))
    walls = []
    for _ in range(repeat):
        wall = time.perf_counter()
        client.get(f"{url}?lang=en")
        walls.append(time.perf_counter() - wall)
    return first, sorted(walls)[repeat // 2], pages


def report_costs(app, consultation: Consultation, repeat: int) -> None:
    runner.analyse(db.session, consultation.id)
    cid, slug = consultation.id, consultation.slug
    client = app.test_client()
    for name, call in (
        ("report.build", lambda: report.build(db.session, db.session.get(Consultation, cid))),
        ("GET_report", lambda: client.get(f"/c/{slug}/report")),
        ("GET_report_json", lambda: client.get(f"/c/{slug}/report.json")),
    ):
        report.forget_built()
        db.session.execute(delete(SharedCache))  # built reports and PDFs shared between processes
        db.session.commit()
        first = timed(f"{name}_first", 1, call)
        again = timed(f"{name}_again", repeat, call)
        ratio(f"{name} from the cache vs built (baseline)", again, first)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--polis", type=Path, help="a Pol.is export folder for the report timings")
    parser.add_argument("--pdf-only", action="store_true", help="time the PDF only (skip steps 1 and 2)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="participate-bench-") as tmp:
        database = f"sqlite:///{tmp}/bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": "bench", "ANALYSIS_RUNNER": "sync"})
        with app.app_context():
            upgrade()
            if not args.pdf_only:
                runner_costs(args.participants, args.statements, args.repeat)
            if args.polis:
                consultation = polis_exchange.import_export(db.session, args.polis, slug="polis")
            else:
                consultation = simulate.load_demo(db.session)
            if args.pdf_only:
                runner.analyse(db.session, consultation.id)
            else:
                report_costs(app, consultation, args.repeat)
            consultation.report_visibility = ReportVisibility.PUBLIC  # an import's report is private
            db.session.commit()
            first, cached, pages = pdf_costs(app, consultation, args.repeat)
            db.session.remove()
            db.engine.dispose()
    print(f"PDF: first build {first:.2f} s of CPU, from the cache {cached * 1000:.1f} ms, brief {pages} pages")
    print(f"RESULT pdf_first_s={first:.2f} pdf_cached_s={cached:.3f} pages_brief={pages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
