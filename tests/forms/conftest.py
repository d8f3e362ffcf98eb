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
