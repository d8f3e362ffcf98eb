"""The OpenAPI document describes what the code serves: schemathesis fuzzes every operation in-process.

schemathesis' pytest plugin does not run under pytest 9, so each operation's hypothesis strategy
is driven directly; the checks are schemathesis' own (no 5xx, status codes, content types and
response bodies as documented). Positive-data acceptance is left out: our checks are stricter
than JSON Schema can say (real calendar dates, cross-field rules), so schema-valid input may
rightly get a 4xx; every 4xx is still checked against the documented error shape.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from portal.accounts import commands


@pytest.fixture
def api_app(make_app, make_user):
    app = make_app()
    admin = make_user("admin", username="schema-admin")
    with app.app_context():
        app.config["SCHEMA_TOKEN"] = commands.create_token(admin.username)
    return app


def test_every_operation_conforms_and_never_500s(api_app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)
    headers = {"Authorization": f"Bearer {api_app.config['SCHEMA_TOKEN']}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 5

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def exercise(case):
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        exercise()
