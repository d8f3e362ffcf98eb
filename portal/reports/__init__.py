"""Reports: dashboard, monthly service report, weekly confirmation sheet, quarterly inspection
report and the annual quality scorecard, each computed from the tickets and submissions behind it."""
