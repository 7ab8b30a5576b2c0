"""Medications taken alongside ketamine or esketamine: known interactions, as a table.

``check_medications`` matches names case-insensitively on generic names, common brand
names and class names, ignoring strengths and release suffixes ("Adderall XR 20 mg").
A name it cannot recognise is returned in ``unknown``, never dropped: "unknown" means
"not in this table", not "safe".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from ketaclinic.clinical.course.names import ALIASES, BRANDS, normalise
from ketaclinic.clinical.course.outcomes import Evidence
from ketaclinic.clinical.overrides import Override, apply

Severity = Literal["major", "moderate", "minor", "info"]


@dataclass(frozen=True)
class Interaction:
    """One drug or class and what it means for a ketamine or esketamine session."""

    id: str
    label: str
    class_names: tuple[str, ...]
    members: tuple[str, ...]
    severity: Severity
    effect: str
    advice: str
    source: str
    evidence: Evidence


@dataclass(frozen=True)
class Finding:
    """One recognised medication and the interaction row it matched."""

    medication: str
    matched_drug: str
    interaction_id: str
    drug_class: str
    severity: Severity
    effect: str
    advice: str
    source: str
    evidence: Evidence


@dataclass(frozen=True)
class MedicationReport:
    findings: tuple[Finding, ...]
    unknown: tuple[str, ...]
    overrides_applied: tuple[Override, ...]


_SPRAVATO_DI = "SPRAVATO (esketamine) US prescribing information, Drug Interactions"
_SMPC_45 = (
    "Spravato (esketamine) EU summary of product characteristics, section 4.5: close "
    "monitoring of blood pressure with xanthine derivatives, ergometrine, thyroid hormones "
    "and vasopressin (clinical-reference section 10)"
)


def _ix(
    id: str,
    label: str,
    class_names: tuple[str, ...],
    members: tuple[str, ...],
    severity: Severity,
    effect: str,
    advice: str,
    source: str,
    evidence: Evidence,
) -> tuple[str, Interaction]:
    row = Interaction(id, label, class_names, members, severity, effect, advice, source, evidence)
    return id, row


INTERACTIONS: dict[str, Interaction] = dict(
    [
        _ix(
            "benzodiazepines",
            "Benzodiazepine",
            ("benzodiazepine", "benzodiazepines", "benzo", "benzos"),
            (
                "alprazolam", "chlordiazepoxide", "clobazam", "clonazepam", "clorazepate",
                "diazepam", "lorazepam", "midazolam", "oxazepam", "temazepam", "triazolam",
            ),
            "moderate",
            "May blunt the antidepressant response to IV ketamine, most clearly at higher "
            "doses (above 8 mg diazepam-equivalent in Andrashko 2020; higher doses gave less "
            "improvement at day 1, not day 3, in Feeney 2023). Adds to sedation.",
            "Prescriber to review dose and timing before sessions; monitor sedation; "
            "esketamine: record on the REMS monitoring form",
            "Andrashko V et al., Front Psychiatry 2020;11:844; Feeney A et al., J Clin "
            "Psychiatry 2023;84(1):22m14491; " + _SPRAVATO_DI + " (CNS depressants)",
            "confirmed",
        ),
        _ix(
            "z_drugs",
            "Non-benzodiazepine hypnotic (z-drug)",
            ("z-drug", "z-drugs", "z drug", "hypnotic", "hypnotics"),
            ("eszopiclone", "zaleplon", "zolpidem", "zopiclone"),
            "moderate",
            "CNS depressant: may add to sedation. Effect on the antidepressant response not "
            "studied.",
            "Monitor sedation; esketamine: record on the REMS monitoring form",
            _SPRAVATO_DI + " (CNS depressants, as a class); the SPRAVATO REMS patient "
            "monitoring form asks about non-benzodiazepine hypnotics",
            "secondary",
        ),
        _ix(
            "alcohol",
            "Alcohol",
            (),
            ("alcohol", "ethanol"),
            "moderate",
            "CNS depressant: may add to sedation.",
            "No alcohol on session days (clinic advice)",
            _SPRAVATO_DI + " (CNS depressants, e.g. alcohol)",
            "confirmed",
        ),
        _ix(
            "opioids",
            "Opioid",
            ("opioid", "opioids", "opiate", "opiates"),
            (
                "buprenorphine", "codeine", "fentanyl", "hydrocodone", "hydromorphone",
                "methadone", "morphine", "oxycodone", "oxymorphone", "tapentadol", "tramadol",
            ),
            "moderate",
            "CNS depressant: may add to sedation and respiratory depression.",
            "Monitor sedation, SpO2 and respiratory rate closely",
            _SPRAVATO_DI + " (CNS depressants, e.g. opioids); boxed warning on respiratory "
            "depression",
            "confirmed",
        ),
        _ix(
            "maois",
            "Monoamine oxidase inhibitor (MAOI)",
            ("maoi", "maois", "monoamine oxidase inhibitor", "monoamine oxidase inhibitors"),
            (
                "isocarboxazid", "moclobemide", "phenelzine", "rasagiline", "selegiline",
                "tranylcypromine",
            ),
            "major",
            "May raise blood pressure.",
            "Prescriber decides before each session; close BP monitoring; esketamine: record "
            "on the REMS monitoring form",
            _SPRAVATO_DI + " (MAOIs, e.g. tranylcypromine, selegiline, phenelzine)",
            "confirmed",
        ),
        _ix(
            "psychostimulants",
            "Psychostimulant",
            ("stimulant", "stimulants", "psychostimulant", "psychostimulants"),
            (
                "amphetamine", "armodafinil", "dexmethylphenidate", "dextroamphetamine",
                "lisdexamfetamine", "methylphenidate", "modafinil",
            ),
            "moderate",
            "May raise blood pressure.",
            "Close BP monitoring; prescriber may ask to skip the dose on session days; "
            "esketamine: record on the REMS monitoring form",
            _SPRAVATO_DI + " (psychostimulants, e.g. amphetamines, methylphenidate, "
            "modafinil, armodafinil)",
            "confirmed",
        ),
        _ix(
            "naltrexone",
            "Opioid antagonist (naltrexone)",
            ("opioid antagonist", "opioid antagonists"),
            ("naltrexone",),
            "moderate",
            "Naltrexone 50 mg before IV ketamine markedly blunted the antidepressant, not "
            "the dissociative, effect in treatment-resistant depression; the trial stopped "
            "at its interim analysis of 12 completers (Williams 2018). In depression with "
            "alcohol use disorder no blunting was seen (Yoon 2019 pilot; Yoon 2025 trial).",
            "Prescriber to weigh the indication for naltrexone against the ketamine course",
            "Williams NR et al., Am J Psychiatry 2018, doi:10.1176/appi.ajp.2018.18020138; "
            "Yoon G et al., JAMA Psychiatry 2019, doi:10.1001/jamapsychiatry.2018.3990; "
            "Yoon G et al., Int J Neuropsychopharmacol 2025, doi:10.1093/ijnp/pyaf056",
            "confirmed",
        ),
        _ix(
            "lamotrigine",
            "Lamotrigine",
            (),
            ("lamotrigine",),
            "minor",
            "Pretreatment with 300 mg reduced ketamine's perceptual and psychotomimetic "
            "effects and increased its immediate mood-elevating effect in healthy volunteers "
            "(Anand 2000); in depression, pretreatment changed neither side effects nor "
            "response (Mathew 2010). Effect of ongoing lamotrigine on the antidepressant "
            "response is unknown (Andrade 2017).",
            "No change required by the evidence; prescriber to decide",
            "Anand A et al., Arch Gen Psychiatry 2000;57(3):270-276; Mathew SJ et al., "
            "Int J Neuropsychopharmacol 2010 (as tabulated in Cells 2022;11:645); Andrade C, "
            "J Clin Psychiatry 2017 (Ketamine for depression, 5: drug interactions)",
            "secondary",
        ),
        _ix(
            "memantine",
            "Memantine",
            (),
            ("memantine",),
            "moderate",
            "Another NMDA-receptor antagonist: combined use with ketamine has not been "
            "systematically evaluated; more side effects (dizziness, headache, "
            "hallucinations, tiredness) possible.",
            "Prescriber to review; watch for added side effects",
            "Namenda (memantine) US prescribing information, as summarised by First Databank "
            "(memantine / NMDA antagonist interaction)",
            "secondary",
        ),
        _ix(
            "other_nmda_antagonists",
            "Other NMDA-receptor antagonist",
            ("nmda antagonist", "nmda antagonists"),
            ("amantadine", "dextromethorphan"),
            "minor",
            "Another NMDA-receptor antagonist: added effects are plausible; no study of the "
            "combination with ketamine found.",
            "Prescriber to review",
            "By class only (the memantine label names amantadine, ketamine and "
            "dextromethorphan as NMDA antagonists); no source on this pair",
            "convention",
        ),
        _ix(
            "clarithromycin",
            "Strong CYP3A4 inhibitor (clarithromycin)",
            (),
            ("clarithromycin",),
            "minor",
            "Raised oral S-ketamine exposure (AUC 2.6-fold, Cmax 3.6-fold) in healthy "
            "volunteers; the esketamine label reports a much smaller rise for the nasal "
            "route. Matters most for oral ketamine.",
            "Oral ketamine: prescriber to consider the dose; IV or nasal: watch for stronger "
            "effects",
            "Clarithromycin and oral S-ketamine, Eur J Pain 2010;14(6):625-629; "
            + _SPRAVATO_DI,
            "confirmed",
        ),
        _ix(
            "itraconazole",
            "CYP3A inhibitor (itraconazole)",
            (),
            ("itraconazole",),
            "info",
            "Did not raise oral S-ketamine exposure, though drowsiness ratings were higher.",
            "No change required by the evidence",
            "Peltoniemi MA et al., Clin Pharmacol Ther 2011;90(2):296-302",
            "confirmed",
        ),
        _ix(
            "ticlopidine",
            "CYP2B6 inhibitor (ticlopidine)",
            (),
            ("ticlopidine",),
            "minor",
            "Raised oral S-ketamine exposure 2.4-fold (AUC); for nasal esketamine AUC rose "
            "by about 29% with Cmax unchanged.",
            "Oral ketamine: prescriber to consider the dose",
            "Peltoniemi MA et al., Clin Pharmacol Ther 2011;90(2):296-302; " + _SPRAVATO_DI,
            "confirmed",
        ),
        _ix(
            "rifampicin",
            "CYP inducer (rifampicin)",
            (),
            ("rifampicin",),
            "minor",
            "Lowered S-ketamine exposure (AUC) by 14% after IV and 86% after oral dosing.",
            "Oral ketamine may be much less effective; prescriber to review",
            "Peltoniemi MA et al., Basic Clin Pharmacol Toxicol 2012;111(5):325-332",
            "confirmed",
        ),
        _ix(
            "other_cyp_inducers",
            "CYP3A4 / CYP2B6 inducer",
            ("cyp inducer", "cyp inducers", "enzyme inducer", "enzyme inducers"),
            ("carbamazepine", "efavirenz", "phenytoin"),
            "info",
            "Inducers of CYP2B6 and CYP3A4 are expected to lower ketamine exposure, most for "
            "oral ketamine; no study with ketamine found for these drugs.",
            "Oral ketamine: prescriber to consider the dose",
            "Andrade C, J Clin Psychiatry 2017 (Ketamine for depression, 5: drug "
            "interactions), a general statement",
            "secondary",
        ),
        _ix(
            "xanthines",
            "Xanthine derivative (theophylline, aminophylline)",
            ("xanthine", "xanthines", "methylxanthine", "methylxanthines"),
            ("aminophylline", "theophylline"),
            "moderate",
            "Lowers the seizure threshold: seizures with ketamine and theophylline or "
            "aminophylline (Ketalar label); may raise blood pressure with esketamine (EU "
            "SmPC 4.5).",
            "Prescriber to review; close BP monitoring; watch for seizures",
            "Ketalar (ketamine) US label, drug interactions (theophylline or aminophylline "
            "may lower the seizure threshold) [secondary]; " + _SMPC_45 + " [confirmed]",
            "secondary",
        ),
        _ix(
            "sympathomimetics",
            "Decongestant or other sympathomimetic",
            (
                "decongestant", "decongestants", "sympathomimetic", "sympathomimetics",
                "nasal decongestant",
            ),
            ("ephedrine", "oxymetazoline", "phenylephrine", "pseudoephedrine", "xylometazoline"),
            "moderate",
            "Adds to the rise in blood pressure and heart rate; a nasal decongestant also "
            "changes nasal absorption of esketamine.",
            "Avoid on session days where possible; esketamine: a nasal decongestant at least "
            "1 hour before dosing (label); close BP monitoring",
            _SPRAVATO_DI + " and section 2 (nasal decongestant at least 1 hour before "
            "dosing; clinical-reference section 2: secondary); Ketalar (ketamine) US label, "
            "drug interactions (sympathomimetics may enhance ketamine's sympathomimetic "
            "effects) [secondary]",
            "secondary",
        ),
        _ix(
            "cocaine",
            "Cocaine",
            (),
            ("cocaine",),
            "major",
            "A sympathomimetic: adds to the rise in blood pressure and heart rate.",
            "Prescriber decides; do not treat while intoxicated; review substance use",
            "By class: a sympathomimetic, as the psychostimulants row (" + _SPRAVATO_DI
            + "); no study of the combination in a clinic setting found",
            "convention",
        ),
        _ix(
            "thyroid_hormones",
            "Thyroid hormone",
            ("thyroid hormone", "thyroid hormones", "thyroid replacement"),
            ("levothyroxine", "liothyronine", "thyroid desiccated"),
            "moderate",
            "May add to hypertension and tachycardia (Ketalar label); close BP monitoring "
            "with esketamine (EU SmPC 4.5).",
            "Take as usual; close BP and heart-rate monitoring; check thyroid control",
            "Ketalar (ketamine) US label, drug interactions (thyroid hormones: hypertension "
            "and tachycardia) [secondary]; " + _SMPC_45 + " [confirmed]",
            "secondary",
        ),
        _ix(
            "vasopressors_uterotonics",
            "Vasopressin or ergometrine",
            (),
            ("ergometrine", "methylergometrine", "vasopressin"),
            "moderate",
            "May add to the rise in blood pressure.",
            "Close BP monitoring",
            _SMPC_45 + " (methylergometrine by class with ergometrine)",
            "confirmed",
        ),
        _ix(
            "st_johns_wort",
            "St John's wort",
            (),
            ("st john s wort",),
            "moderate",
            "Lowered oral S-ketamine exposure: AUC by 58% and Cmax by 66% in healthy "
            "volunteers; matters most for oral ketamine.",
            "Oral ketamine may be much less effective; prescriber to review",
            "Peltoniemi MA et al., St John's wort greatly decreases the plasma "
            "concentrations of oral S-ketamine, Fundam Clin Pharmacol 2012 (volume and pages "
            "not checked here)",
            "confirmed",
        ),
        _ix(
            "maoi_activity",
            "Drug with MAOI activity (linezolid, methylene blue)",
            (),
            ("linezolid", "methylene blue"),
            "major",
            "Has monoamine oxidase inhibiting activity: may raise blood pressure as MAOIs do.",
            "Prescriber decides before the session; close BP monitoring",
            "Linezolid and methylene blue labels (reversible MAO inhibition) [secondary]; "
            "the MAOI interaction of " + _SPRAVATO_DI + " applied by class",
            "secondary",
        ),
        _ix(
            "gabapentinoids",
            "Gabapentinoid",
            ("gabapentinoid", "gabapentinoids"),
            ("gabapentin", "gabapentin enacarbil", "pregabalin"),
            "moderate",
            "CNS depressant: may add to sedation and respiratory depression.",
            "Monitor sedation, SpO2 and respiratory rate",
            "US FDA Drug Safety Communication, 19 December 2019 (serious breathing "
            "difficulties with gabapentinoids and other CNS depressants) [secondary]; "
            + _SPRAVATO_DI + " (CNS depressants)",
            "secondary",
        ),
        _ix(
            "antihypertensives",
            "Antihypertensive",
            ("antihypertensive", "antihypertensives", "blood pressure medication"),
            (
                "amlodipine", "atenolol", "bisoprolol", "candesartan", "carvedilol",
                "chlorthalidone", "clonidine", "diltiazem", "doxazosin", "enalapril",
                "hydralazine", "hydrochlorothiazide", "irbesartan", "labetalol", "lisinopril",
                "losartan", "metoprolol", "nifedipine", "olmesartan", "prazosin",
                "propranolol", "ramipril", "valsartan", "verapamil",
            ),
            "info",
            "Marks known hypertension, which predicted BP surges during IV ketamine.",
            "Take the usual dose on session days unless the prescriber says otherwise; "
            "record known hypertension",
            "Gen Hosp Psychiatry 2024, doi:10.1016/j.genhosppsych.2024.07.001 (older age "
            "and known hypertension predict surges)",
            "confirmed",
        ),
        _ix(
            "ssris",
            "SSRI",
            ("ssri", "ssris"),
            (
                "citalopram", "escitalopram", "fluoxetine", "fluvoxamine", "paroxetine",
                "sertraline",
            ),
            "info",
            "Higher BP and heart-rate peaks during IV ketamine with concomitant SSRIs in 49 "
            "inpatients.",
            "Watch BP; no change to the SSRI is suggested by this evidence",
            "Szarmach J et al., Neuropsychiatr Dis Treat 2020;16:2539-2551",
            "confirmed",
        ),
        _ix(
            "other_antidepressants",
            "Other antidepressant (SNRI, TCA, others)",
            ("snri", "snris", "tca", "tcas", "tricyclic", "antidepressant", "antidepressants"),
            (
                "amitriptyline", "bupropion", "clomipramine", "desipramine", "desvenlafaxine",
                "doxepin", "duloxetine", "imipramine", "levomilnacipran", "milnacipran",
                "mirtazapine", "nortriptyline", "trazodone", "venlafaxine", "vilazodone",
                "vortioxetine",
            ),
            "info",
            "Esketamine is given together with an oral antidepressant; most conventional "
            "antidepressants can probably be given with ketamine.",
            "No change suggested",
            "SPRAVATO US prescribing information (indication: with an oral antidepressant); "
            "Andrade C, J Clin Psychiatry 2017 (Ketamine for depression, 5: drug "
            "interactions)",
            "secondary",
        ),
        _ix(
            "mood_stabilizers",
            "Lithium or valproate",
            ("mood stabilizer", "mood stabilizers", "mood stabiliser", "mood stabilisers"),
            ("lithium", "valproate", "valproic acid", "divalproex"),
            "info",
            "Patients kept on therapeutic lithium or valproate received ketamine 0.5 mg/kg "
            "in a bipolar depression trial.",
            "No change suggested",
            "Diazgranados N et al., Arch Gen Psychiatry 2010 (PMC3000408)",
            "confirmed",
        ),
    ]
)  # fmt: skip


def check_medications(
    names: Iterable[str], *, overrides: Iterable[Override] = ()
) -> MedicationReport:
    """Findings for every recognised name and the names not recognised.

    A combination ("buprenorphine/naloxone", or a brand such as Suboxone) gives a
    finding per recognised component and lists each unrecognised component in
    ``unknown`` as "naloxone (in Suboxone)".
    """
    overrides = tuple(overrides)
    table = apply(INTERACTIONS, overrides)
    by_member: dict[str, list[Interaction]] = {}
    by_class: dict[str, list[Interaction]] = {}
    for row in table.values():
        for member in row.members:
            by_member.setdefault(member, []).append(row)
        for cname in row.class_names:
            by_class.setdefault(cname, []).append(row)

    def resolve(key: str) -> tuple[list[tuple[str, Interaction]], list[str]] | None:
        """Matches and components not in the table, or None when nothing is recognised."""
        key = ALIASES.get(key, key)
        if key in by_member:
            return [(key, row) for row in by_member[key]], []
        if key in BRANDS:
            found = [(g, row) for g in BRANDS[key] for row in by_member.get(g, [])]
            return found, [g for g in BRANDS[key] if g not in by_member]
        if key in by_class:
            return [(row.label, row) for row in by_class[key]], []
        return None

    findings: list[Finding] = []
    unknown: list[str] = []
    for given in names:
        key = normalise(given)
        result = resolve(key) if key else None
        if result is None and key:
            parts = [p.strip() for p in re.split(r"[/+]| and ", key) if p.strip()]
            if len(parts) > 1:
                resolved = [(p, resolve(p)) for p in parts]
                if any(r is not None for _, r in resolved):
                    result = (
                        [m for _, r in resolved if r is not None for m in r[0]],
                        [p for p, r in resolved if r is None]
                        + [c for _, r in resolved if r is not None for c in r[1]],
                    )
            elif " " in key:
                result = resolve(key.split()[0])
        if result is None:
            unknown.append(given)
            continue
        matches, missing = result
        unknown.extend(f"{part} (in {given})" for part in missing)
        for drug, row in matches:
            findings.append(
                Finding(
                    medication=given,
                    matched_drug=drug,
                    interaction_id=row.id,
                    drug_class=row.label,
                    severity=row.severity,
                    effect=row.effect,
                    advice=row.advice,
                    source=row.source,
                    evidence=row.evidence,
                )
            )
    return MedicationReport(tuple(findings), tuple(unknown), overrides)
