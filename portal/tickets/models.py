"""Ticket tables: the ticket, its timeline, pauses, hash-chained data-change records, numbering."""

from peewee import BooleanField
from peewee import CharField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from portal.accounts.models import Department
from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.db import BaseModel
from portal.db import UTCDateTimeField

PRIORITIES = ("P1", "P2", "P3", "P4")
CATEGORIES = ("consultation", "fault", "bug", "requirement", "data_correction", "report", "interface")
CHANNELS = ("phone", "remote", "onsite", "portal", "wecom", "email", "other")
STATUSES = ("new", "accepted", "in_progress", "waiting_customer", "waiting_authorization",
            "resolved", "reopened", "closed")
OPEN_STATUSES = tuple(status for status in STATUSES if status not in ("resolved", "closed"))
# The SLA clock stops in these states (DESIGN §4).
PAUSE_STATUSES = ("waiting_customer", "waiting_authorization")
# States in which the SLA clock runs and a resolve deadline can be breached.
RUNNING_STATUSES = ("new", "accepted", "in_progress", "reopened")
# Not yet responded to: the response clock runs.
UNANSWERED_STATUSES = ("new",)
SLA_KINDS = ("response", "onsite", "resolve")
TEXT_LIMITS = {"title": 200, "reporter_name": 100, "reporter_department": 100, "reporter_phone": 50}


def _choices(values):
    return [(value, value) for value in values]


class TicketSequence(BaseModel):
    """The last number handed out per year; incremented inside the creating transaction."""

    year = IntegerField(primary_key=True)
    last = IntegerField(default=0)


class Ticket(BaseModel):
    number = CharField(max_length=20, unique=True)
    contract = ForeignKeyField(Contract, backref="tickets", on_delete="RESTRICT")
    # Denormalised from the contract: every read is scoped by these, and they are indexed.
    hospital = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    vendor = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    system = ForeignKeyField(CoveredSystem, null=True, backref="tickets", on_delete="SET NULL")
    title = CharField(max_length=200)
    description = TextField(default="")
    reporter = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    department = ForeignKeyField(Department, null=True, backref="+", on_delete="SET NULL")
    reporter_name = CharField(max_length=100, default="")
    reporter_department = CharField(max_length=100, default="")
    reporter_phone = CharField(max_length=50, default="")
    channel = CharField(max_length=20, choices=_choices(CHANNELS), default="portal")
    category = CharField(max_length=20, choices=_choices(CATEGORIES))
    priority = CharField(max_length=2, choices=_choices(PRIORITIES), index=True)
    status = CharField(max_length=24, choices=_choices(STATUSES), default="new", index=True)
    assignee = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL", index=True)
    accepted_at = UTCDateTimeField(null=True)
    accepted_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    first_response_at = UTCDateTimeField(null=True)
    onsite_arrived_at = UTCDateTimeField(null=True)
    resolved_at = UTCDateTimeField(null=True)
    closed_at = UTCDateTimeField(null=True)
    resolution = TextField(default="")  # 处理方法
    root_cause = TextField(default="")
    authorized_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    authorized_at = UTCDateTimeField(null=True)
    confirmed_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    confirmed_at = UTCDateTimeField(null=True)
    satisfaction = IntegerField(null=True)
    kb_article_id = IntegerField(null=True)
    reported_at = UTCDateTimeField(index=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)
    # SLA: deadlines after pauses, wall-clock paused minutes, breach flags and warning levels.
    response_due = UTCDateTimeField(null=True, index=True)
    onsite_due = UTCDateTimeField(null=True)
    resolve_due = UTCDateTimeField(null=True, index=True)
    paused_since = UTCDateTimeField(null=True)
    paused_minutes = IntegerField(default=0)
    response_breached = BooleanField(default=False)
    onsite_breached = BooleanField(default=False)
    resolve_breached = BooleanField(default=False)
    response_level = IntegerField(default=0)
    resolve_level = IntegerField(default=0)
    sla_level = IntegerField(default=0)
    # When the sweep must look at this ticket next (the next warning level or a deadline);
    # NULL while paused or finished. The sweep selects `sla_next_at <= now` through its index.
    sla_next_at = UTCDateTimeField(null=True, index=True)

    class Meta:
        indexes = (
            (("hospital", "id"), False),
            (("vendor", "id"), False),
            (("contract", "id"), False),
            (("status", "resolve_due"), False),
            (("status", "response_due"), False),
            # The engineer queue and the dashboard's open counts (bench bottleneck 3): one index
            # range per organisation and status instead of every ticket of the vendor.
            (("vendor", "status", "resolve_due"), False),
            (("hospital", "status", "resolve_due"), False),
            # The list filtered by status, newest first (migration filter_indexes): a rare status
            # (待授权: 206 of a vendor's 1M) walked every ticket of the organisation newest first,
            # 0.1-0.8 s a page at 1M. Not for priority: with an (organisation, priority) index
            # SQLite read the dashboard's open counts (GROUP BY priority, status) along it, every
            # ticket of the vendor (1 s at 1M; bench/README.md).
            (("vendor", "status", "id"), False),
            (("hospital", "status", "id"), False),
        )

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_data_correction(self):
        return self.category == "data_correction"


class TicketEvent(BaseModel):
    """One line of a ticket's timeline; comments are events of kind ``comment``."""

    ticket = ForeignKeyField(Ticket, backref="events", on_delete="CASCADE")
    kind = CharField(max_length=30)
    at = UTCDateTimeField(default=utcnow)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    from_status = CharField(max_length=24, default="")
    to_status = CharField(max_length=24, default="")
    body = TextField(default="")

    class Meta:
        indexes = ((("ticket", "at", "id"), False),)


class TicketPause(BaseModel):
    """A stretch of time the SLA clock stood still, with a reason the hospital can see."""

    ticket = ForeignKeyField(Ticket, backref="pauses", on_delete="CASCADE")
    started_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(null=True)
    reason = TextField(default="")
    status = CharField(max_length=24, default="")


GENESIS_HASH = "0" * 64


class DataChangeRecord(BaseModel):
    """What an engineer ran against the hospital's data (数据修改记录): append-only, hash-chained.

    ``hash`` = sha256 of the canonical JSON of the record's fields plus ``prev_hash``. ``prev_hash``
    is unique, so two writers racing for the same chain head cannot fork the chain: one of them
    fails and retries on the new head (the same on SQLite and PostgreSQL).
    """

    ticket = ForeignKeyField(Ticket, backref="data_changes", on_delete="RESTRICT")
    hospital = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    vendor = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    engineer = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    script = TextField()
    affected_rows = IntegerField()
    before_summary = TextField(default="")
    after_summary = TextField(default="")
    authorized_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    authorized_at = UTCDateTimeField()
    recorded_at = UTCDateTimeField(default=utcnow)
    prev_hash = CharField(max_length=64, unique=True)
    hash = CharField(max_length=64, unique=True)


MODELS = (TicketSequence, Ticket, TicketEvent, TicketPause, DataChangeRecord)
