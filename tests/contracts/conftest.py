"""Contract test helpers: a valid create body and a contract made through the API."""

import pytest


def contract_payload(hospital, vendor, **changes):
    """A valid create body like seed 004's contract."""
    body = {
        "number": "MSZC2024-D3-00267", "title": "蒙山县中医医院信息系统维保服务采购项目",
        "hospital_id": hospital.id, "vendor_id": vendor.id, "start_date": "2024-05-01", "end_date": "2027-04-30",
        "amount": "1179000.00", "penalty_percent_per_day": 3, "penalty_cap_percent": 10, "uptime_target_percent": 98,
        "systems": [
            {"category": "门诊诊疗服务", "name": "门急诊收费系统", "class": "HIS"},
            {"category": "临床信息系统", "name": "一体化医生工作站（含住院电子病历）", "class": "CIS", "unit": "套", "quantity": 1},
            {"category": "接口类", "name": "电子发票接口", "class": "other"},
        ],
        "sla": {
            "P1": {"response": {"minutes": 30, "clock": "24x7"}, "onsite": {"minutes": 180, "clock": "24x7"},
                   "resolve": {"minutes": 540, "clock": "business"}},
            "P3": {"resolve": {"minutes": 1620, "clock": "business"}},
        },
        "quotas": [
            {"kind": "custom_requirement", "limit": 20, "unit": "count", "period": "year", "per_item_max": 3},
            {"kind": "emergency_rescue", "limit": 4, "unit": "count", "period": "year", "per_item_max": None},
            {"kind": "secondary_modification", "limit": 15, "unit": "person_days", "period": "contract"},
        ],
    }
    body.update(changes)
    return body


@pytest.fixture
def payload(hospital, vendor):
    return lambda **changes: contract_payload(hospital, vendor, **changes)


@pytest.fixture
def manager_headers(bearer):
    return bearer("manager")


@pytest.fixture
def contract_id(client, payload, manager_headers):
    response = client.post("/api/v1/contracts", json=payload(), headers=manager_headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]
