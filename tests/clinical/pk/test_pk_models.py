"""The declared table: every number has a source and an evidence mark."""

from __future__ import annotations

import pytest

from ketaclinic.clinical import pk

MARKS = {"confirmed", "secondary", "convention"}


def test_the_table_holds_the_models_the_clinic_asked_for() -> None:
    ids = {m.id for m in pk.models()}
    assert {"domino", "clements", "hijazi", "kamp", "esketamine_perez_ruixo"} <= ids


@pytest.mark.parametrize("model", pk.models(), ids=lambda m: m.id)
def test_every_parameter_carries_a_source_and_an_evidence_mark(model: pk.ModelInfo) -> None:
    assert model.evidence in MARKS and model.citation and model.note
    for p in model.params:
        assert p.source and p.unit and p.evidence in MARKS
    for v in model.iiv:
        assert v.source and v.evidence in MARKS and v.omega2 > 0


def test_derived_absorption_rates_are_marked_as_convention() -> None:
    for a in pk.ABSORPTION.values():
        assert a.ka_per_min.evidence == "convention"
        assert "Tmax" in a.ka_per_min.source


def test_models_are_found_by_id_or_alias_and_unknown_ids_are_refused() -> None:
    assert pk.get_model("Esketamine").id == "esketamine_perez_ruixo"
    assert pk.get_model("domino").id == "domino"
    with pytest.raises(KeyError, match="unknown"):
        pk.get_model("marsh")


def test_the_racemic_affinity_combines_the_enantiomers() -> None:
    # 1:1 mixture of Ki 0.30 and 1.4 uM: 1 / (0.5/0.30 + 0.5/1.4).
    assert pk.racemic_ki_um() == pytest.approx(1 / (0.5 / 0.30 + 0.5 / 1.4))
