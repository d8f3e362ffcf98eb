"""Admin views for the scorecard's manual evidence: letters of praise and survey results.

Scoped by the rows' hospital/vendor (copied from the contract on save); the contract choices are
limited to the user's contracts, and a contract outside them is refused. Writes are audited by
SecureModelView in the same transaction.
"""

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from portal.accounts.models import utcnow
from portal.admin import SecureModelView
from portal.contracts.access import scoped_contracts
from portal.contracts.models import Contract
from portal.reports.models import PraiseLetter
from portal.reports.models import SurveyResult
from portal.reports.periods import MAX_YEAR
from portal.reports.periods import MIN_YEAR

LABELS = {
    "contract": _l("Contract"), "hospital": _l("Hospital"), "vendor": _l("Vendor"),
    "received_on": _l("Received on"), "title": _l("Title"), "note": _l("Note"), "created_by": _l("Entered by"),
    "created_at": _l("Entered at"), "year": _l("Year"), "mean_score": _l("Mean score (1–5)"),
    "respondents": _l("Respondents"),
}


class EvidenceView(SecureModelView):
    column_labels = LABELS
    column_default_sort = ("id", True)
    simple_list_pager = True

    def limit_choices(self, form):
        if hasattr(form, "contract"):
            form.contract.query = scoped_contracts(current_user)
            # flask-admin's error list reads widget.input_type, which a Select lacks
            form.contract.widget.input_type = getattr(form.contract.widget, "input_type", "select")
        return form

    def on_model_change(self, form, model, is_created):
        contract = scoped_contracts(current_user).where(Contract.id == model.contract_id).first()
        if contract is None:
            raise ValidationError(_l("You may only manage contracts of your own organization."))
        model.hospital, model.vendor = contract.hospital_id, contract.vendor_id
        if is_created:
            model.created_by, model.created_at = current_user.id, utcnow()
        super().on_model_change(form, model, is_created)


class PraiseLetterView(EvidenceView):
    resource = "praise_letters"
    scope_fields = {"hospital": PraiseLetter.hospital, "vendor": PraiseLetter.vendor}
    column_list = ("contract", "received_on", "title", "created_by", "created_at")
    form_columns = ("contract", "received_on", "title", "note")

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not (model.title or "").strip():
            raise ValidationError(_l("Title: give the letter a title."))
        if not MIN_YEAR <= model.received_on.year <= MAX_YEAR:
            raise ValidationError(_l("Received on: the date is out of range."))


class SurveyResultView(EvidenceView):
    resource = "survey_results"
    scope_fields = {"hospital": SurveyResult.hospital, "vendor": SurveyResult.vendor}
    column_list = ("contract", "year", "mean_score", "respondents", "created_by", "created_at")
    form_columns = ("contract", "year", "mean_score", "respondents", "note")

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not MIN_YEAR <= (model.year or 0) <= MAX_YEAR:
            raise ValidationError(_l("Year: from %(low)d to %(high)d.", low=MIN_YEAR, high=MAX_YEAR))
        if model.mean_score is None or not Decimal(1) <= Decimal(model.mean_score) <= Decimal(5):
            raise ValidationError(_l("Mean score: from 1 to 5."))
        if not 1 <= (model.respondents or 0) <= 100_000:
            raise ValidationError(_l("Respondents: from 1 to 100000."))


def admin_views():
    category = _l("Reports")
    return [
        ("praise_letters", lambda: PraiseLetterView(PraiseLetter, name=_l("Letters of praise"), category=category,
                                                    endpoint="praise_letter_admin")),
        ("survey_results", lambda: SurveyResultView(SurveyResult, name=_l("Satisfaction surveys"), category=category,
                                                    endpoint="survey_result_admin")),
    ]
