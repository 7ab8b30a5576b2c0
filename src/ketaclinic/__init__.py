"""ketaclinic: an open-source platform for clinics that give ketamine therapy."""

__version__ = "0.1.0"
