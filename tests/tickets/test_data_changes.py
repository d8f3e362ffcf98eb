"""Data corrections: authorization before work, append-only hash-chained records, tamper detection."""

from click.testing import CliRunner

from portal.audit import AuditLog
from portal.db import db
from portal.tickets import chain
from portal.tickets.models import DataChangeRecord
from portal.tickets.models import Ticket
from portal.tickets.tasks import verify_data_changes
from tests.tickets.conftest import ticket_body

CHANGE = {"script": "UPDATE 病人费用记录 SET 记录状态 = 2 WHERE ID = 812345;", "affected_rows": 1,
          "before_summary": "记录状态=1（重复记账）", "after_summary": "记录状态=2（已冲销）"}


def _correction(apis, contract):
    response = apis["reporter"].post("/tickets", ticket_body(contract, category="data_correction",
                                                             title="病人费用重复记账需冲销", reporter_name=""))
    assert response.status_code == 201
    tid = response.get_json()["id"]
    assert apis["engineer"].act(tid, "accept").status_code == 200
    return tid


def test_no_work_and_no_data_change_without_authorization(app, contract, apis):
    eng, it = apis["engineer"], apis["hospital_it"]
    tid = _correction(apis, contract)
    before = Ticket.select().where(Ticket.id == tid).dicts().get()
    for action, fields in (("start", {}), ("resolve", {"resolution": "已冲销"})):
        refused = eng.act(tid, action, **fields)
        assert refused.status_code == 409, refused.get_json()
        assert "authorization" in refused.get_json()["error"]["message"].lower() or "授权" in refused.get_json()["error"]["message"]
    refused = eng.post(f"/tickets/{tid}/data-changes", CHANGE)
    assert refused.status_code == 409
    assert DataChangeRecord.select().count() == 0
    assert Ticket.select().where(Ticket.id == tid).dicts().get() == before
    # The engineer may not authorize it; the hospital IT department does.
    assert eng.act(tid, "request_authorization", comment="需修改病人费用数据，请信息科审批").status_code == 200
    assert eng.act(tid, "authorize").status_code == 403
    assert apis["reporter"].act(tid, "authorize").status_code == 403
    authorized = it.act(tid, "authorize", comment="同意，修改前请备份")
    assert authorized.status_code == 200 and authorized.get_json()["status"] == "in_progress"
    recorded = eng.post(f"/tickets/{tid}/data-changes", CHANGE)
    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["prev_hash"] == "0" * 64
    assert apis["reporter"].post(f"/tickets/{tid}/data-changes", CHANGE).status_code == 403
    resolved = eng.act(tid, "resolve", resolution="已冲销重复费用并核对医保上传数据")
    assert resolved.status_code == 200
    kinds = [event["kind"] for event in resolved.get_json()["events"]]
    assert kinds == ["created", "accept", "request_authorization", "authorize", "data_change", "resolve"]


def _chain_of(apis, contract, n):
    tid = _correction(apis, contract)
    apis["engineer"].act(tid, "request_authorization", comment="请审批")
    apis["hospital_it"].act(tid, "authorize")
    for index in range(n):
        response = apis["engineer"].post(f"/tickets/{tid}/data-changes", dict(CHANGE, affected_rows=index + 1))
        assert response.status_code == 201
    return tid


def _verify(app):
    with app.app_context():
        breaks = [str(item) for item in chain.verify()]
        db.close()
    return breaks


def test_the_chain_links_and_verifies(app, contract, apis):
    _chain_of(apis, contract, 4)
    records = list(DataChangeRecord.select().order_by(DataChangeRecord.id))
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:-1]]
    assert _verify(app) == []
    assert AuditLog.select().where(AuditLog.action == "data_change").count() == 4


def test_tampering_with_a_stored_record_is_reported(app, contract, apis):
    _chain_of(apis, contract, 3)
    second = DataChangeRecord.select().order_by(DataChangeRecord.id).offset(1).first()
    db.execute_sql("UPDATE data_change_record SET affected_rows = 9999 WHERE id = %s" % int(second.id))
    breaks = _verify(app)
    assert breaks and f"record {second.id}" in breaks[0] and "altered" in breaks[0]


def test_rehashing_a_tampered_record_still_shows(app, contract, apis):
    _chain_of(apis, contract, 3)
    records = list(DataChangeRecord.select().order_by(DataChangeRecord.id))
    forged = records[1]
    forged.script = "SELECT 1;"
    forged_hash = chain.compute_hash(chain.record_fields(forged), forged.prev_hash)
    db.execute_sql("UPDATE data_change_record SET script = 'SELECT 1;', hash = '%s' WHERE id = %d" % (forged_hash, forged.id))
    breaks = _verify(app)
    assert any(f"record {records[2].id}" in b and "prev_hash" in b for b in breaks), breaks
    assert any(f"record {forged.id}" in b and "audited" in b for b in breaks), breaks


def test_deleting_the_newest_record_is_reported(app, contract, apis):
    _chain_of(apis, contract, 2)
    last = DataChangeRecord.select().order_by(DataChangeRecord.id.desc()).first()
    db.execute_sql("DELETE FROM data_change_record WHERE id = %d" % last.id)
    assert any("missing" in b for b in _verify(app))


def test_cli_command_reports_and_exits_1(app, contract, apis):
    _chain_of(apis, contract, 2)
    runner = CliRunner()
    with app.app_context():
        ok = runner.invoke(verify_data_changes, [])
        db.close()
    assert ok.exit_code == 0 and "intact: 2" in ok.output, ok.output
    db.execute_sql("UPDATE data_change_record SET after_summary = '改过' WHERE id = (SELECT MIN(id) FROM data_change_record)")
    with app.app_context():
        bad = runner.invoke(verify_data_changes, [])
        db.close()
    assert bad.exit_code == 1 and "BROKEN" in bad.output
    assert "verify-data-changes" in app.extensions["weibao"].registry("cli command")
