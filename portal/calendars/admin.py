"""Admin views: the day table and the working hours (edit: admin; view: every role)."""

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.validators import ValidationError

from portal.admin import SecureModelView
from portal.calendars import service
from portal.calendars.models import CalendarDay
from portal.calendars.models import CalendarSettings

KIND_LABELS = {
    "holiday": _l("Statutory holiday"),
    "adjusted_workday": _l("Adjusted working day"),
    "workday": _l("Working day"),
    "weekend": _l("Rest day"),
}
SOURCE_LABELS = {"official": _l("Official (State Council)"), "admin": _l("Entered by an administrator")}


class CalendarWarningMixin:
    """Pass the years lacking official data to the templates, for the admin banner."""

    list_template = "calendars/list.html"
    edit_template = "calendars/edit.html"
    create_template = "calendars/create.html"

    def render(self, template, **kwargs):
        show = getattr(current_user, "role", None) == "admin"
        kwargs["calendar_warning_years"] = service.warning_years() if show else []
        return super().render(template, **kwargs)


class CalendarDayView(CalendarWarningMixin, SecureModelView):
    resource = "calendar"
    column_list = ("day", "kind", "name", "source", "note")
    column_default_sort = ("day", True)
    column_filters = ("day", "kind", "source")
    column_searchable_list = ("name",)
    form_columns = ("day", "kind", "name", "note")
    form_choices = {"kind": [(key, label) for key, label in KIND_LABELS.items()]}
    column_formatters = {
        "kind": lambda v, c, m, p: KIND_LABELS.get(m.kind, m.kind),
        "source": lambda v, c, m, p: SOURCE_LABELS.get(m.source, m.source),
    }
    column_labels = {"day": _l("Date"), "kind": _l("Kind"), "name": _l("Holiday name"),
                     "source": _l("Source"), "note": _l("Note")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        if model.day is None:
            raise ValidationError(_l("Choose a date."))
        clash = CalendarDay.select().where(CalendarDay.day == model.day)
        if model.id is not None:
            clash = clash.where(CalendarDay.id != model.id)
        if clash.exists():
            raise ValidationError(_l("This date has a row already; edit that row instead."))
        # A day an administrator touched is theirs: seeding never overwrites it.
        model.source = "admin"

    def after_model_change(self, form, model, is_created):
        service.bump_version()

    def after_model_delete(self, model):
        service.bump_version()


class CalendarSettingsView(CalendarWarningMixin, SecureModelView):
    resource = "calendar"
    can_create = False
    can_delete = False
    can_export = False
    column_list = ("timezone", "work_start", "work_end", "updated_at")
    form_columns = ("timezone", "work_start", "work_end")
    column_labels = {"timezone": _l("Time zone"), "work_start": _l("Working hours start (HH:MM)"),
                     "work_end": _l("Working hours end (HH:MM)"), "updated_at": _l("Updated at")}

    def on_model_change(self, form, model, is_created):
        super().on_model_change(form, model, is_created)
        try:
            service.zone(model.timezone)
        except ValueError:
            raise ValidationError(_l("Unknown time zone; use a name like Asia/Shanghai.")) from None
        try:
            start, end = service.parse_hhmm(model.work_start), service.parse_hhmm(model.work_end)
        except ValueError:
            raise ValidationError(_l("Write working hours as HH:MM, e.g. 08:30.")) from None
        if start >= end:
            raise ValidationError(_l("Working hours must start before they end."))

    def after_model_change(self, form, model, is_created):
        service.bump_version()


def admin_views():
    """Return this package's admin view factories, in menu order."""
    category = _l("Calendar")
    return [
        ("calendar_days", lambda: CalendarDayView(CalendarDay, name=_l("Holidays and working days"),
                                                  category=category, endpoint="calendar_days")),
        ("calendar_settings", lambda: CalendarSettingsView(CalendarSettings, name=_l("Working hours"),
                                                           category=category, endpoint="calendar_settings")),
    ]
