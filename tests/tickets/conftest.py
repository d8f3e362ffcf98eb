"""Ticket fixtures: a seed-004-like contract with SLA targets, users with tokens, an API helper."""

from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from zoneinfo import ZoneInfo

import pytest

from portal.accounts import commands
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.contracts.models import SlaTarget

SH = ZoneInfo("Asia/Shanghai")
# (priority, kind, minutes, clock): seeds 000/002/003/004, as the demo contract has them.
SLA = (
    ("P1", "response", 30, "24x7"), ("P1", "onsite", 180, "24x7"), ("P1", "resolve", 540, "business"),
    ("P2", "response", 60, "24x7"), ("P2", "onsite", 360, "24x7"), ("P2", "resolve", 540, "business"),
    ("P3", "response", 120, "24x7"), ("P3", "onsite", 1620, "business"), ("P3", "resolve", 1620, "business"),
    ("P4", "response", 120, "business"), ("P4", "onsite", 3780, "business"), ("P4", "resolve", 2700, "business"),
)


def make_contract(hospital, vendor, number="MSZC2024-D3-00267", start=date(2024, 5, 1)):
    contract = Contract.create(number=number, title="蒙山县中医医院信息系统维保服务", hospital=hospital, vendor=vendor,
                               start_date=start, end_date=date(2027, 4, 30))
    for priority, kind, minutes, clock in SLA:
        SlaTarget.create(contract=contract, priority=priority, kind=kind, minutes=minutes, clock=clock)
    CoveredSystem.create(contract=contract, category="门诊诊疗服务", name="门急诊收费系统", system_class="HIS")
    CoveredSystem.create(contract=contract, category="临床信息系统", name="实验室信息系统", system_class="CIS")
    return contract


@pytest.fixture
def contract(app, hospital, vendor):
    return make_contract(hospital, vendor)


@pytest.fixture
def other_contract(app, other_hospital, vendor):
    return make_contract(other_hospital, vendor, number="PN-2025-001")


class Api:
    """Bearer-token calls for one user: ``api.post(path, json)`` returns the response."""

    def __init__(self, app, user):
        self.app, self.user = app, user
        with app.app_context():
            self.token = commands.create_token(user.username)
        self.client = app.test_client()

    def call(self, method, path, json=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.client.open("/api/v1" + path, method=method, json=json, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json, **kwargs)

    def act(self, ticket_id, action, **fields):
        return self.post(f"/tickets/{ticket_id}/transitions", {"action": action, **fields})


@pytest.fixture
def users(make_user, department):
    """One user per role, the reporter in a department."""
    return {
        "admin": make_user("admin"),
        "hospital_it": make_user("hospital_it"),
        "reporter": make_user("reporter", department=department, display_name="李护士长"),
        "engineer": make_user("engineer", display_name="覃工程师"),
        "manager": make_user("manager"),
    }


@pytest.fixture
def apis(app, users):
    return {role: Api(app, user) for role, user in users.items()}


def ticket_body(contract, **fields):
    body = {"contract_id": contract.id, "title": "门诊收费处打印发票报错", "description": "点击打印后提示“打印机未就绪”",
            "category": "fault", "priority": "P3", "channel": "phone", "reporter_name": "李护士长",
            "reporter_department": "门诊部", "reporter_phone": "0774-1234567"}
    body.update(fields)
    return body


def recent_workday_morning(now=None):
    """A weekday 09:00 (Shanghai) at least a week ago, so SLA targets fit before now."""
    now = now or datetime.now(timezone.utc)
    day = (now.astimezone(SH) - timedelta(days=10)).date()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=SH)
