"""Agencies: assignments, compliance, staff, reminders, exports and the HR API."""
