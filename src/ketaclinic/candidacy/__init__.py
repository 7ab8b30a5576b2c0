"""Intake, candidacy evaluation and the prescriber's decision."""
