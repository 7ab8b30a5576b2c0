from __future__ import annotations

from ketaclinic.clinical import consent
from ketaclinic.clinical.overrides import Override


def test_iv_ketamine_requires_off_label_consent_and_esketamine_its_rems_enrolment() -> None:
    assert consent.required_documents("iv_ketamine") == ["off_label_ketamine", "financial_policy"]
    assert consent.required_documents("in_esketamine") == ["esketamine_rems", "financial_policy"]
    assert all(r.source and r.evidence for r in consent.REQUIREMENTS.values())


def test_a_clinic_may_drop_a_requirement_and_the_override_is_applied() -> None:
    dropped = Override("iv_ketamine.financial", "required", False, by="dr.chen", reason="paper")
    assert consent.required_documents("iv_ketamine", [dropped]) == ["off_label_ketamine"]


def test_iv_asks_asa_fasting_windows_and_esketamine_the_label_windows() -> None:
    iv = [q.text for q in consent.questions("iv")]
    assert iv[0].startswith("Someone will take you home")
    # ASA fasting guidance: light meal 6 h, clear liquids 2 h.
    assert iv[1:] == [
        "No food for 6 hours before the session.",
        "No liquids for 2 hours before the session.",
    ]
    nasal = [q.text for q in consent.questions("esketamine_nasal")]
    # SPRAVATO label: food 2 h, liquids 30 min; nasal sprays at least 1 h before.
    assert nasal[1:] == [
        "No food for 2 hours before the session.",
        "No liquids for 30 minutes before the session.",
        "No nasal decongestant or nasal corticosteroid for 1 hour before the session.",
    ]


def test_a_window_set_to_zero_by_the_clinic_is_not_asked() -> None:
    off = Override("iv.liquids", "hours", 0.0, by="dr.chen", reason="clinic policy")
    assert [q.id for q in consent.questions("iv", [off])] == ["ride_home", "iv.food"]
