"""Patients: demographics, contacts, weight and height history, the chart."""
