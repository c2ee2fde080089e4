"""The command line: `salon …` (or `flask --app salon …`). The commands themselves are salon.commands."""
from __future__ import annotations

from flask.cli import FlaskGroup

from salon import create_app


def main() -> None:
    FlaskGroup(create_app=create_app, help="Salon: the county's community-governance salon.")(prog_name="salon")
