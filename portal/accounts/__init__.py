"""Accounts: organisations, departments, users, API tokens, log-in and the audit trail."""
