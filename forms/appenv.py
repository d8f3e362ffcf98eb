"""The forms Environment and evaluation context of one running app, built from its registries.

Built-ins and plugins register field types, expression functions, validators and form actions
through the plugin context; a definition compiled here may use any of them.
"""

import datetime

from flask import current_app

from forms.environment import Environment
from forms.expressions import EvalContext

MAX_WORKDAY_SPAN = 366 * 20


def _state(app=None):
    return (app or current_app).extensions["weibao"]


def environment(app=None):
    """Return the Environment of *app* (field types, functions, action names)."""
    state = _state(app)
    return Environment(field_types=state.registry("field type"),
                       functions=state.registry("expression function"),
                       actions=frozenset(state.registry("form action").names()))


def local_today(app=None):
    """Today in the installation's time zone (the business calendar's)."""
    from portal.calendars.service import current_calendar

    return datetime.datetime.now(current_calendar().tz).date()


def calendar_workdays(start, end):
    """Count working days in [start, end) on the business calendar (negative when end < start)."""
    from portal.calendars.service import current_calendar

    if start > end:
        return -calendar_workdays(end, start)
    if (end - start).days > MAX_WORKDAY_SPAN:
        from forms.errors import ExpressionError
        from forms.errors import msg

        raise ExpressionError(msg("日期跨度过大（上限 20 年）", "date span too large (limit 20 years)"))
    calendar = current_calendar()
    days, step = 0, start
    while step < end:
        days += calendar.is_working_day(step)
        step += datetime.timedelta(days=1)
    return days


def eval_context(app=None):
    """Return the EvalContext for evaluating submissions in *app*."""
    return EvalContext(today=local_today(app), workdays_between=calendar_workdays,
                       functions=_state(app).registry("expression function"))
