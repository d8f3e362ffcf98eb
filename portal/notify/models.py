"""Notification tables: the outbox, channel configurations, preferences, duty rosters, reminders.

JSON columns are TextFields holding ``json.dumps`` output, the same on SQLite and PostgreSQL.
"""

import json

from peewee import BooleanField
from peewee import CharField
from peewee import DateField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.db import BaseModel
from portal.db import UTCDateTimeField

STATUSES = ("pending", "sending", "sent", "failed", "dead")
# Rows the delivery task may claim (with next_attempt_at <= now), besides stale 'sending' rows.
CLAIMABLE = ("pending", "failed")
KEY_LENGTH = 255


class JSONField(TextField):
    """A JSON value stored as text (readable UTF-8)."""

    def db_value(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def python_value(self, value):
        return None if value is None else json.loads(value)


class ChannelConfig(BaseModel):
    """One configured destination: an SMTP server, a WeCom/DingTalk/Feishu robot, a webhook.

    ``organization`` NULL: the installation's own (receives every organisation's events);
    otherwise only events about objects of that hospital or vendor. ``events`` empty: all events.
    The secret is write-only in the UI and API (shown masked, e.g. ``SEC1…9f3a``).
    """

    name = CharField(max_length=100, unique=True)
    kind = CharField(max_length=30)  # a registered channel name: email, wecom, webhook, dingtalk, …
    organization = ForeignKeyField(Organization, null=True, backref="+", on_delete="CASCADE")
    settings = JSONField(default=dict)
    secret = CharField(max_length=500, default="")
    events = JSONField(default=list)
    enabled = BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    def __str__(self):
        return self.name


class Notification(BaseModel):
    """The outbox: one row per (recipient or channel config) and event, written in the same
    transaction as the change; delivered by ``notify.deliver`` at most once per claim."""

    recipient = ForeignKeyField(User, null=True, backref="+", on_delete="CASCADE")
    channel = CharField(max_length=30)
    config = ForeignKeyField(ChannelConfig, null=True, backref="+", on_delete="SET NULL")
    target = CharField(max_length=500, default="")  # an address, or "" when the config holds it
    event = CharField(max_length=50)
    payload = JSONField(default=dict)
    idempotency_key = CharField(max_length=KEY_LENGTH, unique=True)
    urgent = BooleanField(default=False)
    status = CharField(max_length=10, default="pending")
    attempts = IntegerField(default=0)
    last_error = TextField(default="")
    next_attempt_at = UTCDateTimeField(default=utcnow)
    claimed_at = UTCDateTimeField(null=True)
    claim_token = CharField(max_length=32, null=True)
    sent_at = UTCDateTimeField(null=True)
    read_at = UTCDateTimeField(null=True)  # in-app inbox only
    created_at = UTCDateTimeField(default=utcnow)
    # Denormalised for org scoping of the admin queue and the inbox: whose object it is about.
    hospital = ForeignKeyField(Organization, null=True, backref="+", on_delete="SET NULL")
    vendor = ForeignKeyField(Organization, null=True, backref="+", on_delete="SET NULL")

    class Meta:
        indexes = (
            # The claim and the sweeper: status range + due time.
            (("status", "next_attempt_at"), False),
            (("status", "claimed_at"), False),
            # The inbox: a user's rows of one channel, newest first; unread count.
            (("recipient", "channel", "id"), False),
            (("recipient", "channel", "read_at"), False),
        )


class NotificationPreference(BaseModel):
    """A user's choices: which events, which personal channels, quiet hours (HH:MM local)."""

    user = ForeignKeyField(User, unique=True, backref="+", on_delete="CASCADE")
    muted_events = JSONField(default=list)
    channels = JSONField(default=list)  # personal channels besides the inbox, e.g. ["email"]
    quiet_start = CharField(max_length=5, default="")
    quiet_end = CharField(max_length=5, default="")
    updated_at = UTCDateTimeField(default=utcnow)


class DutyRoster(BaseModel):
    """值班表: who is on duty outside working hours. A row covers a day in [start, end] when the
    day's ISO weekday digit is in ``weekdays`` ("12345" = Mon–Fri nights), or when ``holidays``
    is set and the business calendar marks the day a statutory holiday."""

    vendor = ForeignKeyField(Organization, backref="+", on_delete="CASCADE")
    hospital = ForeignKeyField(Organization, null=True, backref="+", on_delete="CASCADE")
    engineer = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    start_date = DateField()
    end_date = DateField()
    weekdays = CharField(max_length=7, default="")
    holidays = BooleanField(default=False)
    note = CharField(max_length=200, default="")

    class Meta:
        indexes = ((("vendor", "start_date"), False),)


class Reminder(BaseModel):
    """A scheduled obligation announced once: pre-holiday/quarterly inspection, a report, an
    expiring contract, a payment, a quota threshold. ``key`` makes the scheduler idempotent."""

    key = CharField(max_length=KEY_LENGTH, unique=True)
    kind = CharField(max_length=30, index=True)
    contract_id = IntegerField(null=True, index=True)
    hospital = ForeignKeyField(Organization, null=True, backref="+", on_delete="CASCADE")
    vendor = ForeignKeyField(Organization, null=True, backref="+", on_delete="CASCADE")
    due_date = DateField(index=True)
    title = CharField(max_length=300)
    body = TextField(default="")
    created_at = UTCDateTimeField(default=utcnow)


MODELS = (ChannelConfig, Notification, NotificationPreference, DutyRoster, Reminder)
