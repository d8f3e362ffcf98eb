"""Contract models; the tickets package imports these names."""

from decimal import Decimal

from peewee import BooleanField
from peewee import CharField
from peewee import DateField
from peewee import DecimalField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from portal.accounts.models import Organization
from portal.accounts.models import utcnow
from portal.db import BaseModel
from portal.db import UTCDateTimeField

SYSTEM_CLASSES = ("HIS", "CIS", "other")
PRIORITIES = ("P1", "P2", "P3", "P4")
SLA_KINDS = ("response", "onsite", "resolve")
QUOTA_PERIODS = ("year", "contract")
QUOTA_UNITS = ("count", "person_days")


def _money(**kwargs):
    return DecimalField(max_digits=15, decimal_places=2, auto_round=True, **kwargs)


def _percent(default, **kwargs):
    return DecimalField(max_digits=7, decimal_places=3, auto_round=True, default=Decimal(default), **kwargs)


class Contract(BaseModel):
    number = CharField(max_length=100, unique=True)
    title = CharField(max_length=300)
    hospital = ForeignKeyField(Organization, backref="hospital_contracts", on_delete="RESTRICT")
    vendor = ForeignKeyField(Organization, backref="vendor_contracts", on_delete="RESTRICT")
    start_date = DateField()
    end_date = DateField()
    amount = _money(default=Decimal("0"))
    tax_rate = _percent("0")  # percent, e.g. 6 for 6 %
    penalty_percent_per_day = _percent("3")
    penalty_cap_percent = _percent("10")
    uptime_target_percent = _percent("98")
    staffing = TextField(default="")
    report_obligations = TextField(default="")
    inspection_obligations = TextField(default="")
    notes = TextField(default="")
    created_at = UTCDateTimeField(default=utcnow)

    def __str__(self):
        return f"{self.number} {self.title}"


class CoveredSystem(BaseModel):
    contract = ForeignKeyField(Contract, backref="systems", on_delete="CASCADE")
    category = CharField(max_length=100, default="")
    name = CharField(max_length=200)
    system_class = CharField(max_length=10, choices=[(c, c) for c in SYSTEM_CLASSES], default="other")
    unit = CharField(max_length=20, default="套")
    quantity = IntegerField(default=1)

    def __str__(self):
        return self.name


class SlaTarget(BaseModel):
    contract = ForeignKeyField(Contract, backref="sla_targets", on_delete="CASCADE")
    priority = CharField(max_length=2, choices=[(p, p) for p in PRIORITIES])
    kind = CharField(max_length=10, choices=[(k, k) for k in SLA_KINDS])
    minutes = IntegerField()
    clock = CharField(max_length=10, choices=[("24x7", "24x7"), ("business", "business")])

    class Meta:
        indexes = ((("contract", "priority", "kind"), True),)

    def __str__(self):
        return f"{self.priority} {self.kind} {self.minutes} {self.clock}"


class Quota(BaseModel):
    contract = ForeignKeyField(Contract, backref="quotas", on_delete="CASCADE")
    kind = CharField(max_length=50)  # custom_requirement | emergency_rescue | secondary_modification | …
    period = CharField(max_length=10, choices=[(p, p) for p in QUOTA_PERIODS], default="year")
    limit = DecimalField(max_digits=10, decimal_places=2, auto_round=True)
    unit = CharField(max_length=12, choices=[(u, u) for u in QUOTA_UNITS], default="count")
    # Largest single item: in person-days (seed 000: each custom requirement ≤ 3 person-days).
    per_item_max = DecimalField(max_digits=10, decimal_places=2, auto_round=True, null=True)

    class Meta:
        indexes = ((("contract", "kind"), True),)

    def __str__(self):
        return f"{self.kind} {self.limit} {self.unit}/{self.period}"


class QuotaUsage(BaseModel):
    quota = ForeignKeyField(Quota, backref="usages", on_delete="CASCADE")
    amount = DecimalField(max_digits=10, decimal_places=2, auto_round=True)
    item_size = DecimalField(max_digits=10, decimal_places=2, auto_round=True, null=True)
    at = UTCDateTimeField(default=utcnow, index=True)
    source_type = CharField(max_length=50, default="")
    source_id = CharField(max_length=100, default="")
    note = TextField(default="")
    over_limit = BooleanField(default=False)


class PaymentInstallment(BaseModel):
    contract = ForeignKeyField(Contract, backref="payments", on_delete="CASCADE")
    due_date = DateField()
    amount = _money()
    paid_date = DateField(null=True)
    note = TextField(default="")


class Outage(BaseModel):
    system = ForeignKeyField(CoveredSystem, backref="outages", on_delete="CASCADE")
    started_at = UTCDateTimeField(index=True)
    ended_at = UTCDateTimeField(null=True)
    cause = TextField(default="")
    ticket_id = IntegerField(null=True)  # tickets live in another package; no FK to keep it optional


MODELS = (Contract, CoveredSystem, SlaTarget, Quota, QuotaUsage, PaymentInstallment, Outage)
