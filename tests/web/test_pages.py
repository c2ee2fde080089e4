"""Pages through the test client: forms with bad input say which field and change nothing."""
import pytest
from sqlalchemy import func, select

from salon.extensions import db
from salon.programmes.models import Community, Programme

pytestmark = pytest.mark.rolled_back  # one transaction per test, rolled back; world built once


def _count():
    return db.session.scalar(select(func.count(Community.id)))


@pytest.mark.parametrize("name, message", [("", "必填"), ("社" * 81, "80"), ("景翼社区", "同名")])
def test_adding_a_bad_community_shows_why(as_bureau, world, name, message):
    before = _count()
    response = as_bureau.post("/communities", data={"name": name})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count() == before


def test_adding_a_community(as_bureau, world):
    response = as_bureau.post("/communities", data={"name": "新社区"}, follow_redirects=True)
    assert response.status_code == 200 and "新社区" in response.get_data(as_text=True)


def test_secretary_cannot_add_or_rename(as_secretary, world):
    before = _count()
    assert as_secretary.post("/communities", data={"name": "偷偷加"}).status_code == 403
    assert as_secretary.post(f"/communities/{world.communities[0].id}", data={"name": "改"}).status_code == 403
    assert _count() == before and world.communities[0].name == "景翼社区"


def _settings_form(programme, **overrides):
    from salon.programmes.services import SETTINGS

    data = {}
    for setting in SETTINGS:
        value = getattr(programme, setting.name)
        if setting.kind is bool:
            if value:
                data[setting.name] = "y"
        else:
            data[setting.name] = str(value)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("field, value", [("approvals_max", "0"), ("approvals_max", "three"),
                                          ("name", ""), ("timezone", "Nowhere/Town"),
                                          ("vote_close_days", "20"), ("session_week", "7")])
def test_bad_settings_form_keeps_the_input_and_changes_nothing(as_bureau, world, field, value):
    data = _settings_form(world.programme, horizon_months="18", **{field: value})
    response = as_bureau.post("/programme/settings", data=data)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in body or "flash-error" in body
    assert 'value="18"' in body  # what the user typed is still there
    assert db.session.get(Programme, world.programme.id).horizon_months == 12


def test_settings_form_saves(as_bureau, world):
    data = _settings_form(world.programme, horizon_months="18", committee_size="5", review_quorum=None)
    response = as_bureau.post("/programme/settings", data=data)
    assert response.status_code == 302
    programme = db.session.get(Programme, world.programme.id)
    # An unticked box is a "no": the committee's and the review's settings are on the page and change.
    assert programme.horizon_months == 18 and programme.committee_size == 5 and programme.review_quorum is False
    page = as_bureau.get("/programme/settings").get_data(as_text=True)
    assert 'name="review_quorum"' in page and 'name="committee_size"' in page and 'name="guest_link_days"' in page


def test_handover_page_gives_the_link_and_history(as_bureau, world):
    cid = world.communities[0].id
    bad = as_bureau.post(f"/communities/{cid}/handover", data={"username": "A B", "display_name": "新"})
    assert bad.status_code == 422 and "小写字母" in bad.get_data(as_text=True)
    ok = as_bureau.post(f"/communities/{cid}/handover", data={"username": "jy_new", "display_name": "新书记"})
    assert ok.status_code == 200 and "/invite/" in ok.get_data(as_text=True)
    page = as_bureau.get(f"/communities/{cid}").get_data(as_text=True)
    assert page.index("新书记") < page.index("景翼社区书记")


def test_handover_asks_first_saying_what_it_does(as_bureau, world):
    """A hand-over closes the holder's account and can vacate a committee place: the form asks first, naming the
    community (isolated) and both consequences."""
    community = world.communities[0]
    page = as_bureau.get(f"/communities/{community.id}").get_data(as_text=True)
    form = page[page.index('action="/communities/%d/handover"' % community.id) - 200:]
    form = form[:form.index("</form>")]
    asked = form[form.index('data-confirm="') + len('data-confirm="'):]
    asked = asked[:asked.index('"')]
    assert f"\u2068{community.name}\u2069" in asked
    assert "账号" in asked and "空缺" in asked and "无法撤销" in asked


def test_deactivate_button(as_bureau, world):
    cid = world.communities[1].id
    as_bureau.post(f"/communities/{cid}/deactivate")
    assert db.session.get(Community, cid).active is False
    assert "已停用" in as_bureau.get("/communities").get_data(as_text=True)


def test_home_tells_the_bureau_about_vacant_seats(as_bureau, world):
    world.programme  # noqa: B018
    from salon.programmes import services

    services.add_community(world.programme, world.bureau, "空席社区")
    db.session.commit()
    body = as_bureau.get("/").get_data(as_text=True)
    assert "1 个社区还没有书记" in body


def test_home_tells_the_secretary_their_seat(as_secretary, world):
    body = as_secretary.get("/").get_data(as_text=True)
    assert "您是 <bdi>景翼社区</bdi> 的书记" in body


def test_people_page_lists_only_my_programme(as_bureau, world):
    body = as_bureau.get("/people").get_data(as_text=True)
    assert "sec_a1" in body and "sec_b1" not in body and "bureau_b" not in body


def test_error_pages_are_html_in_chinese(as_bureau):
    response = as_bureau.get("/communities/999999")
    assert response.status_code == 404 and "不属于您的项目" in response.get_data(as_text=True)


def test_page_queries_do_not_grow_with_communities(app, as_bureau, world):
    from sqlalchemy import event

    from salon.programmes import services

    def count_queries(path):
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert as_bureau.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    few = count_queries("/communities")
    home = count_queries("/")
    for i in range(30):
        community = services.add_community(world.programme, world.bureau, f"加的社区{i}")
        services.hand_over_seat(community, world.bureau, f"extra{i}", f"书记{i}", "a password 1")
    db.session.commit()
    assert count_queries("/communities") == few
    assert count_queries("/") == home
