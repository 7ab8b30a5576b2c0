"""Staff and patient accounts, roles, login sessions and API tokens."""
