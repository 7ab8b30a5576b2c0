"""HL7 v2 from bedside monitors: PCD-01 decoding and the MLLP listener."""
