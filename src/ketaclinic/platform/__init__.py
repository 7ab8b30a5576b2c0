"""What every area stands on: settings, the database and its unit of work, accounts and
roles, the audit trail, errors, jobs and the app factory. It imports no area: areas plug
in by name through ``platform.areas``."""
