"""Chairs, staff availability, appointments and day-before confirmations."""
