"""XLSX (openpyxl) and CSV exports of the monthly report; every text cell goes through
``portal.admin.neutralise_formula`` so a ticket title like ``=HYPERLINK(…)`` stays text."""

import csv
import io

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from portal.admin import neutralise_formula
from portal.reports import labels


def _cell(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat") and hasattr(value, "astimezone"):
        return labels.local(value)
    if isinstance(value, (int, float)):
        return value
    return neutralise_formula(str(value))


def sheets(data):
    """The report as [(sheet title, header, rows)] — the same tables for XLSX and CSV."""
    s = data["summary"]
    uptime = data["uptime"]
    contract = data["contract"]
    summary_rows = [
        (_("Contract"), f"{contract.number} {contract.title}"), (_("Hospital"), contract.hospital.name),
        (_("Vendor"), contract.vendor.name), (_("Month"), data["period"].label()),
        (_("Ticket count"), s["total"]), (_("Resolved"), s["resolved"]), (_("Unresolved"), s["open"]),
        (_("Resolution rate"), s["resolution_rate"]), (_("SLA compliance"), s["sla_compliance"]),
        (_("Response missed"), s["response_missed"]), (_("Resolution missed"), s["resolve_missed"]),
        (_("Rated tickets"), s["rated"]), (_("Mean satisfaction"), s["satisfaction_mean"]),
        (_("Uptime (%)"), uptime["uptime_percent"]), (_("Uptime target (%)"), uptime["target_percent"]),
        (_("Inspections"), len(data["inspections"])),
        (_("Requirements"), len(data["requirements"]["assessed"]) + len(data["requirements"]["unassessed"])),
    ]
    ticket_header = (_("Number"), _("Title"), _("Category"), _("Priority"), _("Status"), _("System"),
                     _("Department"), _("Reported at"), _("First response"), _("Resolved at"), _("Satisfaction"))

    def ticket_row(t):
        return (t["number"], t["title"], labels.category(t["category"]), t["priority"], labels.status(t["status"]),
                t["system_name"] or "", t["reporter_department"], t["reported_at"], t["first_response_at"],
                t["resolved_at"], t["satisfaction"])

    return [
        (_("Summary"), (_("Field"), _("Value")), summary_rows),
        (_("By category"), (_("Category"), _("Ticket count"), _("Resolved"), _("Missed SLA")),
         [(labels.category(r["key"]), r["total"], r["resolved"], r["missed"]) for r in data["by_category"]]),
        (_("By priority"), (_("Priority"), _("Ticket count"), _("Resolved"), _("Response missed"), _("Resolution missed")),
         [(r["key"], r["total"], r["resolved"], r["response_missed"], r["resolve_missed"]) for r in data["by_priority"]]),
        (_("By system"), (_("System"), _("Class"), _("Ticket count"), _("Resolved"), _("Missed SLA")),
         [(r["name"] or _("No system"), r["class"], r["total"], r["resolved"], r["missed"]) for r in data["by_system"]]),
        (_("Breaches"), (*ticket_header, _("Root cause")),
         [(*ticket_row(t), t["root_cause"]) for t in data["breaches"]]),
        (_("Ticket list"), ticket_header, [ticket_row(t) for t in data["tickets"]]),
    ]


def xlsx(data):
    """The workbook, streamed (write-only mode: 100k-ticket years stay fast and small in memory)."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets(data):
        sheet = workbook.create_sheet(title=title[:31])
        sheet.freeze_panes = "A2"
        head = []
        for value in header:
            cell = WriteOnlyCell(sheet, value=_cell(value))
            cell.font = bold
            head.append(cell)
        sheet.append(head)
        for row in rows:
            sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_text(data):
    out = io.StringIO()
    writer = csv.writer(out)
    for index, (title, header, rows) in enumerate(sheets(data)):
        if index:
            writer.writerow([])
        writer.writerow([_cell(f"# {title}")])
        writer.writerow([_cell(h) for h in header])
        for row in rows:
            writer.writerow([_cell(v) for v in row])
    return "\ufeff" + out.getvalue()  # BOM: Excel opens UTF-8 Chinese correctly
