"""Interoperability: bedside monitors over HL7 v2 (ORU^R01, IHE PCD-01, MLLP)."""
