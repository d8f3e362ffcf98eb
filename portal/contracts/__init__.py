"""Maintenance contracts: covered systems, SLA targets, quotas (a ledger), payments and outages."""
