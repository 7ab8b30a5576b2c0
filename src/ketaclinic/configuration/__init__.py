"""The clinic's review and overrides of the clinical core's default tables.

Every default in ``ketaclinic.clinical`` carries its source; a medical director (an
account holding both the prescriber and the admin role) may override a numeric field of
a row with a written reason. Overrides are stored, never deleted (a retired override
keeps who retired it and why), and handed to the clinical functions by the areas that
call them (``service.overrides_for(db, "monitoring.limits")``).
"""
