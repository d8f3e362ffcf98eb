"""Manual evidence the scorecard needs (letters of praise, survey results) and weekly confirmations.

Rows carry the contract's hospital and vendor (denormalised, indexed) so every read is scoped
with ``portal.permissions.scope`` like tickets are.
"""

from peewee import CharField
from peewee import DateField
from peewee import DecimalField
from peewee import ForeignKeyField
from peewee import IntegerField
from peewee import TextField

from portal.accounts.models import Organization
from portal.accounts.models import User
from portal.accounts.models import utcnow
from portal.contracts.models import Contract
from portal.db import BaseModel
from portal.db import UTCDateTimeField


class ContractEvidence(BaseModel):
    """Columns every evidence row shares: its contract, the contract's two parties for scoping."""

    contract = ForeignKeyField(Contract, backref="+", on_delete="CASCADE")
    hospital = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")
    vendor = ForeignKeyField(Organization, backref="+", on_delete="RESTRICT")


class PraiseLetter(ContractEvidence):
    """A written letter of praise from the hospital (seed 002: +2 points each)."""

    received_on = DateField(index=True)
    title = CharField(max_length=200)
    note = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    def __str__(self):
        return f"{self.received_on} {self.title}"


class SurveyResult(ContractEvidence):
    """A tabulated satisfaction survey (信息中心制表格发给临床打分): mean score 1–5 over N answers."""

    year = IntegerField(index=True)
    mean_score = DecimalField(max_digits=4, decimal_places=2, auto_round=True)
    respondents = IntegerField(default=1)
    note = TextField(default="")
    created_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    def __str__(self):
        return f"{self.year}: {self.mean_score} × {self.respondents}"


class WeeklyConfirmation(ContractEvidence):
    """A hospital_it user's confirmation of one week's sheet, with the content they confirmed."""

    week_start = DateField()  # the Monday, in the installation's time zone
    checksum = CharField(max_length=64)  # sha256 of the canonical JSON snapshot
    snapshot_json = TextField()
    confirmed_by = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
    confirmed_at = UTCDateTimeField(default=utcnow)
    note = TextField(default="")

    class Meta:
        indexes = ((("contract", "week_start", "confirmed_at"), False),)


MODELS = (PraiseLetter, SurveyResult, WeeklyConfirmation)
