"""Where a vote's web CPU goes: votes through the app in this process, under cProfile, broken down by stage.

    .venv/bin/python bench/profile_vote.py --door json --votes 600
    .venv/bin/python bench/profile_vote.py --door html --votes 300
    .venv/bin/python bench/profile_vote.py --backend postgresql --redis --door json --votes 600

The consultation is seeded as ``bench/load.py`` seeds it (40 statements, simulated voters, one analysis), then
participants each take a session and vote through the door until they run out of statements. Only the app's own
request handling (``Flask.wsgi_app``) is timed and profiled, not the test client around it. Prints CPU ms per vote
and the inclusive CPU of each stage (stages nest, so they do not add up), then the top functions by own time.
"""

import argparse
import cProfile
import pstats
import re
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from load import SECRET, SLUG, prepare_database  # noqa: E402

#: Stage → (file pattern, function name): inclusive time of the first match in the profile.
STAGES = {
    "whole request (Flask.wsgi_app)": ("flask/app.py", "wsgi_app"),
    "request context push/pop": ("flask/ctx.py", "push"),
    "session cookie open": ("flask/sessions.py", "open_session"),
    "session cookie save": ("flask/sessions.py", "save_session"),
    "CSRF check": ("flask_wtf/csrf.py", "protect"),
    "rate limits (Flask-Limiter)": ("flask_limiter/_extension.py", "_check_request_limit"),
    "rate limits (check_participation_limits)": ("participate/views/__init__.py", "check_participation_limits"),
    "  counted (participate.extensions.hit_in_order)": ("participate/extensions.py", "hit_in_order"),
    "  limits storage hit/test": ("limits/strategies.py", "hit"),
    "  new-participant exemption (gate.read)": ("views/__init__.py", "is_known_participant"),
    "NUL check (before_request)": ("participate/security.py", "_refuse_nul"),
    "Babel locale": ("flask_babel/__init__.py", "get_locale"),
    "view (api.cast_vote / vote.vote)": ("participate/views/", "cast_vote|vote"),
    "  act (acts.vote)": ("participation/acts.py", "vote"),
    "    gate (gate.enter)": ("participation/gate.py", "enter"),
    "    latest analysis (store.latest)": ("snapshots/store.py", "latest"),
    "    draw of the next statement": ("participation/draw.py", "draw"),
    "    write (votes.record)": ("participation/votes.py", "record"),
    "    new participant (identity.add)": ("participation/identity.py", "add"),
    "    commit": ("sqlalchemy/orm/scoping.py", "commit"),
    "    votes_changed signal": ("blinker/base.py", "send"),
    "  form validation (WTForms)": ("wtforms/form.py", "validate"),
    "after_request hooks": ("flask/app.py", "process_response"),
    "  security headers": ("participate/security.py", "_headers"),
    "  lang cookie / Vary": ("participate/i18n.py", "remember_choice"),
    "  participant cookie": ("views/__init__.py", "set_participant_cookie"),
    "JSON response": ("flask/json/provider.py", "response"),
    "templates (render_template)": ("flask/templating.py", "render_template"),
    "SQL executed (Connection._execute_context)": ("sqlalchemy/engine/base.py", "_execute_context"),
    "  DBAPI cursor.execute": ("sqlalchemy/engine/default.py", "do_execute"),
    "session teardown (scoped_session.remove)": ("sqlalchemy/orm/scoping.py", "remove"),
}


def _stage_times(stats: pstats.Stats) -> dict[str, float]:
    found: dict[str, float] = {}
    for stage, (file_pattern, names) in STAGES.items():
        wanted = set(names.split("|"))
        total = 0.0
        for (filename, _line, function), (_cc, _nc, _tt, ct, callers) in stats.stats.items():
            if file_pattern not in filename or function not in wanted:
                continue
            # inclusive time of calls from outside the function itself (recursion counted once)
            outside = [ct for caller, (*_, ct) in callers.items() if caller[:3:2] != (filename, function)]
            total += sum(outside) if callers else ct
        found[stage] = total
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--redis", action="store_true", help="rate-limit counters in Redis (as with PostgreSQL)")
    parser.add_argument("--door", choices=("json", "html"), default="json")
    parser.add_argument("--votes", type=int, default=600)
    parser.add_argument("--seed-participants", type=int, default=2000)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--limits", action="store_true", help="keep the real rate limits (default: load.py's)")
    parser.add_argument("--no-profile", action="store_true", help="only the CPU per vote, without cProfile")
    parser.add_argument("--dump", help="write the raw profile here (for snakeviz and friends)")
    args = parser.parse_args(argv)

    from tests.servers import PostgresCluster, RedisServer

    cleanups = []
    tmp = Path(tempfile.mkdtemp(prefix="participate-profile-"))
    if args.backend == "postgresql":
        cluster = PostgresCluster(durable=True).start()
        cleanups.append(cluster.stop)
        with cluster.admin() as admin:
            admin.execute("CREATE DATABASE participate")
        url = cluster.url("participate")
    else:
        url = f"sqlite:///{tmp / 'participate.sqlite'}"
    config = {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": SECRET,
        "ANALYSIS_RUNNER": "thread",
        "ANALYSIS_DEBOUNCE_SECONDS": 3600,  # the analysis thread waits: only the request path is measured
    }
    if not args.limits:
        config.update(
            NEW_PARTICIPANT_RATE_LIMIT="1000000 per minute",
            VOTE_RATE_LIMIT="1000000 per minute",
            STATEMENT_RATE_LIMIT="1000000 per minute",
            NEW_PARTICIPANT_DEVICE_RATE_LIMIT="1000000 per minute",
        )
    if args.redis:
        redis = RedisServer().start()
        cleanups.append(redis.stop)
        config["RATELIMIT_STORAGE_URI"] = redis.url
    try:
        print(f"seeding ({args.backend}, {args.seed_participants} simulated participants)…", flush=True)
        prepare_database(url, 40, args.seed_participants)
        from participate import create_app

        app = create_app(config)
        profile = cProfile.Profile(time.process_time)
        inner = app.wsgi_app

        def profiled(environ, start_response):
            if not measuring[0]:
                return inner(environ, start_response)
            started = time.process_time()
            if not args.no_profile:
                profile.enable()
            try:
                return inner(environ, start_response)
            finally:
                profile.disable()
                measuring[1] += time.process_time() - started

        measuring = [False, 0.0]  # measuring now, CPU seconds inside the app
        app.wsgi_app = profiled
        votes = _drive(app, args.door, args.votes, measuring)
        cpu = measuring[1]
    finally:
        for cleanup in reversed(cleanups):
            cleanup()

    if args.no_profile:
        print(f"{args.door} door, {args.backend}: {votes} votes, {cpu / votes * 1000:.2f} ms of CPU per vote")
        return 0
    stats = pstats.Stats(profile)
    print(f"\n{args.door} door, {args.backend}{' + Redis limits' if args.redis else ''}: {votes} votes, "
          f"{cpu / votes * 1000:.2f} ms of CPU per vote in Flask.wsgi_app"
          f"{'' if args.no_profile else ' (profiled: cProfile inflates it)'}\n")  # fmt: skip
    for stage, seconds in _stage_times(stats).items():
        print(f"  {stage:<46} {seconds / votes * 1000:7.3f} ms/vote")
    print()
    stats.sort_stats("tottime").print_stats(args.top)
    if args.dump:
        stats.dump_stats(args.dump)
    return 0


def _drive(app, door: str, wanted: int, measuring: list) -> int:
    """Participants vote until ``wanted`` votes (``measuring[0]`` set around each vote); how many."""
    import random

    rng = random.Random(0)
    votes = 0
    while votes < wanted:
        client = app.test_client()
        if door == "json":
            csrf = client.get("/api/v1/session").get_json()["csrf_token"]
            shown = client.get(f"/api/v1/consultations/{SLUG}/next").get_json()["statement"]
            while shown is not None and votes < wanted:
                measuring[0] = True
                response = client.post(
                    f"/api/v1/consultations/{SLUG}/votes",
                    json={"statement_id": shown["id"], "vote": rng.choice(("agree", "disagree", "pass"))},
                    headers={"X-CSRFToken": csrf},
                )
                measuring[0] = False
                assert response.status_code == 201, response.get_data(as_text=True)
                votes += 1
                shown = response.get_json()["next"]["statement"]
        else:
            page = client.get(f"/c/{SLUG}").get_data(as_text=True)
            while votes < wanted:
                found = re.search(r'name="statement_id"[^>]*value="(\d+)"', page) or re.search(
                    r'value="(\d+)"[^>]*name="statement_id"', page
                )
                if not found:
                    break
                csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
                measuring[0] = True
                response = client.post(
                    f"/c/{SLUG}/vote",
                    data={"statement_id": found.group(1), "vote": rng.choice(("agree", "disagree", "pass")),
                          "csrf_token": csrf},
                )  # fmt: skip
                assert response.status_code == 302, response.get_data(as_text=True)
                page = client.get(response.headers["Location"]).get_data(as_text=True)  # the redirect's page
                measuring[0] = False
                votes += 1
    return votes


if __name__ == "__main__":
    sys.exit(main())
