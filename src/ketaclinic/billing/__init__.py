"""Money: price list, packages, payments, good-faith estimates, superbills and claims."""
