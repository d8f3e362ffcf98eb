"""The stored business calendar: working hours and the day table (official rows + admin rows)."""
