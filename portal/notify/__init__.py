"""Notifications: the outbox, delivery channels, event receivers, periodic reminders (DESIGN §8)."""
