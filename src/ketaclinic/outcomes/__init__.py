"""Measurement-based care: questionnaires that arrive by themselves, scores stored per
item and as observations, suicidality alerts, progress pages and dashboards."""
