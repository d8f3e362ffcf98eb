"""The weekly confirmation sheet (售后服务线上问题反馈确认单, seed 001 §5: 针对每天收到的答疑、BUG、
需求进行登记、处理，每周定期汇总发送给用户进行确认).

The week runs Monday–Sunday in the installation's time zone. Questions are consultations,
report requests and data corrections; bugs are faults, software bugs and interface problems;
requests are requirements. A hospital_it user confirms the sheet: the confirmation stores who,
when, the content (a canonical JSON snapshot) and its sha256, so a later change to the week is
visible as a difference from what was confirmed.
"""

import hashlib
import json

from flask_babel import gettext as _

from portal import audit
from portal.accounts.models import utcnow
from portal.api.errors import ApiError
from portal.db import db
from portal.reports import figures
from portal.reports.models import WeeklyConfirmation
from portal.tickets.models import Ticket

GROUPS = {
    "questions": ("consultation", "report", "data_correction"),
    "bugs": ("fault", "bug", "interface"),
    "requests": ("requirement",),
}
FIELDS = ("number", "title", "category", "priority", "status", "reported_at", "resolved_at", "resolution")


def _iso(value):
    return value.isoformat() if value is not None else None


def snapshot(contract, period):
    """The week's content: {group: [ticket rows]} with only what the hospital confirms."""
    rows = (figures.tickets(contract, period)
            .select(Ticket.id, Ticket.number, Ticket.title, Ticket.category, Ticket.priority, Ticket.status,
                    Ticket.reported_at, Ticket.resolved_at, Ticket.resolution)
            .order_by(Ticket.reported_at, Ticket.id).dicts())
    content = {name: [] for name in GROUPS}
    group_of = {category: name for name, categories in GROUPS.items() for category in categories}
    for row in rows:
        item = {key: (_iso(row[key]) if key.endswith("_at") else row[key]) for key in FIELDS}
        item["id"] = row["id"]
        content[group_of.get(row["category"], "questions")].append(item)
    return {"contract_id": contract.id, "week_start": period.first.isoformat(), "items": content}


def checksum(content):
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def latest_confirmation(contract, period):
    return (WeeklyConfirmation.select()
            .where((WeeklyConfirmation.contract == contract.id) & (WeeklyConfirmation.week_start == period.first))
            .order_by(WeeklyConfirmation.confirmed_at.desc(), WeeklyConfirmation.id.desc()).first())


def difference(old, new):
    """Tickets added, removed and changed (field: [confirmed, now]) between two snapshots."""
    def index(content):
        return {item["number"]: item for items in content["items"].values() for item in items}

    before, after = index(old), index(new)
    changed = []
    for number in sorted(set(before) & set(after)):
        fields = {key: [before[number].get(key), after[number].get(key)] for key in FIELDS
                  if before[number].get(key) != after[number].get(key)}
        if fields:
            changed.append({"number": number, "fields": fields})
    return {"added": [after[n] for n in sorted(set(after) - set(before))],
            "removed": [before[n] for n in sorted(set(before) - set(after))], "changed": changed}


def confirm(contract, period, seen_checksum, user, note=""):
    """Store the confirmation of the content the user saw (*seen_checksum*); 409 when the week
    changed since it was shown, 422 for an unusable note. Audited in the same transaction."""
    with db.atomic():
        content = snapshot(contract, period)
        digest = checksum(content)
        if seen_checksum != digest:
            raise ApiError(409, _("The week's sheet changed after it was shown to you; review it again and confirm."))
        previous = latest_confirmation(contract, period)
        row = WeeklyConfirmation.create(
            contract=contract.id, hospital=contract.hospital_id, vendor=contract.vendor_id, week_start=period.first,
            checksum=digest, snapshot_json=json.dumps(content, ensure_ascii=False, sort_keys=True),
            confirmed_by=user.id, confirmed_at=utcnow(), note=note)
        summary = f"{contract.number} {period.first.isoformat()} {digest[:12]}"
        if previous is not None:
            summary += f" (replaces {previous.checksum[:12]})"
        audit.record("confirm_week", row, summary=summary, user=user,
                     changes=audit.model_changes({}, {"checksum": digest, "week_start": period.first.isoformat()}))
    return row
