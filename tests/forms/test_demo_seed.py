"""Built-ins are seeded by a migration (idempotent); the demo adds one submission per type."""

from forms.models import FormSubmission
from forms.models import FormType
from forms.models import FormVersion
from forms.seed import seed_builtin_definitions
from portal.db import db
from portal.demo import load_demo


def test_seed_is_idempotent(app):
    with app.app_context():
        assert seed_builtin_definitions() == []
    assert FormType.select().count() == 6
    assert FormVersion.select().where(FormVersion.status == "published").count() == 6


def test_demo_fills_each_builtin_on_the_seed_contract(app):
    with app.test_request_context():
        db.connect(reuse_if_open=True)
        load_demo(app)
    by_key = {s.form_type.key: s for s in FormSubmission.select()}
    assert set(by_key) == {"requirement_assessment", "quarterly_inspection", "pre_holiday_inspection",
                           "onsite_service_sheet", "satisfaction_survey", "emergency_drill_record"}
    assert all(s.contract.number == "MSZC2024-D3-00267" for s in by_key.values())
    assert by_key["requirement_assessment"].state == "in_review"
    assert by_key["emergency_drill_record"].state == "archived"
    assert by_key["satisfaction_survey"].computed["percent"] > 80


def test_demo_skips_without_contracts(app):
    from forms import demo

    with app.test_request_context():
        assert demo.load(app) == []
    assert FormSubmission.select().count() == 0
