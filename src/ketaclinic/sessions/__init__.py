"""The infusion session: checklist, infusion events, vitals, alarms, scores, discharge,
the signed session note, and the intranasal esketamine programme records."""
