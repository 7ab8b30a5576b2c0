"""The catalogue of instruments: ids, definitions as data, sources, LOINC codes."""

import pytest

from ketaclinic.clinical import instruments

EXPECTED_IDS = {
    "phq9",
    "gad7",
    "pcl5",
    "madrs",
    "qids_sr16",
    "cssrs_screen",
    "cadss",
    "cadss6",
    "moaas",
    "aldrete",
}

# id -> (number of items, lowest answer, highest answer, who completes it)
SHAPES = {
    "phq9": (9, 0, 3, "patient"),
    "gad7": (7, 0, 3, "patient"),
    "pcl5": (20, 0, 4, "patient"),
    "qids_sr16": (16, 0, 3, "patient"),
    "madrs": (10, 0, 6, "clinician"),
    "cssrs_screen": (7, 0, 1, "clinician"),
    "cadss": (23, 0, 4, "clinician"),
    "cadss6": (6, 0, 4, "clinician"),
    "moaas": (1, 0, 5, "clinician"),
    "aldrete": (5, 0, 2, "clinician"),
}


def test_it_lists_every_required_instrument():
    assert set(instruments.ids()) == EXPECTED_IDS
    assert [i.id for i in instruments.all()] == instruments.ids()


def test_get_returns_the_instrument_with_that_id():
    assert instruments.get("phq9").name == "Patient Health Questionnaire-9 (PHQ-9)"


def test_an_unknown_instrument_id_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="unknown instrument 'phq10'"):
        instruments.get("phq10")


@pytest.mark.parametrize("instrument_id", sorted(SHAPES))
def test_each_instrument_has_its_published_item_count_and_answer_range(instrument_id):
    count, low, high, who = SHAPES[instrument_id]
    instrument = instruments.get(instrument_id)
    assert len(instrument.items) == count
    for item in instrument.items:
        assert item.values == tuple(range(low, high + 1))
    assert instrument.completed_by == who


def test_item_ids_are_stable_and_numbered_from_one():
    assert instruments.get("phq9").item_ids == tuple(f"item{n}" for n in range(1, 10))
    assert instruments.get("cadss6").item_ids == (
        "item1",
        "item2",
        "item6",
        "item7",
        "item15",
        "item22",
    )
    assert instruments.get("cssrs_screen").item_ids == (
        "item1",
        "item2",
        "item3",
        "item4",
        "item5",
        "item6",
        "item6_recent",
    )
    assert instruments.get("aldrete").item_ids == (
        "activity",
        "respiration",
        "circulation",
        "consciousness",
        "oxygen_saturation",
    )
    assert instruments.get("moaas").item_ids == ("rating",)


def test_only_the_confirmed_loinc_codes_are_filled_in():
    """Clinical reference section 5: PHQ-9 44249-1/44261-6, GAD-7 69737-5/70274-6."""
    codes = {i.id: (i.loinc_panel, i.loinc_total) for i in instruments.all()}
    assert codes == {
        "phq9": ("44249-1", "44261-6"),
        "gad7": ("69737-5", "70274-6"),
        "pcl5": (None, None),
        "madrs": (None, None),
        "qids_sr16": (None, None),
        "cssrs_screen": (None, None),
        "cadss": (None, None),
        "cadss6": (None, None),
        "moaas": (None, None),
        "aldrete": (None, None),
    }
    for instrument in instruments.all():
        if instrument.id != "phq9":
            assert all(item.loinc is None for item in instrument.items)


def test_the_phq9_items_carry_their_loinc_codes_in_form_order():
    """Clinical reference section 10 (HL7 US Core PHQ-9 example)."""
    assert [item.loinc for item in instruments.get("phq9").items] == [
        "44250-9",
        "44255-8",
        "44259-0",
        "44254-1",
        "44251-7",
        "44258-2",
        "44252-5",
        "44253-3",
        "44260-8",
    ]


def test_73831_0_is_not_used_as_a_code_anywhere():
    for instrument in instruments.all():
        codes = {instrument.loinc_panel, instrument.loinc_total}
        codes |= {item.loinc for item in instrument.items}
        assert "73831-0" not in codes


def test_every_source_carries_a_citation_and_a_known_evidence_mark():
    marks = {"confirmed", "secondary", "convention"}
    for instrument in instruments.all():
        sources = [instrument.source, instrument.text_source]
        sources += [band.source for band in instrument.bands]
        sources += [rule.source for rule in instrument.flag_rules]
        sources += [s.source for s in instrument.subscales]
        for optional in (
            instrument.diagnostic_rule,
            instrument.remission,
            instrument.response,
        ):
            if optional is not None:
                sources.append(optional.source)
        if instrument.loinc_panel or instrument.loinc_total:
            assert instrument.loinc_source is not None
            sources.append(instrument.loinc_source)
        for source in sources:
            assert source.citation.strip(), instrument.id
            assert source.evidence in marks, instrument.id


def test_licence_restricted_instruments_store_labels_but_no_texts():
    for instrument_id in ("madrs", "cadss", "cadss6", "cssrs_screen", "qids_sr16"):
        instrument = instruments.get(instrument_id)
        assert all(item.text is None for item in instrument.items)
        assert all(item.label for item in instrument.items)
        assert instrument.licence.strip()
    for instrument_id in ("madrs", "cadss", "cadss6"):
        assert "licensed" in instruments.get(instrument_id).licence


def test_free_instruments_carry_full_item_texts():
    for instrument_id in ("phq9", "gad7", "pcl5"):
        assert all(item.text for item in instruments.get(instrument_id).items)


def test_phq9_item9_text_is_the_published_wording():
    """Kroenke 2001; PHQ-9 form."""
    item9 = instruments.get("phq9").item("item9")
    assert item9.text == (
        "Thoughts that you would be better off dead or of hurting yourself in some way"
    )


def test_madrs_item_labels_are_the_published_names():
    """Montgomery & Asberg 1979."""
    labels = [item.label for item in instruments.get("madrs").items]
    assert labels == [
        "Apparent sadness",
        "Reported sadness",
        "Inner tension",
        "Reduced sleep",
        "Reduced appetite",
        "Concentration difficulties",
        "Lassitude",
        "Inability to feel",
        "Pessimistic thoughts",
        "Suicidal thoughts",
    ]


def test_recall_periods_follow_the_instruments():
    assert instruments.get("phq9").recall_period == "Over the last 2 weeks"
    assert instruments.get("gad7").recall_period == "Over the last 2 weeks"
    assert instruments.get("pcl5").recall_period == "In the past month"
    assert instruments.get("qids_sr16").recall_period == "Past 7 days"


@pytest.mark.parametrize(
    ("instrument_id", "bands"),
    [
        (
            "phq9",
            [
                (0, 4, "minimal"),
                (5, 9, "mild"),
                (10, 14, "moderate"),
                (15, 19, "moderately severe"),
                (20, 27, "severe"),
            ],
        ),
        ("gad7", [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")]),
        (
            "qids_sr16",
            [
                (0, 5, "none"),
                (6, 10, "mild"),
                (11, 15, "moderate"),
                (16, 20, "severe"),
                (21, 27, "very severe"),
            ],
        ),
        ("madrs", [(0, 6, "normal"), (7, 19, "mild"), (20, 34, "moderate"), (35, 60, "severe")]),
        ("aldrete", [(0, 8, "not ready for discharge"), (9, 10, "meets discharge score")]),
        ("pcl5", []),
        ("cadss", []),
        ("cadss6", []),
        ("moaas", []),
        ("cssrs_screen", []),
    ],
)
def test_bands_are_the_published_ones(instrument_id, bands):
    """PHQ-9 Kroenke & Spitzer 2002; GAD-7 Spitzer 2006; QIDS ids-qids.org; MADRS Snaith
    1986; Aldrete 1995. PCL-5 and CADSS have no empirically derived bands."""
    instrument = instruments.get(instrument_id)
    assert [(b.lower, b.upper, b.label) for b in instrument.bands] == bands


def test_band_evidence_marks_follow_the_reference():
    assert {b.source.evidence for b in instruments.get("phq9").bands} == {"confirmed"}
    assert {b.source.evidence for b in instruments.get("gad7").bands} == {"confirmed"}
    assert {b.source.evidence for b in instruments.get("qids_sr16").bands} == {"confirmed"}
    assert {b.source.evidence for b in instruments.get("madrs").bands} == {"secondary"}


@pytest.mark.parametrize(
    ("instrument_id", "lowest", "highest"),
    [
        ("phq9", 0, 27),
        ("gad7", 0, 21),
        ("pcl5", 0, 80),
        ("qids_sr16", 0, 27),
        ("madrs", 0, 60),
        ("cadss", 0, 92),
        ("cadss6", 0, 24),
        ("moaas", 0, 5),
        ("aldrete", 0, 10),
        ("cssrs_screen", None, None),
    ],
)
def test_total_range_matches_the_published_range(instrument_id, lowest, highest):
    instrument = instruments.get(instrument_id)
    assert (instrument.min_total, instrument.max_total) == (lowest, highest)
