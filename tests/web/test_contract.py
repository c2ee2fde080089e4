"""The OpenAPI document is the contract: Schemathesis sends generated requests to every operation the document
lists (so a room merged later is checked without touching this file) and checks every answer against it."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from tests.conftest import token_for
from tests.web.test_permissions import build_schedule, topics

# Examples per operation and role: enough to reach every documented answer on real ids, few enough that both
# roles on both databases take a couple of minutes (SALON_CONTRACT_EXAMPLES raises it for a longer hunt).
EXAMPLES = int(os.environ.get("SALON_CONTRACT_EXAMPLES", "8"))

# A schema-valid request may still break a rule the schema cannot express (a window closed, a title of blanks,
# a control character): that is a 409 or 422 naming the field, like any other bad input.
CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]}}})
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, negative_data_rejection, positive_data_acceptance,
          missing_required_header, use_after_free, unsupported_method, allow_header_conformance]
# ignored_auth is left out: it re-sends with the headers passed here, which carry the caller's valid token. The
# permission matrix (tests/web/test_permissions.py) checks every API route answers 401 without a token.


def real_ids(world) -> dict[str, int]:
    """Path parameters that name existing rows of the caller's programme, by parameter name."""
    build_schedule(world)
    fixtures = topics(world)
    return {"term_id": trustee_term(world), "community_id": world.communities[0].id, "session_id": fixtures["s1"],
            "nomination_id": fixtures["own"], "poll_id": fixtures["poll3"], "guest_id": fixtures["guest"],
            "request_id": world.extra["request"].id, "feed_id": world.extra["feed"].id,
            "user_id": world.secretaries[1].id}


def trustee_term(world) -> int:
    """A drawn term of trustees of the caller's programme, dealing (the bureau and every secretary)."""
    from flask import current_app

    from salon.extensions import db
    from salon.trustees import services as trustees

    with current_app.test_request_context():
        term = trustees.draw(trustees.announce_draw(world.programme, world.bureau), world.bureau)
        db.session.commit()
    return term.id


def _strategy(operation, ids: dict[str, int]):
    names = {p.name for p in operation.path_parameters}
    fixed = {name: value for name, value in ids.items() if name in names}
    strategies = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if fixed:
        strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
    return st.one_of(strategies)


@pytest.mark.parametrize("role", ["secretary", "bureau"])
def test_every_operation_answers_as_documented(app, client, world, role):
    document = client.get("/api/v1/openapi.json").get_json()
    schema = schemathesis.openapi.from_dict(document, config=CONFIG)
    ids = real_ids(world)
    user = world.bureau if role == "bureau" else world.secretaries[0]
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 50, "the document lost operations"

    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=_strategy(operation, ids))
        def check(case):
            response = case.call(session=client, app=app, headers=headers)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 401 and "Authorization" not in (case.headers or {}):
                # A generated DELETE /tokens/{id} or account reset can revoke the caller's own token.
                headers["Authorization"] = f"Bearer {token_for(user)}"
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - collect every operation's failure
            failures.append(f"{operation.label}: {exc}")
    report = Path("test-artifacts") / f"contract-{role}.txt"
    report.parent.mkdir(exist_ok=True)
    report.write_text(f"answers by status: {dict(sorted(statuses.items()))}\n\n" + "\n\n".join(failures))
    assert not failures, f"{len(failures)} operations disagree with the document (all in {report}):\n" + failures[0]


def test_every_api_timestamp_uses_the_shared_field(app):
    """salon.api.schemas.DateTime always writes an offset; marshmallow's own writes none for naive values."""
    from marshmallow import class_registry, fields

    from salon.api.schemas import DateTime

    timestamps = [(f"{cls.__module__}.{cls.__name__}.{name}", field)
                  for entries in class_registry._registry.values() for cls in entries
                  if cls.__module__.startswith("salon.")
                  for name, field in cls._declared_fields.items() if isinstance(field, fields.DateTime)]
    assert len(timestamps) >= 10  # the API's schemas are registered: the check below has fields to look at
    plain = [name for name, field in timestamps if not isinstance(field, DateTime)]
    assert not plain, f"use salon.api.schemas.DateTime for: {plain}"
