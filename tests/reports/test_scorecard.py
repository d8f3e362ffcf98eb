"""The annual scorecard against a year of tickets built here, computed BY HAND in this file
(API.md rules, section by section), through the API and the page; payment on both sides of 80."""

import json
import re
from datetime import date
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from fractions import Fraction

import pytest

from portal.reports.models import PraiseLetter
from portal.tickets.models import TicketEvent
from tests.conftest import csrf_token
from tests.conftest import log_in
from tests.reports.conftest import at
from tests.reports.conftest import make_contract
from tests.reports.conftest import make_ticket

NOW = datetime.now(timezone.utc)
CLASS_MAX = {"HIS": Fraction(25), "CIS": Fraction(20), "other": Fraction(5)}

# (class or None for "no system", response, resolution, rating, count)
# response: ok | late | none; resolution: ok | late | open | paused_ok | paused_late
SPECS = [
    ("HIS", "ok", "ok", 2, 5), ("HIS", "late", "ok", None, 2), ("HIS", "ok", "late", None, 2),
    ("HIS", "late", "late", None, 1), ("HIS", "ok", "open", None, 1), ("HIS", "ok", "paused_ok", None, 1),
    ("CIS", "ok", "ok", None, 4), ("CIS", "none", "open", None, 1), ("CIS", "ok", "paused_late", None, 1),
    ("other", "late", "ok", [1, 2, 3, 1, 2, 1, 2, 2], 8),
    (None, "ok", "late", None, 4), (None, "ok", "ok", None, 2),
]


def build_year(contract, systems):
    """Write the 2025 tickets of SPECS with explicit times; return them with their class."""
    made = []
    month = 1
    for cls, response, resolution, rating, count in SPECS:
        for index in range(count):
            reported = at(2025, month, 10 + index % 10, 9, 0)
            month = month % 12 + 1
            fields = {"reported_at": reported, "response_due": reported + timedelta(minutes=30),
                      "resolve_due": reported + timedelta(days=2)}
            if response != "none":
                fields["first_response_at"] = reported + timedelta(minutes=10 if response == "ok" else 50)
                fields["accepted_at"] = fields["first_response_at"]
            if resolution in ("ok", "late"):
                fields["resolved_at"] = reported + timedelta(days=1 if resolution == "ok" else 3)
                fields["status"] = "closed" if index % 2 else "resolved"
                if fields["status"] == "closed":
                    fields["closed_at"] = fields["resolved_at"] + timedelta(hours=2)
            elif resolution == "open":
                fields["status"] = "new" if response == "none" else "in_progress"
            else:
                fields["status"] = "waiting_customer"
                fields["paused_since"] = reported + (timedelta(hours=1) if resolution == "paused_ok" else timedelta(days=3))
            if rating is not None:
                fields["satisfaction"] = rating[index] if isinstance(rating, list) else rating
            ticket = make_ticket(contract, systems[cls] if cls else None, **fields)
            made.append((ticket, cls or "other"))
    return made


def hand_scorecard(made, letters=0, requirement_late=0):
    """The rules of API.md applied to the Python objects, one by one."""
    missed = {name: [] for name in CLASS_MAX}
    for ticket, cls in made:
        if ticket.first_response_at is not None:
            late_response = ticket.first_response_at > ticket.response_due
        else:
            late_response = NOW > ticket.response_due
        finished = ticket.resolved_at or ticket.closed_at
        if finished is not None:
            late_resolution = finished > ticket.resolve_due
        elif ticket.status == "waiting_customer":  # the clock stopped: late only if stopped after the deadline
            late_resolution = ticket.paused_since > ticket.resolve_due
        else:  # open past its resolve deadline
            late_resolution = NOW > ticket.resolve_due
        if late_response or late_resolution:
            missed[cls].append(ticket.id)
    by_class = {name: max(Fraction(0), top - Fraction(1, 2) * len(missed[name])) for name, top in CLASS_MAX.items()}
    ratings = [t.satisfaction for t, _ in made if t.satisfaction is not None]
    satisfaction = Fraction(20) * Fraction(sum(ratings), len(ratings)) / 5 if ratings else Fraction(20)
    resolved = sum(1 for t, _ in made if t.status in ("resolved", "closed"))
    rate = Fraction(resolved, len(made))
    resolution = max(Fraction(0), 10 - max(Fraction(0), (Fraction(9, 10) - rate) * 100))
    modifications = max(Fraction(0), 20 - requirement_late)
    total = min(Fraction(100), sum(by_class.values()) + modifications + satisfaction + resolution + 2 * letters)
    return {"missed": missed, "by_class": by_class, "satisfaction": satisfaction, "rate": rate,
            "resolution": resolution, "modifications": modifications, "total": total,
            "ratio": Fraction(1) if total >= 80 else total / 100}


def close(value, expected, places=0.006):
    return abs(float(value) - float(expected)) < places


def add_requirement(app, contract, ticket, approved):
    """An approved requirement_assessment submission linked to *ticket* (forms plugin)."""
    from forms.models import FormSubmission
    from forms.models import FormType
    from forms.models import FormVersion
    from forms.models import SubmissionEvent

    form_type = FormType.get(FormType.key == "requirement_assessment")
    version = FormVersion.get((FormVersion.form_type == form_type) & (FormVersion.status == "published"))
    submission = FormSubmission.create(
        version=version, form_type=form_type, number=f"XQ-2025-{ticket.id:04d}", ticket_id=ticket.id,
        contract=contract, hospital=contract.hospital_id, vendor=contract.vendor_id,
        data_json=json.dumps({"title": "门诊病历打印格式调整", "kind": "change", "tasks": [{"task": "改版", "person_days": 2}]}),
        computed_json=json.dumps({"total_days": 2, "free": True, "quota_item": True}), state="approved",
        submitted_at=approved - timedelta(hours=2), created_at=approved - timedelta(hours=3), updated_at=approved)
    SubmissionEvent.create(submission=submission, kind="transition", action="approve", from_state="in_review",
                           to_state="approved", at=approved)
    return submission


def scores_on_page(html):
    found = {}
    for row_id in ("response-HIS", "response-CIS", "response-other", "modifications", "satisfaction",
                   "resolution-rate"):
        match = re.search(rf'<tr id="{row_id}">.*?<td class="num score">([^<]+)</td>', html, re.S)
        found[row_id] = float(match.group(1))
    found["total"] = float(re.search(r'id="total-score">([^<]+)<', html).group(1))
    found["ratio"] = float(re.search(r'id="payment-ratio">([^<]+)<', html).group(1))
    return found


def test_scorecard_matches_the_hand_computation(app, client, hospital, other_hospital, vendor, make_user, token_for):
    contract, systems = make_contract(hospital, vendor)
    made = build_year(contract, systems)
    # A requirement (ticket without a system → class "other"), approved Tue 2025-03-04 10:00:
    # solution due +10 working days = Tue 03-18 10:00 (started 03-05: in time); done due +20 =
    # Tue 04-01 10:00 (resolved 04-20: late); online due +30 = Wed 04-16 10:00 (closed 04-21: late).
    requirement = make_ticket(contract, None, category="requirement", priority="P4", reported_at=at(2025, 3, 3, 9, 0),
                              first_response_at=at(2025, 3, 3, 9, 10), response_due=at(2025, 3, 3, 11, 0),
                              resolve_due=at(2025, 5, 30, 17, 30), resolved_at=at(2025, 4, 20, 16, 0),
                              closed_at=at(2025, 4, 21, 9, 0), status="closed")
    TicketEvent.create(ticket=requirement, kind="start", at=at(2025, 3, 5, 9, 0), from_status="accepted",
                       to_status="in_progress")
    made.append((requirement, "other"))
    add_requirement(app, contract, requirement, at(2025, 3, 4, 10, 0))
    # Not this year's: reported 2024-12-31 23:30 and 2026-01-01 00:30 Shanghai (both late), and
    # another hospital's late ticket.
    for reported in (at(2024, 12, 31, 23, 30), at(2026, 1, 1, 0, 30)):
        make_ticket(contract, systems["HIS"], reported_at=reported, response_due=reported,
                    resolve_due=reported, status="new")
    other_contract, other_systems = make_contract(other_hospital, vendor, number="OTHER-1")
    make_ticket(other_contract, other_systems["HIS"], reported_at=at(2025, 6, 1, 9, 0),
                response_due=at(2025, 6, 1, 9, 30), resolve_due=at(2025, 6, 2, 9, 0), status="new")

    expected = hand_scorecard(made, requirement_late=1)
    assert expected["total"] < 80  # the scenario sits below the pass mark first

    hospital_it = make_user("hospital_it")
    response = client.get(f"/api/v1/contracts/{contract.id}/scorecard?year=2025", headers=token_for(hospital_it))
    assert response.status_code == 200, response.get_json()
    card = response.get_json()
    assert card["year"] == 2025
    sections = card["sections"]
    for name in ("HIS", "CIS", "other"):
        entry = sections["response"]["by_class"][name]
        assert entry["max"] == CLASS_MAX[name]
        assert close(entry["score"], expected["by_class"][name]), name
        assert sorted(d["ticket_id"] for d in entry["deductions"]) == sorted(expected["missed"][name]), name
        assert close(sum(d["points"] for d in entry["deductions"]), CLASS_MAX[name] - expected["by_class"][name])
    assert expected["by_class"]["other"] == 0  # the floor: 13 late tickets in a 5-point class
    assert close(sections["response"]["score"], sum(expected["by_class"].values()))
    assert sections["response"]["max"] == 50
    assert {d["ticket_id"] for d in sections["response"]["deductions"]} == {
        i for ids in expected["missed"].values() for i in ids}
    assert all({"ticket_id", "reason", "points"} <= set(d) for d in sections["response"]["deductions"])
    assert sections["modifications"]["max"] == 20
    assert close(sections["modifications"]["score"], expected["modifications"])
    assert [d["ticket_id"] for d in sections["modifications"]["deductions"]] == [requirement.id]
    assert sections["modifications"]["deductions"][0]["reason"] == "done_late,online_late"
    assert close(sections["satisfaction"]["score"], expected["satisfaction"])
    assert sections["resolution_rate"]["max"] == 10
    assert close(sections["resolution_rate"]["rate"], expected["rate"], 0.0001)
    assert close(sections["resolution_rate"]["score"], expected["resolution"])
    assert card["bonus"] == {"praise_letters": 0, "points": 0}
    assert close(card["total"], expected["total"])
    assert card["passed"] is False
    assert close(card["payment_ratio"], expected["ratio"], 0.0001)

    # The page shows the same numbers.
    log_in(client, hospital_it.username)
    html = client.get(f"/admin/reports/scorecard/{contract.id}?year=2025").get_data(as_text=True)
    page = scores_on_page(html)
    for name in ("HIS", "CIS", "other"):
        assert close(page[f"response-{name}"], expected["by_class"][name])
    assert close(page["modifications"], expected["modifications"])
    assert close(page["satisfaction"], expected["satisfaction"])
    assert close(page["resolution-rate"], expected["resolution"])
    assert close(page["total"], expected["total"]) and close(page["ratio"], expected["ratio"], 0.0001)

    # Letters of praise entered through the admin view (audited) lift the total over 80.
    needed = int((80 - expected["total"]) // 2) + 1
    token = csrf_token(client)
    for index in range(needed):
        response = client.post("/admin/praise_letter_admin/new/", data={
            "csrf_token": token, "contract": str(contract.id), "received_on": f"2025-0{index + 1}-15",
            "title": f"表扬信 {index + 1}", "note": ""})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    PraiseLetter.create(contract=other_contract, hospital=other_hospital, vendor=vendor, received_on=date(2025, 5, 1),
                        title="not ours")
    PraiseLetter.create(contract=contract, hospital=hospital, vendor=vendor, received_on=date(2024, 12, 31),
                        title="last year's")
    lifted = hand_scorecard(made, letters=needed, requirement_late=1)
    assert lifted["total"] >= 80
    card = client.get(f"/api/v1/contracts/{contract.id}/scorecard?year=2025", headers=token_for(hospital_it)).get_json()
    assert card["bonus"] == {"praise_letters": needed, "points": 2 * needed}
    assert close(card["total"], lifted["total"]) and card["passed"] is True and card["payment_ratio"] == 1
    page = scores_on_page(client.get(f"/admin/reports/scorecard/{contract.id}?year=2025").get_data(as_text=True))
    assert close(page["total"], lifted["total"]) and page["ratio"] == 1

    from portal.audit import AuditLog
    assert AuditLog.select().where((AuditLog.action == "create") & (AuditLog.object_type == "PraiseLetter")).count() == needed


def test_empty_year_scores_full_marks(app, client, hospital, vendor, make_user, token_for):
    contract, _systems = make_contract(hospital, vendor)
    card = client.get(f"/api/v1/contracts/{contract.id}/scorecard?year=2024",
                      headers=token_for(make_user("manager"))).get_json()
    assert card["total"] == 100 and card["passed"] is True and card["payment_ratio"] == 1
    assert card["sections"]["resolution_rate"]["rate"] is None
    assert card["sections"]["satisfaction"]["score"] == 20


@pytest.mark.parametrize("query", ["year=abc", "year=1899", "year=99999999", "year=2025.5", "year=-1"])
def test_bad_year_is_a_400_with_a_message(app, client, hospital, vendor, make_user, token_for, query):
    contract, _systems = make_contract(hospital, vendor)
    response = client.get(f"/api/v1/contracts/{contract.id}/scorecard?{query}", headers=token_for(make_user("manager")))
    assert response.status_code == 400
    assert response.get_json()["error"]["details"][0]["field"] == "year"
