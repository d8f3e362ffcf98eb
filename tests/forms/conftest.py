import datetime

import pytest

from forms.builtin import compile_builtin_definitions
from forms.environment import default_environment
from forms.errors import text
from forms.expressions import EvalContext


def fake_workdays(start, end):
    """Count Monday-Friday days in [start, end) — a stand-in for the business calendar."""
    days, step = 0, start
    while step < end:
        days += step.weekday() < 5
        step += datetime.timedelta(days=1)
    return days


@pytest.fixture
def env():
    return default_environment()


@pytest.fixture
def ctx():
    return EvalContext(today=datetime.date(2026, 3, 2), workdays_between=fake_workdays)


@pytest.fixture(scope="module")
def builtins():
    return compile_builtin_definitions()


def by_field(problems, locale="en"):
    """Map each problem's field path to its messages in *locale*."""
    out = {}
    for problem in problems:
        out.setdefault(problem.field, []).append(text(problem.message, locale))
    return out


def detail_fields(error):
    return {detail["field"]: detail for detail in error.as_dict("en")["error"]["details"]}


# ---------------------------------------------------------------- app-level fixtures

@pytest.fixture
def contract(app, hospital, vendor):
    from datetime import date

    from portal.contracts.models import Contract
    from portal.contracts.models import CoveredSystem
    from portal.contracts.models import Quota

    contract = Contract.create(number="MSZC2024-D3-00267", title="HIS 维保", hospital=hospital,
                               vendor=vendor, start_date=date(2024, 5, 1),
                               end_date=date(2030, 4, 30))
    CoveredSystem.create(contract=contract, name="门急诊收费系统", system_class="HIS")
    Quota.create(contract=contract, kind="custom_requirement", period="year", limit=20,
                 unit="count")
    return contract


@pytest.fixture
def other_contract(app, other_hospital, vendor):
    from datetime import date

    from portal.contracts.models import Contract

    return Contract.create(number="PN2025-001", title="平南维保", hospital=other_hospital,
                           vendor=vendor, start_date=date(2025, 1, 1), end_date=date(2030, 12, 31))


@pytest.fixture
def token_for(app):
    from portal.accounts import commands

    def build(user):
        with app.app_context():
            return {"Authorization": f"Bearer {commands.create_token(user.username)}"}

    return build


@pytest.fixture
def admin_user(make_user):
    return make_user("admin", username="formadmin")


@pytest.fixture
def admin_headers(admin_user, token_for):
    return token_for(admin_user)
