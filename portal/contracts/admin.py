"""Admin views for contracts and their parts.

Covered systems, SLA targets, quotas and payments are separate views filtered by contract
(``?contract_id=``), not inline forms: inline child rows break on peewee AutoField keys
(flask-admin #1718), and inline rows are written without our per-row scoping, validation and
audit. Separate views reuse SecureModelView's scoped get_one/export and transaction + audit.
"""

from datetime import timedelta

from flask import request
from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from portal.accounts.models import Organization
from portal.accounts.models import utcnow
from portal.admin import SecureModelView
from portal.calendars.service import current_calendar
from portal.contracts.access import scoped_contracts
from portal.contracts.detail import ContractDetailView
from portal.contracts.models import Contract
from portal.contracts.models import CoveredSystem
from portal.contracts.models import Outage
from portal.contracts.models import PaymentInstallment
from portal.contracts.models import Quota
from portal.contracts.models import QuotaUsage
from portal.contracts.models import SlaTarget

SYSTEM_CLASS_LABELS = {"HIS": "HIS", "CIS": "CIS", "other": _l("Other")}
KIND_LABELS = {"response": _l("Response"), "onsite": _l("On-site arrival"), "resolve": _l("Resolution time")}
CLOCK_LABELS = {"24x7": _l("24×7 (wall clock)"), "business": _l("Working time")}
UNIT_LABELS = {"count": _l("Count"), "person_days": _l("Person-days")}
PERIOD_LABELS = {"year": _l("Per contract year"), "contract": _l("Whole contract")}
LABELS = {
    "number": _l("Contract number"), "title": _l("Title"), "hospital": _l("Hospital"), "vendor": _l("Vendor"),
    "start_date": _l("Start date"), "end_date": _l("End date"), "amount": _l("Amount (CNY)"),
    "tax_rate": _l("Tax rate (%)"), "penalty_percent_per_day": _l("Penalty per day late (%)"),
    "penalty_cap_percent": _l("Penalty cap (%)"), "uptime_target_percent": _l("Uptime target (%)"),
    "staffing": _l("Staffing commitments"), "report_obligations": _l("Report obligations"),
    "inspection_obligations": _l("Inspection obligations"), "notes": _l("Notes"), "created_at": _l("Created at"),
    "contract": _l("Contract"), "category": _l("Category"), "name": _l("System name"),
    "system_class": _l("System class"), "unit": _l("Unit"), "quantity": _l("Quantity"),
    "priority": _l("Priority"), "kind": _l("Kind"), "minutes": _l("Minutes"), "clock": _l("Clock"),
    "period": _l("Period"), "limit": _l("Limit"), "per_item_max": _l("Largest item (person-days)"),
    "quota": _l("Quota"), "item_size": _l("Item size"), "at": _l("Time"), "source_type": _l("Source type"),
    "source_id": _l("Source id"), "over_limit": _l("Over the limit"), "due_date": _l("Due date"),
    "paid_date": _l("Paid on"), "note": _l("Note"), "system": _l("Covered system"),
    "started_at": _l("Started at"), "ended_at": _l("Ended at"), "cause": _l("Cause"), "ticket_id": _l("Ticket id"),
}


def _label(labels, field):
    return lambda v, c, m, p: labels.get(getattr(m, field), getattr(m, field))


def _detail_link(view, context, model, name):
    url = url_for("contract_detail.detail", contract_id=model.id)
    return Markup('<a href="{}">{}</a>').format(url, model.number)


class ContractView(SecureModelView):
    resource = "contracts"
    scope_fields = {"hospital": Contract.hospital, "vendor": Contract.vendor}
    column_list = ("number", "title", "hospital", "vendor", "start_date", "end_date", "amount")
    column_searchable_list = ("number", "title")
    column_default_sort = ("start_date", True)
    column_formatters = {"number": _detail_link}
    form_excluded_columns = ("created_at", "systems", "sla_targets", "quotas", "payments")
    column_labels = LABELS

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.start_date and model.end_date and model.end_date < model.start_date:
            raise ValidationError(_l("The end date must not be before the start date."))
        if model.hospital_id and Organization.get_by_id(model.hospital_id).kind != "hospital":
            raise ValidationError(_l("The hospital must be an organization of kind hospital."))
        if model.vendor_id and Organization.get_by_id(model.vendor_id).kind != "vendor":
            raise ValidationError(_l("The vendor must be an organization of kind vendor."))
        if current_user.role != "admin" and model.vendor_id != current_user.organization_id:
            raise ValidationError(_l("You may only manage contracts of your own organization."))
        clash = Contract.select().where(Contract.number == model.number)
        if model.id is not None:
            clash = clash.where(Contract.id != model.id)
        if clash.exists():
            raise ValidationError(_l("A contract with this number exists already."))


class ContractPartView(SecureModelView):
    """A view of rows that belong to a contract: scoped through the contract, filterable by it."""

    resource = "contracts"
    column_labels = LABELS

    def owner_ids(self):
        return scoped_contracts(current_user).select(Contract.id)

    def scoped(self, query):
        query = query.where(self.model.contract.in_(self.owner_ids()))
        contract_id = request.args.get("contract_id", "")
        if contract_id.isdigit() and len(contract_id) < 12:
            query = query.where(self.model.contract == int(contract_id))
        return query

    def limit_choices(self, form):
        if hasattr(form, "contract"):
            form.contract.query = scoped_contracts(current_user)
        return form

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not scoped_contracts(current_user).where(Contract.id == model.contract_id).exists():
            raise ValidationError(_l("You may only manage contracts of your own organization."))


class CoveredSystemView(ContractPartView):
    column_list = ("contract", "category", "name", "system_class", "unit", "quantity")
    column_searchable_list = ("name", "category")
    column_filters = ("system_class",)
    form_columns = ("contract", "category", "name", "system_class", "unit", "quantity")
    form_choices = {"system_class": [(k, v) for k, v in SYSTEM_CLASS_LABELS.items()]}
    column_formatters = {"system_class": _label(SYSTEM_CLASS_LABELS, "system_class")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.quantity is None or not 1 <= model.quantity <= 1_000_000:
            raise ValidationError(_l("The quantity must be between 1 and 1,000,000."))


class SlaTargetView(ContractPartView):
    column_list = ("contract", "priority", "kind", "minutes", "clock")
    column_filters = ("priority", "kind")
    form_columns = ("contract", "priority", "kind", "minutes", "clock")
    form_choices = {"priority": [(p, p) for p in ("P1", "P2", "P3", "P4")],
                    "kind": [(k, v) for k, v in KIND_LABELS.items()],
                    "clock": [(k, v) for k, v in CLOCK_LABELS.items()]}
    column_formatters = {"kind": _label(KIND_LABELS, "kind"), "clock": _label(CLOCK_LABELS, "clock")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.minutes is None or not 1 <= model.minutes <= 5_270_400:
            raise ValidationError(_l("Minutes must be between 1 and 5,270,400 (ten years)."))
        clash = SlaTarget.select().where((SlaTarget.contract == model.contract_id)
                                         & (SlaTarget.priority == model.priority) & (SlaTarget.kind == model.kind))
        if model.id is not None:
            clash = clash.where(SlaTarget.id != model.id)
        if clash.exists():
            raise ValidationError(_l("This contract has a target for this priority and kind already."))


class QuotaView(ContractPartView):
    column_list = ("contract", "kind", "period", "limit", "unit", "per_item_max")
    form_columns = ("contract", "kind", "period", "limit", "unit", "per_item_max")
    form_choices = {"unit": [(k, v) for k, v in UNIT_LABELS.items()],
                    "period": [(k, v) for k, v in PERIOD_LABELS.items()]}
    column_formatters = {"unit": _label(UNIT_LABELS, "unit"), "period": _label(PERIOD_LABELS, "period")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        for value in (model.limit, model.per_item_max):
            if value is not None and not 0 <= value <= 1_000_000:
                raise ValidationError(_l("Limits must be between 0 and 1,000,000."))
        clash = Quota.select().where((Quota.contract == model.contract_id) & (Quota.kind == model.kind))
        if model.id is not None:
            clash = clash.where(Quota.id != model.id)
        if clash.exists():
            raise ValidationError(_l("This contract has a quota of this kind already."))


class PaymentView(ContractPartView):
    column_list = ("contract", "due_date", "amount", "paid_date", "note")
    column_default_sort = ("due_date", False)
    form_columns = ("contract", "due_date", "amount", "paid_date", "note")

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.amount is None or not 0 <= model.amount < 10**13:
            raise ValidationError(_l("The amount must be between 0 and 10^13."))


class QuotaUsageView(SecureModelView):
    """The quota ledger: append-only here; rows come from consume_quota (tickets, assessments)."""

    resource = "quota_usage"
    column_list = ("quota", "at", "amount", "item_size", "source_type", "source_id", "over_limit", "note")
    column_default_sort = ("at", True)
    column_filters = ("over_limit", "source_type")
    column_labels = LABELS

    def scoped(self, query):
        quotas = Quota.select(Quota.id).where(Quota.contract.in_(scoped_contracts(current_user).select(Contract.id)))
        query = query.where(QuotaUsage.quota.in_(quotas))
        contract_id = request.args.get("contract_id", "")
        if contract_id.isdigit() and len(contract_id) < 12:
            query = query.where(QuotaUsage.quota.in_(Quota.select(Quota.id).where(Quota.contract == int(contract_id))))
        return query


LOCAL_TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class OutageView(SecureModelView):
    resource = "outages"
    column_list = ("system", "started_at", "ended_at", "cause", "ticket_id")
    column_default_sort = ("started_at", True)
    form_columns = ("system", "started_at", "ended_at", "cause", "ticket_id")
    # WTForms' DateTimeField is deprecated (gone in 3.4); times are typed in the calendar's zone.
    form_overrides = {"started_at": DateTimeLocalField, "ended_at": DateTimeLocalField}
    form_args = {"started_at": {"format": LOCAL_TIME_FORMATS, "validators": [DataRequired()]},
                 "ended_at": {"format": LOCAL_TIME_FORMATS, "validators": [Optional()]}}
    column_labels = LABELS

    def on_form_prefill(self, form, id):
        tz = current_calendar().tz
        for field in (form.started_at, form.ended_at):
            if field.data is not None and field.data.tzinfo is not None:
                field.data = field.data.astimezone(tz).replace(tzinfo=None)

    def system_ids(self):
        return CoveredSystem.select(CoveredSystem.id).where(
            CoveredSystem.contract.in_(scoped_contracts(current_user).select(Contract.id)))

    def scoped(self, query):
        return query.where(Outage.system.in_(self.system_ids()))

    def limit_choices(self, form):
        form.system.query = CoveredSystem.select().where(CoveredSystem.id.in_(self.system_ids()))
        return form

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if not self.system_ids().where(CoveredSystem.id == model.system_id).exists():
            raise ValidationError(_l("You may only manage contracts of your own organization."))
        tz = current_calendar().tz
        for name in ("started_at", "ended_at"):
            value = getattr(model, name)
            if value is not None and value.tzinfo is None:
                setattr(model, name, value.replace(tzinfo=tz))
        if model.ended_at is not None and model.started_at is not None and model.ended_at > utcnow() + timedelta(days=1):
            raise ValidationError(_l("An outage cannot end in the future."))
        if model.started_at is None:
            raise ValidationError(_l("An outage needs a start time."))
        if model.ended_at is not None and model.ended_at < model.started_at:
            raise ValidationError(_l("An outage cannot end before it starts."))


def admin_views():
    """Return this package's admin view factories, in menu order."""
    category = _l("Contracts")
    return [
        ("contracts", lambda: ContractView(Contract, name=_l("Contracts"), category=category, endpoint="contracts")),
        ("contract_detail", lambda: ContractDetailView(name=_l("Contract overview"), category=category,
                                                       endpoint="contract_detail", url="/admin/contract")),
        ("covered_systems", lambda: CoveredSystemView(CoveredSystem, name=_l("Covered systems"), category=category,
                                                      endpoint="covered_systems")),
        ("sla_targets", lambda: SlaTargetView(SlaTarget, name=_l("SLA targets"), category=category,
                                              endpoint="sla_targets")),
        ("quotas", lambda: QuotaView(Quota, name=_l("Quotas"), category=category, endpoint="quotas")),
        ("quota_usage", lambda: QuotaUsageView(QuotaUsage, name=_l("Quota ledger"), category=category,
                                               endpoint="quota_usage")),
        ("payments", lambda: PaymentView(PaymentInstallment, name=_l("Payments"), category=category,
                                         endpoint="payments")),
        ("outages", lambda: OutageView(Outage, name=_l("Outages"), category=category, endpoint="outages")),
    ]
