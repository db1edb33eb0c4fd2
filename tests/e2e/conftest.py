"""Browser tests: a real server on a loopback port, Debian's Chromium driven by Playwright, axe-core on every page.

One server and one browser for the whole run (each test gets fresh browser contexts, i.e. fresh participants).
The database is a temporary SQLite file migrated and loaded as ``participate init`` does (the demo consultation
with fewer simulated voters, to stay fast). These tests run once, on SQLite: under ``--db=postgresql`` they skip.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect
from werkzeug.serving import WSGIRequestHandler, make_server

from participate import create_app
from participate.extensions import db
from participate.models import Role
from participate.services import accounts, consultations, simulate
from participate.services.snapshots import runner

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".cache" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = os.environ.get("PARTICIPATE_CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FACILITATOR_EMAIL = "facilitator@example.org"
FACILITATOR_PASSWORD = "correct horse battery staple"
SAMPLE = "public-interest-ai"
DEMO = simulate.DEMO_SLUG


def pytest_collection_modifyitems(config, items):
    """Browser tests are slow, and share one server and one browser: under pytest-xdist (``--dist loadgroup``)
    they all run on one worker instead of each worker preparing its own."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(autouse=True)
def _only_once(request):
    if request.config.getoption("--db") == "postgresql":
        pytest.skip("browser tests run once, on SQLite (they test the pages, not the database)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report_ = outcome.get_result()
    setattr(item, f"rep_{report_.when}", report_)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request would drown the test output
        pass


class Server:
    def __init__(self, app, url):
        self.app = app
        self.url = url


@pytest.fixture(scope="session")
def server(tmp_path_factory, request):
    """A real Participate server (werkzeug, threaded) on a free loopback port, over a prepared SQLite database."""
    if request.config.getoption("--db") == "postgresql":
        pytest.skip("browser tests run once, on SQLite")
    folder = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "SECRET_KEY": "e2e-secret-key-not-for-production",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.sqlite'}",
            "ANALYSIS_RUNNER": "sync",
            # With the sync runner a vote that brings the report's checks due would build its PDF inside the vote's
            # request (seconds, more on a busy machine): the PDF's own test turns this on.
            "PDF_PREBUILD": False,
        }
    )
    with app.app_context():
        upgrade()
        consultations.load_samples(db.session)
        demo = simulate.load_demo(db.session, participants=120)
        runner.analyse(db.session, demo.id)
        accounts.create(db.session, FACILITATOR_EMAIL, FACILITATOR_PASSWORD, Role.FACILITATOR)
        db.session.remove()
    http = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield Server(app, f"http://127.0.0.1:{http.server_port}")
    http.shutdown()
    thread.join(10)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core, fetched from the npm registry by scripts/fetch-axe into .cache/ (git-ignored), never a CDN."""
    if not AXE.exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "fetch-axe")], check=True)
    return str(AXE)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (scripts/system-deps installs Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


class Session:
    """Browser contexts for one test; screenshots of every open page go to test-artifacts/ when the test fails."""

    def __init__(self, browser, server, axe_source, name):
        self.browser = browser
        self.server = server
        self.axe_source = axe_source
        self.name = name
        self.contexts = []
        self.checked = []  # the address of every page axe has checked
        self._twin = None
        self.errors = []

    def new_page(self, *, lang="en-GB", **options):
        context = self.browser.new_context(base_url=self.server.url, locale=lang, **options)
        context.set_default_timeout(30_000)  # a busy machine is slow, not wrong
        # axe is served as if from our own origin, so the pages' Content-Security-Policy (script-src 'self') admits
        # it without weakening the policy under test.
        context.route("**/__axe__/axe.min.js", lambda route: route.fulfill(path=self.axe_source))
        context.javascript = options.get("java_script_enabled", True)
        self.contexts.append(context)
        page = context.new_page()
        # Script errors and Content-Security-Policy refusals fail the next check (no inline script may sneak in).
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                self.errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        return page

    def check(self, page, *, language="en"):
        """Accessibility checks on the page as it is now: axe-core (no serious or critical violation), a skip link,
        a main landmark, the language of the page, no horizontal scrolling."""
        assert not self.errors, self.errors
        page.wait_for_load_state()  # a page a click has just asked for: check it once it is there
        expect(page.locator("main#main")).to_have_count(1)
        expect(page.locator("a.skip-link[href='#main']")).to_have_count(1)
        assert page.locator("html").get_attribute("lang") == language, page.url
        result = self._axe(page)
        bad = [v for v in result if v["impact"] in ("serious", "critical")]
        self.checked.append(page.url)
        assert not bad, f"axe on {page.url}:\n" + json.dumps(
            [
                {
                    "id": v["id"],
                    "impact": v["impact"],
                    "help": v["help"],
                    "nodes": [n["html"][:160] for n in v["nodes"][:5]],
                }
                for v in bad
            ],
            indent=1,
        )
        assert no_horizontal_scroll(page), f"horizontal scrolling on {page.url}"

    def _axe(self, page) -> list[dict]:
        """axe-core's violations. A page without JavaScript cannot run axe, so its HTML, exactly as received, is
        checked in a scripted twin page where only axe runs (the site's own scripts are blocked there)."""
        if not page.context.javascript:
            html = page.content()
            twin = self.twin()
            twin.route(page.url.split("#")[0], lambda route: route.fulfill(body=html, content_type="text/html"))
            twin.goto(page.url.split("#")[0])
            twin.unroute_all()
            page = twin
        page.add_script_tag(url="/__axe__/axe.min.js")
        return page.evaluate("async () => (await axe.run(document)).violations")

    def twin(self):
        if self._twin is None:
            context = self.browser.new_context(base_url=self.server.url)
            context.route("**/__axe__/axe.min.js", lambda route: route.fulfill(path=self.axe_source))
            context.route(re.compile(r".*/static/js/.*"), lambda route: route.abort())
            self.contexts.append(context)
            self._twin = context.new_page()
        return self._twin

    def close(self, failed: bool):
        if failed:
            ARTIFACTS.mkdir(exist_ok=True)
            safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.name)
            for i, context in enumerate(self.contexts):
                for j, page in enumerate(context.pages):
                    try:
                        page.screenshot(path=str(ARTIFACTS / f"{safe}-{i}-{j}.png"), full_page=True)
                        (ARTIFACTS / f"{safe}-{i}-{j}.html").write_text(page.content(), encoding="utf-8")
                    except Exception as error:  # a crashed page must not hide the real failure
                        print(f"no screenshot of {page.url}: {error}")
        for context in self.contexts:
            context.close()


@pytest.fixture
def session(browser, server, axe_source, request):
    s = Session(browser, server, axe_source, request.node.name)
    yield s
    s.close(failed=getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed)


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")


def tab_to(page, selector: str, *, limit: int = 80, backwards: bool = False):
    """Press Tab (or Shift+Tab) until the focused element matches ``selector``: the way a keyboard user gets there."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"could not reach {selector} with the keyboard on {page.url}")


def focused_is_visible(page) -> bool:
    """The focused element shows a focus indicator (an outline or a box shadow)."""
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; }"""
    )
