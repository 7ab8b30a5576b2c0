"""Remission and response definitions carried as data, and clinic overrides of them."""

import pytest

from ketaclinic.clinical import instruments
from ketaclinic.clinical.instruments import Cutoff, Source
from ketaclinic.clinical.overrides import Override


@pytest.mark.parametrize(
    ("instrument_id", "in_remission", "not_in_remission", "evidence"),
    [
        ("phq9", 4, 5, "secondary"),  # PHQ-9 < 5
        ("gad7", 4, 5, "convention"),  # GAD-7 < 5
        ("qids_sr16", 5, 6, "confirmed"),  # QIDS-SR16 <= 5 (STAR*D, Trivedi 2006)
        ("madrs", 9, 10, "confirmed"),  # MADRS <= 9 (Hawley 2002 < 10; Zimmerman 2004 <= 9)
    ],
)
def test_remission_cut_offs(instrument_id, in_remission, not_in_remission, evidence):
    remission = instruments.get(instrument_id).remission
    assert remission is not None
    assert remission.met_by(in_remission)
    assert not remission.met_by(not_in_remission)
    assert remission.source.evidence == evidence


@pytest.mark.parametrize("instrument_id", ["pcl5", "cadss", "cadss6", "moaas", "aldrete"])
def test_instruments_without_a_remission_definition_have_none(instrument_id):
    assert instruments.get(instrument_id).remission is None


@pytest.mark.parametrize("instrument_id", ["phq9", "gad7", "qids_sr16", "madrs", "pcl5"])
def test_response_is_a_halving_of_the_baseline_total(instrument_id):
    response = instruments.get(instrument_id).response
    assert response is not None
    assert response.met_by(20, 10)
    assert not response.met_by(20, 11)
    assert response.met_by(15, 7)
    assert not response.met_by(15, 8)
    assert not response.met_by(0, 0)


def test_a_clinic_can_set_the_madrs_remission_cut_off_to_12():
    override = Override(
        target="madrs",
        field="remission",
        value=Cutoff(
            at_most=12,
            description="Remission: MADRS 12 or less (clinic setting).",
            source=Source(citation="Clinic protocol 2025", evidence="convention"),
        ),
        by="medical director",
        reason="Align with the trial our protocol follows",
    )
    madrs = instruments.get("madrs", [override])
    assert madrs.remission is not None
    assert madrs.remission.met_by(12)
    assert instruments.get("madrs").remission.at_most == 9

    result = instruments.score("madrs", [0] * 10, overrides=[override])
    assert result.overrides == (override,)


def test_an_override_of_another_instrument_is_not_recorded_on_the_result():
    override = Override("gad7", "loinc_total", None, by="admin", reason="testing")
    result = instruments.score("phq9", [0] * 9, overrides=[override])
    assert result.overrides == ()


def test_an_override_of_an_unknown_field_is_refused():
    override = Override("phq9", "cutoff", 3, by="admin", reason="typo")
    with pytest.raises(ValueError, match="unknown field 'cutoff'"):
        instruments.get("phq9", [override])
