"""Schemathesis fuzzes every route of the airlock's API from its OpenAPI description, with
valid and invalid inputs, as a researcher of a project: no answer is a server error, and
every error has the documented ``{error, message}`` shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from agoria_tre.airlock.openapi import document
from agoria_tre.testing.platform import TrialPlatform

pytestmark = pytest.mark.workspaces

schema = schemathesis.openapi.from_dict(document())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    allow_x00=True,
)


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_no_route_fails_or_answers_out_of_shape(
    case: schemathesis.Case[Any], airlock_platform: TrialPlatform, tokens: dict[str, str]
) -> None:
    response = case.call(
        base_url=f"{airlock_platform.public_url}/services/airlock",
        headers={"Authorization": f"token {tokens['alice']}"},
        timeout=120,
    )
    assert response.status_code < 500, (case.method, case.path, response.text[:300])
    if response.status_code >= 400:
        body = json.loads(response.text)
        assert set(body) == {"error", "message"}, body
        assert body["message"]
