"""The pure clinical core: knowledge and arithmetic, no database, no web, no clock.

Nothing in this package imports anything else of ketaclinic, so it stays usable alone
(for example ``from ketaclinic.clinical.pk import simulate`` in a notebook).
"""
