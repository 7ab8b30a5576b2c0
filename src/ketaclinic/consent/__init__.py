"""Consent documents the clinic writes, patients' signatures on them, and the day-before
readiness answers patients give by link."""
