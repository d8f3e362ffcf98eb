"""Display labels and local-time formatting shared by the report pages and exports."""

from flask_babel import lazy_gettext as _l

from portal.calendars.service import current_calendar
from portal.tickets.workflow import CATEGORY_LABELS
from portal.tickets.workflow import PRIORITY_LABELS
from portal.tickets.workflow import STATUS_LABELS

GROUP_LABELS = {"questions": _l("Questions"), "bugs": _l("Bugs"), "requests": _l("Requests")}
CLASS_LABELS = {"HIS": "HIS", "CIS": "CIS", "other": _l("Other systems")}
MILESTONE_LABELS = {"solution": _l("Solution (10 working days)"), "done": _l("Done (20 working days)"),
                    "online": _l("Online (30 working days)")}
REASON_LABELS = {"response_missed": _l("response late"), "resolution_missed": _l("resolution late"),
                 "solution_late": _l("solution late"), "done_late": _l("done late"), "online_late": _l("online late")}


def local(value, seconds=False):
    if value is None:
        return ""
    text = value.astimezone(current_calendar().tz).isoformat(sep=" ")
    return text[:19] if seconds else text[:16]


def category(value):
    return str(CATEGORY_LABELS.get(value, value))


def status(value):
    return str(STATUS_LABELS.get(value, value))


def priority(value):
    return str(PRIORITY_LABELS.get(value, value))


def reason(value):
    return ", ".join(str(REASON_LABELS.get(part, part)) for part in (value or "").split(",") if part)


def percent(value, places=1):
    return "—" if value is None else f"{value * 100:.{places}f}%"
