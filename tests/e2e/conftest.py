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

from salon.trustees.demo import FOLDER as DEMO_TRUSTEES
from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database

CHROMIUM = os.environ.get("SALON_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SALON_REQUIRE_BROWSER") == "1"
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
HAVE_BROWSER = Path(CHROMIUM).exists()
# axe-core, installed from npm by `make test` (`make axe`) into a git-ignored folder; never from a CDN.
AXE = Path(os.environ.get("SALON_AXE_JS") or ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js")
HAVE_AXE = AXE.exists()
# The vendored @noble libraries the sealed pages import (`make vendor`), never from a CDN.
VENDOR = ROOT / "salon" / "static" / "vendor" / "node_modules" / "@noble" / "curves"
HAVE_VENDOR = VENDOR.exists()
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
    instance: Path | None = None  # SALON_INSTANCE_PATH: the demo trustees' backups are in its demo-trustees/

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
def demo_instance(tmp_path_factory) -> Path:
    """The instance folder the demo is loaded with: the demo writes its trustees' backup files there."""
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="session")
def demo_database(demo_instance):
    """A database migrated with the demo loaded, once per run (PostgreSQL when available); each module's
    server gets its own copy of it, so no journey sees another's changes."""
    instance = demo_instance
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
def live_server(tmp_path_factory, demo_database, demo_instance):
    """A copy of the demo database, served as in production: waitress, one process, 8 threads (`make run`). Its
    instance folder holds the demo trustees' backup files, as `make run`'s would (instance/demo-trustees/)."""
    instance = tmp_path_factory.mktemp("instance")
    database_url = _copy_of(demo_database, instance)
    if (demo_instance / DEMO_TRUSTEES).is_dir():
        shutil.copytree(demo_instance / DEMO_TRUSTEES, instance / DEMO_TRUSTEES)
    server = LiveServer("", database_url, _environment(database_url, instance), instance)
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


# --- sealed ballots (SPEC §5.1): the demo's polls open sealed, its trustees hold ready keys ----------------------

def require_sealing() -> None:
    """The sealed pages import the vendored @noble libraries (`make vendor`): without them no ballot can be
    sealed in the browser. Fails under SALON_REQUIRE_BROWSER=1, else skips the journey."""
    if not HAVE_VENDOR:
        message = f"the vendored @noble libraries are missing at {VENDOR}: run `make vendor`"
        if REQUIRE_BROWSER:
            pytest.fail(message + " (SALON_REQUIRE_BROWSER=1)")
        pytest.skip(message)


@dataclass
class SealedVote:
    receipt: str  # the sealed ballot's fingerprint: 64 hex digits
    seconds: float  # from the click on "cast" to the sealed ballot's request leaving the page


def vote_sealed(page, shot=None, name: str | None = None) -> SealedVote:
    """On a sealed poll's vote page, the choices made: continue, confirm in the page (#sealed-confirm), cast.
    Checks that the page posts only the sealed ballot (the form's `sealed` field, no choice of any question)
    and that the receipt is the ballot's fingerprint, sealed by the voter's browser."""
    require_sealing()
    assert page.locator("#ballot-form[data-seal-spec]").count() == 1, "this poll is not sealed"
    page.click("#ballot-form button[type=submit]")
    page.wait_for_selector("#sealed-confirm:not([hidden])")
    if shot is not None and name:
        shot(page, f"{name}-confirm-360")
        assert fits_width(page)
    started = time.perf_counter()
    with page.expect_request(lambda r: r.method == "POST" and r.is_navigation_request()) as posted:
        page.click("#sealed-form button[type=submit]")
    seconds = time.perf_counter() - started
    body = urllib.parse.parse_qs(posted.value.post_data or "", keep_blank_values=True)
    assert set(body) == {"csrf_token", "sealed", "confirmed"}, f"posted more than the sealed ballot: {sorted(body)}"
    assert body["sealed"][0].startswith("{")  # the canonical JSON of the sealed ballot, nothing readable beside
    page.wait_for_selector("#receipt")
    receipt = page.inner_text("#receipt").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", receipt), receipt
    assert page.locator("#sealed-by-voter").count() == 1  # the browser sealed it, not the server
    return SealedVote(receipt, seconds)


def poll_id_of(page) -> int:
    """The sealed poll a result page speaks of (its status line is #sealed-status-<poll id>)."""
    found = page.locator("[id^=sealed-status-]").first.get_attribute("id")
    return int(found.rsplit("-", 1)[1])


def _open_decryption(page, base_url: str, poll_id: int) -> str | None:
    """From the trustee's home page, the task that leads to a term with this poll to decrypt; its address."""
    page.goto(base_url + "/")
    for href in page.locator("ul.tasks a[href*='/trustees/']").evaluate_all("links => links.map(a => a.href)"):
        page.goto(href)
        if page.locator(f"button[data-decrypt$='/polls/{poll_id}']").count():
            return href
    return None


def trustees_decrypt(new_page, server: LiveServer, poll_id: int, shot=None, name: str | None = None) -> list[str]:
    """The demo trustees decrypt a closed sealed poll, each on their own browser context (their own device): log
    in, follow the home page's task, restore their key from its demo backup file (instance/demo-trustees/), and
    press Decrypt, one click. The bureau (trustee 1 of every term) goes first, then the term's other trustees
    until the term's page no longer awaits the poll (k of n). Before the k-th, the poll still awaits. Returns
    the logins that decrypted."""
    from salon.demo import BUREAU_LOGIN, SECRETARY_PASSWORD

    require_sealing()
    folder = server.instance / DEMO_TRUSTEES
    logins, term_url, done = [BUREAU_LOGIN[0]], None, []
    while logins:
        login = logins.pop(0)
        page = new_page(360)
        log_in(page, server.url, login, BUREAU_LOGIN[1] if login == BUREAU_LOGIN[0] else SECRETARY_PASSWORD)
        href = _open_decryption(page, server.url, poll_id)
        assert href is not None, f"{login}'s home page has no task to decrypt poll {poll_id}"
        storage = page.locator("#device").get_attribute("data-storage-key")  # salon-trustee:p<p>:k<term>:u<user>
        programme, term = re.match(r"salon-trustee:p(\d+):k(\d+):", storage).groups()
        if term_url is None:
            term_url = href
            logins += sorted(p.name.split(f"-p{programme}-k{term}.json")[0]
                             for p in folder.glob(f"*-p{programme}-k{term}.json")
                             if not p.name.startswith(f"{login}-"))
        page.wait_for_selector("#restore:not([hidden])")  # the demo's key is not on this fresh device
        page.set_input_files("#restore-file", str(folder / f"{login}-p{programme}-k{term}.json"))
        page.wait_for_selector("#backup:not([hidden])")
        page.click(f"button[data-decrypt$='/polls/{poll_id}']")
        page.wait_for_selector("#decrypt .badge.ok")
        done.append(login)
        page.goto(term_url)
        if shot is not None and name and len(done) == 1:
            shot(page, f"{name}-trustee-decrypted-360")
            assert fits_width(page)
        if page.locator("#awaited").count() == 0:  # k trustees have decrypted: the poll is counted
            return done
        assert page.locator("#awaited li").count() >= 1
    raise AssertionError(f"every trustee decrypted ({done}) and poll {poll_id} is still awaited")
