"""Report fixtures: a contract with one system per class, tickets made with explicit times."""

import itertools
from datetime import date
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from portal.accounts import commands
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.tickets.models import Ticket

SH = ZoneInfo("Asia/Shanghai")
_numbers = itertools.count(1)


def at(*parts):
    """An aware Shanghai time: at(2025, 3, 4, 9, 30)."""
    return datetime(*parts, tzinfo=SH)


def make_contract(hospital, vendor, number="WB-2025-001"):
    contract = Contract.create(number=number, title="信息系统维保服务", hospital=hospital, vendor=vendor,
                               start_date=date(2024, 1, 1), end_date=date(2027, 12, 31))
    systems = {
        "HIS": CoveredSystem.create(contract=contract, category="门诊", name="门急诊收费系统", system_class="HIS"),
        "CIS": CoveredSystem.create(contract=contract, category="临床", name="一体化医生工作站", system_class="CIS"),
        "other": CoveredSystem.create(contract=contract, category="接口", name="电子发票接口", system_class="other"),
    }
    return contract, systems


def make_ticket(contract, system=None, **fields):
    """A ticket row written directly with the given times (the report reads rows, not workflow)."""
    reported = fields.pop("reported_at")
    values = dict(number=f"T-R{next(_numbers):07d}", contract=contract, hospital=contract.hospital_id,
                  vendor=contract.vendor_id, system=system, title=fields.pop("title", "收费处打印发票报错"),
                  category=fields.pop("category", "fault"), priority=fields.pop("priority", "P3"),
                  status=fields.pop("status", "new"), reported_at=reported, created_at=reported, updated_at=reported,
                  reporter_name="李护士长", reporter_department="门诊部")
    values.update(fields)
    return Ticket.create(**values)


@pytest.fixture
def contract_pair(app, hospital, vendor):
    return make_contract(hospital, vendor)


@pytest.fixture
def token_for(app):
    def build(user):
        with app.app_context():
            return {"Authorization": f"Bearer {commands.create_token(user.username)}"}

    return build
