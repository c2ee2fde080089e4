"""The bureau is told, on its settings page and its home page, where the database keeps ballot data
(salon.secrecy); secretaries are not."""
from __future__ import annotations

import pytest

from salon import secrecy
from salon.rules import secrecy as rules
from tests.conftest import login

pytestmark = pytest.mark.rolled_back


@pytest.fixture
def archived(monkeypatch):
    """A statement log with values (a warning) and WAL archiving (a note: it holds only sealed ballots)."""
    monkeypatch.setattr(secrecy, "check", lambda: [rules.Finding("archive", rules.NOTE, "archive_mode", "on"),
                                                   rules.Finding("statement_log_values", rules.WARNING,
                                                                 "log_statement", "all")])


def test_settings_page_says_what_this_database_keeps(as_bureau):
    page = as_bureau.get("/programme/settings").get_data(as_text=True)
    assert 'id="secrecy"' in page and "数据库中的投票保密" in page
    if not rules.warnings(secrecy.check()):
        assert "数据库没有任何设置会在日志、归档或副本中留下投票内容" in page


def test_a_warning_reaches_the_bureau_in_chinese_with_what_to_change(as_bureau, archived):
    page = as_bureau.get("/programme/settings").get_data(as_text=True)
    assert "语句日志（log_statement = all）" in page and "修改：" in page
    assert "值得了解的局限（1 项）" in page and "预写日志归档已开启（archive_mode = on）" in page  # the note, folded
    home = as_bureau.get("/").get_data(as_text=True)
    assert "数据库有 1 项设置会在日志、归档或副本中留下投票内容" in home and "/programme/settings#secrecy" in home


def test_secretaries_get_no_such_task(client, world, archived):
    login(client, "sec_a1")
    assert "留下投票内容" not in client.get("/").get_data(as_text=True)
    assert client.get("/programme/settings").status_code in (302, 403)
