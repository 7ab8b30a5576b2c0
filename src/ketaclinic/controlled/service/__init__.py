"""The ledger's acts: set up, receive, draw for a dose, waste, move, correct, count, report."""

from ketaclinic.controlled.models import (
    ControlledLocation,
    ControlledLot,
    ControlledProduct,
    Discrepancy,
    Inventory,
    LedgerEntry,
    LossReport,
    StockCount,
)
from ketaclinic.controlled.service.common import (
    LICENSED,
    SUPERVISORS,
    lot_by_id,
    rules,
    show,
    units,
)
from ketaclinic.controlled.service.corrections import correct
from ketaclinic.controlled.service.counts import (
    count,
    discrepancy_summary,
    open_discrepancies,
    resolve,
)
from ketaclinic.controlled.service.disposal import (
    WitnessIn,
    awaiting_waste,
    destroy,
    waste,
    waste_witnesses_needed,
)

# The sessions area calls these at the start of dosing, at each nasal device and at the
# end of an infusion (with ledger_configured and lot_by_id).
from ketaclinic.controlled.service.dosing import (
    checklist_item,
    draw_for_dose,
    lots_of_sessions,
    record_given,
)
from ketaclinic.controlled.service.inventory import (
    InventoryLine,
    inventories,
    inventory_due,
    take_inventory,
)
from ketaclinic.controlled.service.logs import (
    KIND_LABELS,
    LOG_HEADINGS,
    LOG_TITLES,
    Log,
    day_entries,
    log,
    log_csv,
    log_pdf,
)
from ketaclinic.controlled.service.losses import (
    LossLine,
    form_106,
    loss_reports,
    record_loss_notice,
    report_loss,
)
from ketaclinic.controlled.service.on_hand import lot_choices, lot_stock, stock
from ketaclinic.controlled.service.receipts import receive
from ketaclinic.controlled.service.setup import (
    add_location,
    add_product,
    ledger_configured,
    locations,
    products,
)
from ketaclinic.controlled.service.transfers import return_to_supplier, transfer

__all__ = [
    "ControlledLocation",
    "ControlledLot",
    "ControlledProduct",
    "Discrepancy",
    "Inventory",
    "LedgerEntry",
    "LossReport",
    "StockCount",
    "LICENSED",
    "SUPERVISORS",
    "lot_by_id",
    "rules",
    "show",
    "units",
    "correct",
    "count",
    "discrepancy_summary",
    "open_discrepancies",
    "resolve",
    "checklist_item",
    "draw_for_dose",
    "lots_of_sessions",
    "record_given",
    "InventoryLine",
    "inventories",
    "inventory_due",
    "take_inventory",
    "KIND_LABELS",
    "LOG_HEADINGS",
    "LOG_TITLES",
    "Log",
    "day_entries",
    "log",
    "log_csv",
    "log_pdf",
    "LossLine",
    "form_106",
    "loss_reports",
    "record_loss_notice",
    "report_loss",
    "receive",
    "add_location",
    "add_product",
    "ledger_configured",
    "locations",
    "products",
    "lot_choices",
    "lot_stock",
    "stock",
    "return_to_supplier",
    "transfer",
    "WitnessIn",
    "awaiting_waste",
    "destroy",
    "waste",
    "waste_witnesses_needed",
]
