"""Names people type are isolated where pages show them (issue 18): a right-to-left name, or one carrying
U+202E (RIGHT-TO-LEFT OVERRIDE), sits in <bdi> and cannot reorder the sentence around it. <title>, <option> and a
confirmation's data-confirm cannot hold markup: there the name sits between U+2068 and U+2069 (salon.i18n.isolate).
A <textarea> and an input's value are what the form sends back, and stay as typed."""
from __future__ import annotations

import re

import pytest

from salon.extensions import db
from salon.programmes.models import Community
from salon.schedule import services as schedule
from salon.topics import services as topics
from tests.conftest import login

pytestmark = pytest.mark.rolled_back

COMMUNITY = "مركز\u202eالشرق"  # Arabic, and an override that would flip whatever follows it
PERSON = "דוד\u202eכהן"  # Hebrew
UNIT = "وحدة\u202eالصحة"


def outside_bdi(body: str, name: str) -> int:
    """How often `name` shows in element content without a <bdi> of its own."""
    body = re.sub(r"<(title|option|textarea)\b[^>]*>.*?</\1>", "", body, flags=re.S)
    body = re.sub(r'="[^"]*"', '=""', body)
    return body.replace(f"<bdi>{name}</bdi>", "").count(name)


FSI, PDI = "\u2068", "\u2069"


def plain_text_places(body: str) -> list[str]:
    """The places that cannot hold markup but show a name: <title>, <option>, data-confirm."""
    places = re.findall(r"<(?:title|option)\b[^>]*>(.*?)</(?:title|option)>", body, flags=re.S)
    return places + re.findall(r'data-confirm="([^"]*)"', body)


def bare_in_plain_text(body: str, name: str) -> int:
    """How often `name` shows in a <title>, an <option> or a data-confirm without U+2068…U+2069 around it."""
    return sum(place.replace(f"{FSI}{name}{PDI}", "").count(name) for place in plain_text_places(body))


def assert_isolated_in_plain_text(client, path: str, *names: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.get_data(as_text=True)
    for name in names:
        assert any(f"{FSI}{name}{PDI}" in place for place in plain_text_places(body)), \
            f"{path} has no title, option or confirmation naming {name!r}"
        assert bare_in_plain_text(body, name) == 0, f"{path} names {name!r} without U+2068/U+2069"


def assert_isolated(client, path: str, *names: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, path
    body = response.get_data(as_text=True)
    for name in names:
        assert f"<bdi>{name}</bdi>" in body, f"{path} does not show {name!r}"
        assert outside_bdi(body, name) == 0, f"{path} shows {name!r} outside <bdi>"


@pytest.fixture
def hostile(world):
    community = db.session.get(Community, world.communities[0].id)
    community.name = COMMUNITY
    world.secretaries[0].display_name = PERSON
    schedule.generate(world.programme, world.bureau, 3)
    first = next(s for s in schedule.sessions(world.programme.id) if s.chair_community_id == community.id)
    topics.add_guest(first, world.bureau, {"name": PERSON, "unit": UNIT})
    db.session.commit()
    return community, first


def test_the_check_sees_a_name_left_bare():
    assert outside_bdi(f"<p>{COMMUNITY} 主持</p>", COMMUNITY) == 1
    assert outside_bdi(f"<p><bdi>{COMMUNITY}</bdi> 主持</p>", COMMUNITY) == 0
    assert outside_bdi(f'<input value="{COMMUNITY}"><title>{COMMUNITY}</title>', COMMUNITY) == 0
    assert bare_in_plain_text(f"<title>{COMMUNITY}</title>", COMMUNITY) == 1
    assert bare_in_plain_text(f'<option value="1">{COMMUNITY}</option>', COMMUNITY) == 1
    assert bare_in_plain_text(f'<form data-confirm="停用{COMMUNITY}？">', COMMUNITY) == 1
    assert bare_in_plain_text(f'<title>{FSI}{COMMUNITY}{PDI}</title><input value="{COMMUNITY}">', COMMUNITY) == 0


def test_names_in_titles_options_and_confirmations_are_isolated(as_bureau, world, hostile):
    community, session = hostile
    # <title> and the deactivation's confirmation
    assert_isolated_in_plain_text(as_bureau, f"/communities/{community.id}", COMMUNITY)
    assert_isolated_in_plain_text(as_bureau, f"/schedule/communities/{community.id}", COMMUNITY)
    # the calendar feeds' <select>
    assert_isolated_in_plain_text(as_bureau, "/schedule/feeds", COMMUNITY)
    # removing a guest asks first, naming them
    assert_isolated_in_plain_text(as_bureau, f"/topics/sessions/{session.id}/agenda", PERSON)
    # another chair's session offers the hostile community's session for a swap
    other = next(s for s in schedule.sessions(world.programme.id)
                 if s.chair_community_id not in (None, community.id) and s.starts_at > session.starts_at)
    assert_isolated_in_plain_text(as_bureau, f"/sessions/{other.id}", COMMUNITY)


def test_the_bureau_sees_names_isolated(as_bureau, hostile):
    community, session = hostile
    for path in ("/communities", f"/communities/{community.id}", "/schedule", f"/schedule/communities/{community.id}",
                 f"/sessions/{session.id}"):
        assert_isolated(as_bureau, path, COMMUNITY)
    assert_isolated(as_bureau, "/people", PERSON)
    assert_isolated(as_bureau, f"/communities/{community.id}", PERSON)
    assert_isolated(as_bureau, f"/topics/sessions/{session.id}/agenda", PERSON, UNIT)
    # A message after a change, written in Python, isolates the name too.
    response = as_bureau.post(f"/communities/{community.id}/deactivate", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'class="flash' in body
    assert f"<bdi>{COMMUNITY}</bdi>" in body and outside_bdi(body, COMMUNITY) == 0


def test_the_secretary_sees_names_isolated(client, world, hostile):
    community, session = hostile
    assert login(client, world.secretaries[0].username).status_code == 302
    assert_isolated(client, "/", COMMUNITY, PERSON)
    assert_isolated(client, "/account", COMMUNITY, PERSON)
    assert_isolated(client, f"/schedule/communities/{community.id}", COMMUNITY)
