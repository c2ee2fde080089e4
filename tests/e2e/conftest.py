"""End-to-end harness: the service as in production (waitress, PostgreSQL when it answers) and Debian's
chromium driven by Playwright. Screenshots go to test-artifacts/screenshots/ (git-ignored)."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database

CHROMIUM = os.environ.get("SALON_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SALON_REQUIRE_BROWSER") == "1"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
HAVE_BROWSER = Path(CHROMIUM).exists()
# axe-core, installed from npm by `make test` (`make axe`) into a git-ignored folder; never from a CDN.
AXE = Path(os.environ.get("SALON_AXE_JS") or ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js")
HAVE_AXE = AXE.exists()
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE_IMPACTS = ("serious", "critical")
WIDTHS = (360, 1280)
_axe_pages: set[str] = set()  # page states checked
_axe_urls: set[str] = set()  # page paths checked (ids left out)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if not HAVE_BROWSER and not REQUIRE_BROWSER:
                item.add_marker(pytest.mark.skip(reason=f"no chromium at {CHROMIUM}: browser journeys skipped"))


def summary(terminalreporter, worker_pages=()) -> None:
    """The journeys' last lines, printed by tests/conftest.py's summary when e2e tests ran: under pytest-xdist
    the controller loads no conftest of this folder, so the workers hand over the pages they checked
    (pytest_sessionfinish below) and the root conftest passes them in."""
    pages = set(_axe_pages) | set(worker_pages)
    if not HAVE_BROWSER:
        terminalreporter.write_line(f"salon: browser journeys SKIPPED (no chromium at {CHROMIUM}; "
                                    "install Debian's chromium package to run them)")
    elif not HAVE_AXE:
        terminalreporter.write_line(f"salon: accessibility checks SKIPPED (no axe-core at {AXE}; "
                                    "`make axe` installs it with npm)")
    elif pages:
        terminalreporter.write_line(f"salon: axe-core checked {len(pages)} page states at "
                                    f"{' and '.join(map(str, WIDTHS))} px ({'/'.join(AXE_IMPACTS)} rules)")


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # a pytest-xdist worker: the controller prints the summary
        workeroutput["axe_pages"] = sorted(_axe_pages)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str
    database_url: str
    env: dict

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "salon", *args], env=self.env, capture_output=True,
                                text=True, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"salon {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result


def _environment(database_url: str, instance: Path) -> dict:
    return {**os.environ, "SALON_DATABASE_URL": database_url, "SALON_INSTANCE_PATH": str(instance),
            "SALON_SECRET_KEY": secrets.token_urlsafe(32), "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory):
    """A database migrated with the demo loaded, once per run (PostgreSQL when available); each module's
    server gets its own copy of it, so no journey sees another's changes."""
    instance = tmp_path_factory.mktemp("demo")
    if "postgresql" in BACKENDS:
        database_url = create_postgres_database("salon_e2e_demo")
    else:
        database_url = "sqlite:///" + str(instance / "demo.sqlite")
    server = LiveServer("", database_url, _environment(database_url, instance))
    server.cli("migrate")
    # As the demo stood at 10:00 in Shanghai on the first of this month: its session of the month still takes
    # nominations then, so the journeys start from the same stage whatever day they run (see _future_session).
    local = datetime.now(ZoneInfo("Asia/Shanghai"))
    server.cli("demo", "--as-of", f"{local.year:04d}-{local.month:02d}-01T02:00")
    yield database_url
    if database_url.startswith("postgresql"):
        drop_postgres_database(database_url)


def _copy_of(demo_url: str, instance: Path) -> str:
    if demo_url.startswith("postgresql"):
        return create_postgres_database("salon_e2e", template=demo_url)
    target = instance / "e2e.sqlite"
    source, copy = sqlite3.connect(demo_url.removeprefix("sqlite:///")), sqlite3.connect(target)
    with copy:
        source.backup(copy)
    source.close()
    copy.close()
    return "sqlite:///" + str(target)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory, demo_database):
    """A copy of the demo database, served as in production: waitress, one process, 8 threads (`make run`)."""
    instance = tmp_path_factory.mktemp("instance")
    database_url = _copy_of(demo_database, instance)
    server = LiveServer("", database_url, _environment(database_url, instance))
    port = _free_port()
    log = open(instance / "waitress.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "waitress", f"--listen=127.0.0.1:{port}", "--threads=8", "--call", "salon:create_app"],
        env=server.env, stdout=log, stderr=subprocess.STDOUT)
    server.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(server.url + "/login", timeout=2)
            break
        except Exception:  # noqa: BLE001 - not up yet
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError("waitress did not start:\n" + (instance / "waitress.log").read_text())
            time.sleep(0.2)
    yield server
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a loaded machine; the server is of no further use
        process.kill()
        process.wait(timeout=30)
    log.close()
    if database_url.startswith("postgresql"):
        drop_postgres_database(database_url)


@pytest.fixture(scope="session")
def browser():
    if not HAVE_BROWSER:
        pytest.fail(f"chromium is required (SALON_REQUIRE_BROWSER=1) but missing at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        user_data = None
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()
        if user_data:
            shutil.rmtree(user_data, ignore_errors=True)


def _page_key(url: str) -> str:
    """A page as a template sees it: ids and query left out."""
    return re.sub(r"/\d+(?=/|$)", "/N", urllib.parse.urlsplit(url).path)


# Every Content-Security-Policy violation a page reports, handed to Python as it happens (the binding outlives
# navigations, a list kept on window would not).
_CSP_LISTENER = """document.addEventListener("securitypolicyviolation", (e) => window.salonCspViolation(
    `${e.effectiveDirective} refused ${e.blockedURI || "inline"} (${e.sourceFile || document.URL}:${e.lineNumber})`));"""


def watch_csp(context, found: list) -> None:
    """Record the policy violations of a browser context's pages in `found` (the DOM event, and the console
    line Chromium writes, in case the event cannot reach the page)."""
    context.expose_binding("salonCspViolation", lambda source, text: found.append(f"{source['frame'].url}: {text}"))
    context.add_init_script(_CSP_LISTENER)
    context.on("console", lambda message: found.append(f"console: {message.text}")
               if "Content Security Policy" in message.text else None)


@pytest.fixture
def new_page(browser):
    """Pages of a journey. Every page it reached with GET is checked with axe-core afterwards, once per run
    (pages the journey screenshots are checked as they were shown; see `shot`). A journey fails if any page
    reported a Content-Security-Policy violation (`page.csp_violations`, shared by the context's pages)."""
    contexts, reached, violations = [], [], []

    def make(width: int = 360, height: int = 780):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      device_scale_factor=1)
        contexts.append(context)
        watch_csp(context, violations)
        page = context.new_page()
        page.csp_violations = violations
        page.set_default_timeout(15000)
        page.on("request", lambda request: reached.append((context, request.url))
                if request.is_navigation_request() and request.method == "GET" else None)
        return page

    yield make
    try:
        for context, url in reached:
            key = _page_key(url)
            if key in _axe_urls or not HAVE_AXE or key.endswith(".ics"):
                continue
            _axe_urls.add(key)
            page = context.new_page()
            if page.goto(url).ok:
                check_accessibility(page, key)
            page.close()
        assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)
    finally:
        for context in contexts:
            context.close()


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core findings on the page as it is now, one line each."""
    # Evaluated, not added as a <script>: the page's Content-Security-Policy refuses inline script.
    page.evaluate(AXE.read_text())
    found = page.evaluate("""async ([tags, impacts]) => {
        const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                resultTypes: ['violations']});
        return result.violations.filter(v => impacts.includes(v.impact)).map(v =>
            `${v.impact} ${v.id} (${v.help}): ` + v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', '));
    }""", [AXE_TAGS, list(AXE_IMPACTS)])
    return found


def check_accessibility(page, name: str) -> None:
    """axe-core on the page as the journey left it, at 360 px and 1280 px (the viewport is put back)."""
    if not HAVE_AXE:
        if REQUIRE_BROWSER:
            pytest.fail(f"axe-core is required (SALON_REQUIRE_BROWSER=1) but missing at {AXE}: run `make axe`")
        return
    size = page.viewport_size
    problems = []
    try:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": size["height"]})
            problems += [f"{width}px {line}" for line in axe_violations(page)]
    finally:
        page.set_viewport_size(size)
    _axe_pages.add(name)
    _axe_urls.add(_page_key(page.url))
    assert not problems, f"accessibility of {name} ({page.url}):\n" + "\n".join(problems)


@pytest.fixture
def shot():
    """Save a screenshot of the page and check it with axe-core: every page a journey shows is checked."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        check_accessibility(page, name)
        return path

    return save


def fits_width(page) -> bool:
    """No sideways scrolling: what a phone user notices first."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def log_in(page, base_url: str, username: str, password: str) -> None:
    page.goto(base_url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit].primary")
    page.wait_for_load_state()
