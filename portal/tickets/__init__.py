"""Tickets (问题登记): numbering, the status workflow, SLA deadlines and sweeps, data-change records."""
