"""Calendar settings (one row) and the day table (official rows seeded, admin rows entered)."""

from peewee import CharField
from peewee import DateField
from peewee import IntegerField
from peewee import TextField

from portal.accounts.models import utcnow
from portal.db import BaseModel
from portal.db import UTCDateTimeField

DAY_KINDS = ("holiday", "adjusted_workday", "workday", "weekend")
SOURCES = ("official", "admin")


class CalendarSettings(BaseModel):
    """The installation's calendar: time zone and working hours ("HH:MM"); ``version`` is bumped
    on every calendar edit so every process notices and rebuilds its cached calendar."""

    timezone = CharField(max_length=64, default="Asia/Shanghai")
    work_start = CharField(max_length=5, default="08:30")
    work_end = CharField(max_length=5, default="17:30")
    version = IntegerField(default=1)
    updated_at = UTCDateTimeField(default=utcnow)

    def __str__(self):
        return f"{self.timezone} {self.work_start}–{self.work_end}"


class CalendarDay(BaseModel):
    """An explicit day: a holiday, an adjusted working day, or an admin's override."""

    day = DateField(unique=True)
    kind = CharField(max_length=20, choices=[(k, k) for k in DAY_KINDS])
    name = CharField(max_length=50, default="")
    source = CharField(max_length=10, choices=[(s, s) for s in SOURCES], default="admin", index=True)
    note = TextField(default="")

    def __str__(self):
        return f"{self.day} {self.kind}"
