"""End-to-end harness: the service as in production (gunicorn, PostgreSQL when it answers) and Debian's
chromium driven by Playwright. Screenshots go to test-artifacts/screenshots/ (git-ignored)."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BACKENDS, create_postgres_database, drop_postgres_database

CHROMIUM = os.environ.get("SALON_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("SALON_REQUIRE_BROWSER") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
HAVE_BROWSER = Path(CHROMIUM).exists()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if not HAVE_BROWSER and not REQUIRE_BROWSER:
                item.add_marker(pytest.mark.skip(reason=f"no chromium at {CHROMIUM}: browser journeys skipped"))


def pytest_terminal_summary(terminalreporter):
    if not HAVE_BROWSER:
        terminalreporter.write_line(f"salon: browser journeys SKIPPED (no chromium at {CHROMIUM}; "
                                    "install Debian's chromium package to run them)")


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


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A fresh database (PostgreSQL when available), migrated, with the demo loaded, served by gunicorn."""
    instance = tmp_path_factory.mktemp("instance")
    if "postgresql" in BACKENDS:
        database_url = create_postgres_database("salon_e2e")
    else:
        database_url = "sqlite:///" + str(instance / "e2e.sqlite")
    env = {**os.environ, "SALON_DATABASE_URL": database_url, "SALON_INSTANCE_PATH": str(instance),
           "SALON_SECRET_KEY": secrets.token_urlsafe(32), "PYTHONUNBUFFERED": "1"}
    server = LiveServer("", database_url, env)
    server.cli("migrate")
    server.cli("demo")
    port = _free_port()
    log = open(instance / "gunicorn.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "salon:create_app()"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    server.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(server.url + "/login", timeout=2)
            break
        except Exception:  # noqa: BLE001 - not up yet
            if process.poll() is not None or time.monotonic() > deadline:
                log.close()
                raise RuntimeError("gunicorn did not start:\n" + (instance / "gunicorn.log").read_text())
            time.sleep(0.2)
    yield server
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:  # a loaded machine can be slow to finish gunicorn's graceful stop
        process.kill()
        process.wait(timeout=10)
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


@pytest.fixture
def new_page(browser):
    contexts = []

    def make(width: int = 360, height: int = 780):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN",
                                      device_scale_factor=1)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def save(page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
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
