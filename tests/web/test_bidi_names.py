"""Names people type are isolated where pages show them (issue 18): a right-to-left name, or one carrying
U+202E (RIGHT-TO-LEFT OVERRIDE), sits in <bdi> and cannot reorder the sentence around it. <title>, <option>,
<textarea> and attribute values cannot hold markup and are left out of the check."""
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
