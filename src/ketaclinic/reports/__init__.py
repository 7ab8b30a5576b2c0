"""Reports: documents as PDF (the signed session note, the esketamine REMS patient
monitoring form, the patient's progress report, the clinic's outcomes and safety report)
and the de-identified research export. The area reads every other area through its
service only and writes nothing but audit rows."""
