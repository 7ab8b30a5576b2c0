"""Codes that devices and other systems use for ketaclinic's clinical facts."""
