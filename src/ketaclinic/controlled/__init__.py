"""The controlled-substance ledger (DEA Schedule III): stock, lots, draws, waste, counts."""
