"""The commands of the command line (`salon …`, salon.cli), registered by create_app."""
from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy import func, inspect, select
from sqlalchemy.engine import make_url

from salon import clock, registry
from salon import demo as demo_module
from salon.accounts import services as accounts
from salon.audit import services as audit
from salon import secrecy
from salon.errors import DomainError
from salon.extensions import db
from salon.programmes import services as programmes
from salon.programmes.models import Programme
from salon.sealed import board as sealed_board
from salon.sealed import client as sealed_client


def register(app: Flask) -> None:
    for command in (create_programme, demo, migrate_command, tick, backup, restore, audit_group,
                    verify_board_command, ballot_group, check_secrecy):
        app.cli.add_command(command)


@click.command("create-programme")
@click.option("--name", required=True, help="e.g. 富平县社区治理主题沙龙")
@click.option("--bureau", "bureau_name", default="", help="e.g. 富平县民政局")
@click.option("--username", required=True, help="the first bureau account")
@click.option("--display-name", required=True)
@click.option("--password", default=None, help="set directly instead of printing an invitation link")
@click.option("--base-url", default="http://127.0.0.1:5000", help="for the printed invitation link")
@with_appcontext
def create_programme(name, bureau_name, username, display_name, password, base_url):
    """Create a programme and its first bureau account."""
    try:
        programme, user = programmes.create_programme(name, bureau_name, username, display_name, password)
        token = None if password else accounts.invite(user, None)
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.field}: {exc.message}")
    click.echo(f"programme {programme.id}: {programme.name}")
    click.echo(f"bureau account: {user.username}")
    if token:
        click.echo(f"invitation link (valid {programme.invitation_days} days, works once): "
                   f"{base_url.rstrip('/')}/invite/{token}")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="only when the database holds no programme")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M"]), default=None,
              help="lay the demo out as it stood on a past day (UTC); the service then runs on the real clock, so "
                   "the demo moves on from that day when served; default: now")
@with_appcontext
def demo(if_empty, as_of):
    """Load the demo programme (SPEC §10) and print its logins."""
    if if_empty and db.session.scalar(select(func.count(Programme.id))):
        click.echo("The database already holds a programme; demo not loaded.")
        click.echo(demo_module.LOGINS_TEXT)
        return
    if as_of is not None and as_of > clock.utcnow():
        raise click.BadParameter("a day that has not come yet: the demo's history must lie in the past", param_hint="--as-of")
    with clock.frozen(as_of or clock.utcnow()):
        demo_module.load()
        db.session.commit()
    click.echo("Demo programme loaded.")
    click.echo(demo_module.LOGINS_TEXT)


@click.command("migrate")
@with_appcontext
def migrate_command():
    """Apply every migration (creates the database on first run)."""
    upgrade()
    click.echo("Database is at the newest schema.")


@click.command("tick")
@with_appcontext
def tick():
    """Run due time-based transitions (windows opening and closing). Safe to run any time."""
    now = clock.utcnow()
    said = registry.of().run_ticks(now)
    db.session.commit()
    for line in said:
        click.echo(line)
    click.echo(f"tick done at {now.isoformat(timespec='seconds')}Z: {len(said)} transitions")


def _database_url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _libpq_url(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def backup(path):
    """Write a consistent copy of the database to PATH (SQLite online backup, or pg_dump)."""
    url = _database_url()
    if url.get_backend_name() == "sqlite":
        db.session.remove()
        source = sqlite3.connect(url.database)
        target = sqlite3.connect(path)
        with target:
            source.backup(target)
        source.close()
        target.close()
    elif url.get_backend_name() == "postgresql":
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", path, _libpq_url(url)])
    else:
        raise click.ClickException(f"backup does not support {url.get_backend_name()}")
    click.echo(f"backup written to {path}")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, hidden=True, help="accepted for old scripts; restore never replaces anything")
@with_appcontext
def restore(path, yes):
    """Restore the backup at PATH into the configured database, which must be new and empty: restore never
    overwrites data (create the database first; then point SALON_DATABASE_URL at it)."""
    url = _database_url()
    tables = inspect(db.engine).get_table_names()
    db.session.remove()
    db.engine.dispose()
    if tables:
        # pg_restore --clean would drop and recreate only the backup's own tables and leave any other (a later
        # migration's) beside them: a database that is neither the backup nor what it replaced.
        raise click.ClickException(
            f"the database already holds {len(tables)} tables ({', '.join(sorted(tables)[:3])}, …); restore only "
            "into a new, empty database")
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(path)
        target = sqlite3.connect(url.database)
        with target:
            source.backup(target)
        source.close()
        target.close()
    elif url.get_backend_name() == "postgresql":
        _run(["pg_restore", "--no-owner", "--single-transaction", "--dbname", _libpq_url(url), path])
    else:
        raise click.ClickException(f"restore does not support {url.get_backend_name()}")
    click.echo(f"database restored from {path}")


def _run(argv: list[str]) -> None:
    if shutil.which(argv[0]) is None:
        raise click.ClickException(f"{argv[0]} is not installed (PostgreSQL client tools)")
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise click.ClickException(f"{argv[0]} failed with exit code {result.returncode}")


@click.group("audit")
def audit_group():
    """The audit log."""


@audit_group.command("verify")
@click.option("--programme", "programme_id", type=int, default=None)
@with_appcontext
def audit_verify(programme_id):
    """Check every hash-chain link; report the first broken one (exit 1)."""
    checked, broken = audit.verify(programme_id)
    if broken is None:
        click.echo(f"audit log intact: {checked} events verified")
        return
    click.echo(f"audit log BROKEN at programme {broken.programme_id}, event {broken.seq}: {broken.reason} "
               f"({checked} events before it verified)")
    sys.exit(1)


@click.command("verify")
@click.argument("board", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--receipt", default=None, help="a ballot's fingerprint: is it on the board?")
def verify_board_command(board, receipt):
    """Check a poll's bulletin board from the board alone (SPEC §5.1; the same check as tools/verify_board.py)."""
    ok, lines = sealed_board.report(board.read_bytes(), receipt)
    for line in lines:
        click.echo(line)
    if not ok:
        raise SystemExit(1)


@click.group("ballot")
def ballot_group():
    """Ballots from the command line (an API client's tools)."""


@ballot_group.command("seal")
@click.argument("spec", required=False, type=click.File("rb"))
@click.option("--url", default=None, help="the API's poll address (GET /api/v1/polls/ID): its `sealed` member")
@click.option("--token", envvar="SALON_API_TOKEN", default=None, show_envvar=True,
              help="the API token sent as a bearer token with --url")
@click.option("--choose", default=None, help="option ids separated by commas, e.g. 12,15 ('' for a blank ballot)")
@click.option("--answers", default=None, help="per-question lists of 0 and 1 as JSON, e.g. '[[0,1,0],[1,0]]'")
@click.option("--bare", is_flag=True, help='print the ballot alone instead of {"sealed": ballot}')
def ballot_seal(spec, url, token, choose, answers, bare):
    """Seal a ballot from a poll's seal spec (SPEC §5.1): SPEC is its file, or the API's poll JSON, or - for
    stdin. Prints the body to POST to /api/v1/polls/ID/ballot and, on stderr, the ballot's fingerprint (the
    receipt). Exit 2 when the choices break the poll's rules. The same as tools/seal_ballot.py."""
    if (spec is None) == (url is None):
        raise click.UsageError("give the seal spec's file (or -) or --url, one of them")
    try:
        if url:
            seal_spec = sealed_client.fetch_spec(url, token)
        else:
            name = getattr(spec, "name", "<stdin>")
            seal_spec = sealed_client.spec_from_text(spec.read(), "stdin" if name == "<stdin>" else name)
    except sealed_client.SpecError as error:
        raise click.ClickException(str(error))
    try:
        ballot = sealed_client.seal_ballot(seal_spec, sealed_client.answers_from_text(seal_spec, choose, answers))
    except sealed_client.InvalidChoice as error:
        raise click.UsageError(f"choices refused: {error}")
    click.echo(json.dumps(ballot if bare else sealed_client.request_body(ballot), separators=(",", ":")))
    click.echo(f"fingerprint (your receipt): {sealed_client.fingerprint(ballot)}", err=True)


@click.command("check-secrecy")
@click.option("--lang", default=None, help="zh_Hans (the default) or en")
@with_appcontext
def check_secrecy(lang):
    """Warn where the database's logging, archiving or replication would keep plain ballot data (SPEC §5).
    Exits 1 when there is a warning; notes alone exit 0. docs/secrecy-leaks.md explains each finding."""
    with force_locale(lang or current_app.config["BABEL_DEFAULT_LOCALE"]):
        told = secrecy.said(secrecy.check())
        for item in told:
            finding = item.finding
            where = f"{finding.setting} = {finding.value}" if finding.value else finding.setting
            click.echo(f"{finding.severity.upper()}  {where}")
            click.echo(f"  {item.what}")
            click.echo(f"  -> {item.change}")
    warned = sum(1 for item in told if item.warning)
    click.echo(f"{warned} warnings, {len(told) - warned} notes ({db.engine.dialect.name})")
    if warned:
        raise SystemExit(1)
