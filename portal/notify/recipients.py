"""Who is told: org-scoped visibility, preferences and quiet hours, duty rosters, and the fan-out
of one event into outbox rows (inbox + personal channels per user, plus group channel configs)."""

from datetime import datetime
from datetime import time
from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale

from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.calendar import DayKind
from portal.db import db
from portal.notify.models import ChannelConfig
from portal.notify.models import DutyRoster
from portal.notify.models import NotificationPreference
from portal.notify.outbox import INBOX
from portal.notify.outbox import channels
from portal.notify.outbox import notify
from portal.notify.outbox import setting
from portal.tickets.models import Ticket
from portal.tickets.service import can_see

VENDOR_STAFF = ("engineer", "manager")


def calendar():
    from portal.calendars.service import current_calendar

    return current_calendar()


def zone():
    return ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")


def org_ids(obj):
    """(hospital_id, vendor_id) of an object, from its own fields or its contract's."""
    hospital = getattr(obj, "hospital_id", None)
    vendor = getattr(obj, "vendor_id", None)
    return hospital, vendor


def visible_to(user, obj):
    """Whether *user* may see *obj*: the same rule as the object's own pages (tickets: the tickets
    package's scoping, with the reporter's own/department rule); else the organisation match."""
    if user is None or not user.active:
        return False
    if user.role == "admin":
        return True
    if isinstance(obj, Ticket):
        return can_see(user, obj)
    hospital, vendor = org_ids(obj)
    if user.organization_id not in {hospital, vendor} - {None}:
        return False
    created_by = getattr(obj, "created_by_id", None)
    return user.role != "reporter" or created_by == user.id


def users_of(organization_id, roles):
    if organization_id is None:
        return []
    return list(User.select().where((User.organization == organization_id) & User.role.in_(roles)
                                    & (User.active == True)).order_by(User.id))  # noqa: E712


def vendor_staff(vendor_id, roles=VENDOR_STAFF):
    return users_of(vendor_id, roles)


def hospital_it(hospital_id):
    return users_of(hospital_id, ("hospital_it",))


def off_hours(at):
    """Outside the business calendar's working periods (nights, weekends, holidays)."""
    return calendar().next_working_instant(at) != at.astimezone(calendar().tz)


def on_duty(vendor_id, hospital_id, at):
    """The engineers the duty roster puts on call at *at* (local day) for this vendor/hospital."""
    cal = calendar()
    day = at.astimezone(cal.tz).date()
    rows = (DutyRoster.select().where(
        (DutyRoster.vendor == vendor_id) & (DutyRoster.start_date <= day) & (DutyRoster.end_date >= day)
        & (DutyRoster.hospital.is_null() | (DutyRoster.hospital == hospital_id))).order_by(DutyRoster.id))
    holiday = cal.day_kind(day) is DayKind.holiday
    found = []
    for row in rows:
        if str(day.isoweekday()) in (row.weekdays or "") or (row.holidays and holiday):
            found.append(row.engineer)
    return [user for user in found if user.active]


def preferences(users):
    """Return {user id: preference} for *users* in one query (defaults for those without a row)."""
    stored = {pref.user_id: pref for pref in NotificationPreference.select().where(
        NotificationPreference.user.in_([user.id for user in users]))}
    return {user.id: stored.get(user.id) or _default_preference(user) for user in users}


def preference(user):
    return preferences([user])[user.id]


def _default_preference(user):
    return NotificationPreference(user=user.id, muted_events=[], channels=["email"] if user.email else [])


def _hhmm(value):
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except (TypeError, ValueError):
        return None


def quiet_until(pref, at):
    """The end of the user's quiet hours if *at* falls inside them, else None."""
    start, end = _hhmm(pref.quiet_start), _hhmm(pref.quiet_end)
    if start is None or end is None or start == end:
        return None
    local = at.astimezone(zone())
    moment = local.time()
    day = local.date()
    if start < end:
        inside, end_day = start <= moment < end, day
    elif moment >= start:
        inside, end_day = True, day + timedelta(days=1)
    else:
        inside, end_day = moment < end, day
    return datetime.combine(end_day, end, tzinfo=zone()) if inside else None


def _locale(user):
    return (getattr(user, "locale", "") or current_app.config.get("BABEL_DEFAULT_LOCALE") or "zh_CN")


def render(message, user=None):
    """Build the payload in the recipient's language (the installation's for group channels)."""
    with force_locale(_locale(user)):
        payload = dict(message())
    for name in ("title", "body", "link_text"):
        if name in payload:
            payload[name] = str(payload[name])
    url = payload.get("url")
    if url and url.startswith("/"):
        payload["url"] = str(setting("NOTIFY_BASE_URL") or "").rstrip("/") + url
    return payload


def email_config(user):
    """The e-mail server for *user*: their organisation's, else the installation's."""
    query = (ChannelConfig.select().where((ChannelConfig.kind == "email") & (ChannelConfig.enabled == True)  # noqa: E712
                                          & (ChannelConfig.organization.is_null()
                                             | (ChannelConfig.organization == user.organization_id)))
             .order_by(ChannelConfig.organization.desc(nulls="last"), ChannelConfig.id))
    return query.first()


def group_configs(event, hospital_id, vendor_id):
    registry = channels()
    configs = (ChannelConfig.select().where((ChannelConfig.enabled == True)  # noqa: E712
                                            & (ChannelConfig.organization.is_null()
                                               | ChannelConfig.organization.in_([hospital_id or 0, vendor_id or 0])))
               .order_by(ChannelConfig.id))
    return [config for config in configs if config.kind in registry and not registry.get(config.kind).per_user
            and (not config.events or event in config.events)]


def dispatch(event, obj, users, message, key, urgent=False, now=None):
    """Write the outbox rows of one event inside the caller's transaction; return how many.

    Users who may not see *obj* are left out. Each user gets an inbox row and one row per personal
    channel they chose (delayed to the end of their quiet hours unless *urgent*); every enabled
    group channel of the object's organisations (or the installation's) that takes *event* gets one.
    """
    now = now or utcnow()
    hospital, vendor = org_ids(obj)
    registry = channels()
    written = 0
    seen = set()
    people = [user for user in users if user is not None]
    prefs = preferences(people)
    with db.atomic():
        for user in people:
            if user.id in seen:
                continue
            seen.add(user.id)
            if not visible_to(user, obj):
                continue
            pref = prefs[user.id]
            if event in (pref.muted_events or []) and not urgent:
                continue
            payload = render(message, user)
            payload.update(event=event, urgent=bool(urgent))
            common = {"urgent": urgent, "hospital": hospital, "vendor": vendor, "now": now}
            written += notify(event, user, INBOX, payload, f"{key}:u{user.id}:{INBOX}", **common) is not None
            later = None if urgent else quiet_until(pref, now)
            for name in pref.channels or []:
                if name == INBOX or name not in registry or not registry.get(name).per_user:
                    continue
                config = email_config(user) if name == "email" else None
                if name == "email" and config is None:
                    continue
                written += notify(event, user, name, payload, f"{key}:u{user.id}:{name}", target=user.email,
                                  config=config, not_before=later, **common) is not None
        configs = group_configs(event, hospital, vendor)
        if configs:
            payload = render(message)
            payload.update(event=event, urgent=bool(urgent))
            for config in configs:
                written += notify(event, None, config.kind, payload, f"{key}:c{config.id}", config=config,
                                  urgent=urgent, hospital=hospital, vendor=vendor, now=now) is not None
    return written
