"""The default instrument definitions, one module per instrument family."""

from __future__ import annotations

from ..model import Instrument
from .aldrete import ALDRETE
from .cadss import CADSS, CADSS6
from .cssrs import CSSRS_SCREEN
from .gad7 import GAD7
from .madrs import MADRS
from .moaas import MOAAS
from .pcl5 import PCL5
from .phq9 import PHQ9
from .qids import QIDS_SR16

DEFAULTS: dict[str, Instrument] = {
    instrument.id: instrument
    for instrument in (
        PHQ9,
        GAD7,
        PCL5,
        MADRS,
        QIDS_SR16,
        CSSRS_SCREEN,
        CADSS,
        CADSS6,
        MOAAS,
        ALDRETE,
    )
}
