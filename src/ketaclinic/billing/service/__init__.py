"""The money acts: prices, charges, payments, balances, estimates, superbills, claims, reports."""

from ketaclinic.billing.service.balances import (
    Totals,
    account,
    balance,
    portal_documents,
    totals_by_patient,
    totals_of,
)
from ketaclinic.billing.service.charges import buy_package, charge_service, post_session_charges
from ketaclinic.billing.service.claim_files import claim_837p, claimable, cms1500
from ketaclinic.billing.service.common import MONEY, dollars
from ketaclinic.billing.service.coverage import coverage_of, record_coverage
from ketaclinic.billing.service.estimates import (
    appointment_booked,
    dispute_notices,
    estimate_by_token,
    estimates_due,
    get_estimate,
    issue_estimate,
    open_estimate,
    recipient_birth_date,
    request_estimate,
)
from ketaclinic.billing.service.owner_reports import reports
from ketaclinic.billing.service.payments import adjust, record_payment, refund
from ketaclinic.billing.service.prices import (
    add_plan,
    add_service,
    plans,
    price_list,
    public_prices,
    set_price,
)
from ketaclinic.billing.service.superbills import Superbill, receipt, superbill

__all__ = [
    "MONEY",
    "dollars",
    "add_plan",
    "add_service",
    "plans",
    "price_list",
    "public_prices",
    "set_price",
    "buy_package",
    "charge_service",
    "post_session_charges",
    "adjust",
    "record_payment",
    "refund",
    "coverage_of",
    "record_coverage",
    "Totals",
    "account",
    "balance",
    "portal_documents",
    "totals_by_patient",
    "totals_of",
    "appointment_booked",
    "dispute_notices",
    "estimate_by_token",
    "estimates_due",
    "get_estimate",
    "issue_estimate",
    "open_estimate",
    "recipient_birth_date",
    "request_estimate",
    "Superbill",
    "receipt",
    "superbill",
    "claim_837p",
    "claimable",
    "cms1500",
    "reports",
]
