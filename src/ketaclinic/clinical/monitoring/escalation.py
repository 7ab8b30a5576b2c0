"""When an alarm at the chair calls for the prescriber, and how long the clinic waits for
an answer before escalating.

An alarm whose level is ``pause`` or ``stop`` (infusion, recovery) and a pre-dose reading
that blocks the go/no-go check (``no_go`` on blood pressure) tell the nurse to notify the
prescriber; the area raises a "prescriber needed" item that stays open until the
prescriber answers, and escalates it to the medical director when nobody has answered
within ``respond_within_min``. The clinician decides; these rows only say who is called
and when the clinic escalates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ketaclinic.clinical.monitoring.vitals import Evidence, Level
from ketaclinic.clinical.overrides import Override, apply


@dataclass(frozen=True)
class PrescriberCallRule:
    """Alarms of ``levels`` on ``parameters`` (empty: any parameter) call the prescriber;
    unanswered after ``respond_within_min`` minutes, the call is escalated."""

    id: str
    levels: tuple[Level, ...]
    parameters: tuple[str, ...]
    respond_within_min: int
    source: str
    evidence: Evidence

    def calls(self, *, level: str, parameter: str) -> bool:
        """Whether an alarm of ``level`` on ``parameter`` calls the prescriber."""
        return level in self.levels and (not self.parameters or parameter in self.parameters)


_LIMIT_ACTIONS = (
    "ketaclinic limit table: the pause and stop levels' actions say to notify the "
    "prescriber (monitoring.limits); the symptom rows and the deep-sedation row are stop "
    "and say to call the prescriber at once (monitoring.symptoms, citing SPRAVATO US "
    "prescribing information 5.6: refer immediately for emergency care; "
    "monitoring.sedation). That such an alarm must reach the prescriber and wait for an "
    "answer is clinic convention"
)
_PRE_DOSE_BP = (
    "SPRAVATO (esketamine) US prescribing information 2.1 and 5.6: assess blood pressure "
    "before dosing; if baseline blood pressure is elevated (e.g. >140/90) consider the "
    "risks and benefits of treatment [confirmed in clinical-reference section 10]. That a "
    "blocked start waits for the prescriber's decision is clinic convention"
)
_RESPOND_WITHIN = (
    "15 minutes: no published source sets how soon a prescriber must answer a nurse's call "
    "at the chair; the time is clinic convention, for the medical director to set"
)

PRESCRIBER_CALLS: dict[str, PrescriberCallRule] = {
    "session_alarm": PrescriberCallRule(
        id="session_alarm",
        levels=("pause", "stop"),
        parameters=(),
        respond_within_min=15,
        source=_LIMIT_ACTIONS + "; " + _RESPOND_WITHIN,
        evidence="convention",
    ),
    "pre_dose_block": PrescriberCallRule(
        id="pre_dose_block",
        levels=("no_go",),
        parameters=("systolic_bp", "diastolic_bp"),
        respond_within_min=15,
        source=_PRE_DOSE_BP + "; " + _RESPOND_WITHIN,
        evidence="convention",
    ),
}


def prescriber_call_rules(overrides: Iterable[Override] = ()) -> dict[str, PrescriberCallRule]:
    """The table with the clinic's overrides applied."""
    return apply(PRESCRIBER_CALLS, overrides)


@dataclass(frozen=True)
class AcknowledgementRule:
    """An alarm is acknowledged only with a note of what was done, at least
    ``note_min_chars`` characters long."""

    id: str
    note_min_chars: int
    source: str
    evidence: Evidence


ACKNOWLEDGEMENT: dict[str, AcknowledgementRule] = {
    "alarm_acknowledgement": AcknowledgementRule(
        id="alarm_acknowledgement",
        note_min_chars=3,
        source=(
            "3 characters: enough for a short action ('BP rechecked', 'O2 on'), not an empty "
            "or one-key note; no source sets a length, so the number is clinic convention"
        ),
        evidence="convention",
    ),
}


def acknowledgement_rule(overrides: Iterable[Override] = ()) -> AcknowledgementRule:
    """The acknowledgement row with the clinic's overrides applied."""
    return apply(ACKNOWLEDGEMENT, overrides)["alarm_acknowledgement"]
