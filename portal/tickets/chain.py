"""Append-only, hash-chained data-change records (数据修改记录) and their verification.

Each record's ``hash`` is sha256 over the canonical JSON of its fields (sorted keys, no spaces,
UTF-8, times as UTC ISO with microseconds) followed by ``prev_hash``; the first record's
``prev_hash`` is 64 zeros. Every record also writes an audit row carrying its hash, so deleting
the newest records (which leaves a shorter but consistent chain) is visible too.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import timezone

from peewee import IntegrityError

from portal import audit
from portal.accounts.models import utcnow
from portal.audit import AuditLog
from portal.db import db
from portal.tickets.models import GENESIS_HASH
from portal.tickets.models import DataChangeRecord

HASHED_FIELDS = ("ticket_id", "hospital_id", "vendor_id", "engineer_id", "script", "affected_rows",
                 "before_summary", "after_summary", "authorized_by_id", "authorized_at", "recorded_at")
AUDIT_ACTION = "data_change"


def _plain(value):
    if hasattr(value, "astimezone"):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


def record_fields(record):
    """The values that are hashed, read from a record (ids, texts, counts, UTC times)."""
    return {name: _plain(getattr(record, name)) for name in HASHED_FIELDS}


def canonical_json(fields):
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def compute_hash(fields, prev_hash):
    """sha256 hex of the canonical JSON of *fields* followed by *prev_hash*."""
    return hashlib.sha256((canonical_json(fields) + prev_hash).encode("utf-8")).hexdigest()


def _head_hash():
    last = DataChangeRecord.select(DataChangeRecord.hash).order_by(DataChangeRecord.id.desc()).first()
    return last.hash if last else GENESIS_HASH


def append(ticket, engineer, script, affected_rows, before_summary="", after_summary="", at=None, attempts=5):
    """Append one record to the chain; call inside the transaction of the change.

    A concurrent writer that took the same head makes the insert fail on the unique
    ``prev_hash``; the savepoint is rolled back and the record is chained to the new head.
    """
    for attempt in range(attempts):
        record = DataChangeRecord(
            ticket=ticket.id, hospital=ticket.hospital_id, vendor=ticket.vendor_id, engineer=engineer.id,
            script=script, affected_rows=affected_rows, before_summary=before_summary,
            after_summary=after_summary, authorized_by=ticket.authorized_by_id,
            authorized_at=ticket.authorized_at, recorded_at=at or utcnow(),
        )
        record.prev_hash = _head_hash()
        record.hash = compute_hash(record_fields(record), record.prev_hash)
        try:
            with db.atomic():
                record.save(force_insert=True)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
            continue
        audit.record(AUDIT_ACTION, record, summary=record.hash, user=engineer,
                     changes={"ticket": [None, ticket.number], "affected_rows": [None, affected_rows]})
        return record
    raise RuntimeError("unreachable")


@dataclass
class Break:
    record_id: int | None
    problem: str

    def __str__(self):
        where = f"record {self.record_id}" if self.record_id is not None else "chain"
        return f"{where}: {self.problem}"


def verify():
    """Walk the chain in id order; return a list of :class:`Break` (empty when intact)."""
    breaks = []
    expected_prev = GENESIS_HASH
    hashes = {}
    for record in DataChangeRecord.select().order_by(DataChangeRecord.id).iterator():
        if record.prev_hash != expected_prev:
            breaks.append(Break(record.id, f"prev_hash {record.prev_hash[:12]}… does not match the previous "
                                           f"record's hash {expected_prev[:12]}… (a record was removed or altered)"))
        actual = compute_hash(record_fields(record), record.prev_hash)
        if actual != record.hash:
            breaks.append(Break(record.id, "content does not match its hash (the record was altered)"))
        hashes[record.id] = record.hash
        expected_prev = record.hash
    audited = AuditLog.select(AuditLog.object_id, AuditLog.summary).where(
        (AuditLog.action == AUDIT_ACTION) & (AuditLog.object_type == "DataChangeRecord"))
    for row in audited.iterator():
        try:
            record_id = int(row.object_id)
        except ValueError:
            continue
        if record_id not in hashes:
            breaks.append(Break(record_id, "audited record is missing (deleted)"))
        elif hashes[record_id] != row.summary:
            breaks.append(Break(record_id, "hash differs from the one audited when it was written"))
    return breaks
