"""The declared table of published ketamine and esketamine pharmacokinetic models.

Every number a prediction rests on is a ``Param`` row here, in the unit its source
printed, with the source and an evidence mark:

- ``confirmed``: read in the primary text, its abstract, or an authoritative reproduction;
- ``secondary``: read only in a review, another implementation or a summary;
- ``convention``: no published value found; the least-bad choice, with its reasoning.

``structure.py`` turns these rows into compartment matrices; nothing there carries a
number of its own beyond unit conversions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from scipy.optimize import brentq

Evidence = Literal["confirmed", "secondary", "convention"]

KETAMINE_MW_G_PER_MOL = 237.7
"""Ketamine (and esketamine) free base, C13H16ClNO."""


@dataclass(frozen=True)
class Param:
    name: str
    value: float
    unit: str
    source: str
    evidence: Evidence
    note: str = ""


@dataclass(frozen=True)
class Iiv:
    """Inter-individual variability on one parameter.

    ``omega2`` is the variance of the random effect: on the log scale for
    ``lognormal`` (omega2 = ln(1 + CV^2)), on the logit scale for ``logit``.
    """

    param: str
    omega2: float
    kind: Literal["lognormal", "logit"]
    reported: str
    source: str
    evidence: Evidence
    note: str = ""


@dataclass(frozen=True)
class ModelInfo:
    id: str
    name: str
    drug: Literal["racemic ketamine", "esketamine"]
    structure: str
    citation: str
    doi: str
    evidence: Evidence
    note: str
    covariates: tuple[str, ...]
    routes: tuple[str, ...]
    params: tuple[Param, ...]
    iiv: tuple[Iiv, ...] = ()
    metabolite: str | None = None
    population: str = ""
    aliases: tuple[str, ...] = field(default=())

    def value(self, name: str) -> float:
        for p in self.params:
            if p.name == name:
                return p.value
        raise KeyError(f"model {self.id!r} has no parameter {name!r}")

    def has(self, name: str) -> bool:
        return any(p.name == name for p in self.params)


def _lognormal(cv_percent: float) -> float:
    return math.log(1.0 + (cv_percent / 100.0) ** 2)


OPENTIVA = "opentiva 0.x, opentiva/ketamine.py (github.com/opentiva/opentiva)"
KE0_NOTE = (
    "opentiva derives ke0 from an assumed time to peak effect of 1 min after a bolus; "
    "no ketamine ke0 was found in the source paper"
)

# --- racemic ketamine, IV disposition ---------------------------------------------------

DOMINO = ModelInfo(
    id="domino",
    name="Domino 1982 (three-compartment)",
    drug="racemic ketamine",
    structure="3 compartments, linear elimination from central, effect site via ke0",
    citation=(
        "Domino EF, Zsigmond EK, Domino LE et al. Plasma levels of ketamine and two of its "
        "metabolites in surgical patients using a gas chromatographic mass fragmentographic "
        "assay. Anesth Analg 1982;61:87-92. PMID 7198883"
    ),
    doi="",
    evidence="secondary",
    note=(
        "Paper not reachable; constants as carried by opentiva and identically by an "
        "independent TCI implementation (fus_anes TCI_Ketamine). Per-kg central volume."
    ),
    covariates=("weight_kg",),
    routes=("iv", "intranasal", "oral", "sublingual", "im"),
    params=(
        Param("V1", 0.063, "L/kg", OPENTIVA, "secondary"),
        Param("k10", 0.4381, "1/min", OPENTIVA, "secondary"),
        Param("k12", 0.5921, "1/min", OPENTIVA, "secondary"),
        Param("k13", 0.5900, "1/min", OPENTIVA, "secondary"),
        Param("k21", 0.2470, "1/min", OPENTIVA, "secondary"),
        Param("k31", 0.0146, "1/min", OPENTIVA, "secondary"),
        Param("ke0", 0.652, "1/min", OPENTIVA, "convention", KE0_NOTE),
    ),
    population="surgical patients (adults)",
)

CLEMENTS = ModelInfo(
    id="clements",
    name="Clements 1981 (two-compartment, 250 ug/kg bolus data)",
    drug="racemic ketamine",
    structure="2 compartments, linear elimination from central, effect site via ke0",
    citation=(
        "Clements JA, Nimmo WS. Pharmacokinetics and analgesic effect of ketamine in man. "
        "Br J Anaesth 1981;53:27-30. PMID 7459184"
    ),
    doi="10.1093/bja/53.1.27",
    evidence="secondary",
    note="Paper not reachable; constants as carried by opentiva (Clements250).",
    covariates=("weight_kg",),
    routes=("iv", "intranasal", "oral", "sublingual", "im"),
    params=(
        Param("V1", 1.7522, "L/kg", OPENTIVA, "secondary"),
        Param("k10", 0.0109, "1/min", OPENTIVA, "secondary"),
        Param("k12", 0.0186, "1/min", OPENTIVA, "secondary"),
        Param("k21", 0.0137, "1/min", OPENTIVA, "secondary"),
        Param("ke0", 5.2, "1/min", OPENTIVA, "convention", KE0_NOTE),
    ),
    population="healthy adult volunteers",
)

HIJAZI_ABSTRACT = "Hijazi et al. Br J Anaesth 2003;90:155-60, abstract"
HIJAZI = ModelInfo(
    id="hijazi",
    name="Hijazi 2003 (two-compartment, intensive care patients)",
    drug="racemic ketamine",
    structure="2 compartments, linear elimination from central, effect site via ke0",
    citation=(
        "Hijazi Y, Bodonian C, Bolon M, Salord F, Boulieu R. Pharmacokinetics and "
        "haemodynamics of ketamine in intensive care patients with brain or spinal cord "
        "injury. Br J Anaesth 2003;90:155-60. PMID 12538370"
    ),
    doi="10.1093/bja/aeg028",
    evidence="secondary",
    note=(
        "Micro-constants as carried by opentiva; their clearance V1*k10 = 36.0 mL/min/kg "
        "equals the abstract's total clearance 36.0 (SD 13.3) mL/min/kg (confirmed). "
        "opentiva limits the model to age <= 18; the abstract does not say the patients "
        "were children, so no age limit is applied here."
    ),
    covariates=("weight_kg",),
    routes=("iv", "intranasal", "oral", "sublingual", "im"),
    params=(
        Param("V1", 1.08, "L/kg", OPENTIVA, "secondary"),
        Param("k10", 0.0333, "1/min", OPENTIVA, "secondary", "V1*k10 matches abstract CL"),
        Param("k12", 0.0088, "1/min", OPENTIVA, "secondary"),
        Param("k21", 0.0030, "1/min", OPENTIVA, "secondary"),
        Param("ke0", 4.773, "1/min", OPENTIVA, "convention", KE0_NOTE),
    ),
    iiv=(
        Iiv(
            "CL",
            _lognormal(100 * 13.3 / 36.0),
            "lognormal",
            "total clearance 36.0 (SD 13.3) mL/min/kg, CV 37%",
            HIJAZI_ABSTRACT,
            "confirmed",
            "between-subject SD of a two-stage analysis used as log-normal IIV on k10",
        ),
        Iiv(
            "V",
            _lognormal(100 * 8.6 / 16.0),
            "lognormal",
            "V(beta) 16.0 (SD 8.6) L/kg, CV 54%",
            HIJAZI_ABSTRACT,
            "confirmed",
            "applied to V1 and V2 together (k12, k21 unchanged); clearance unchanged",
        ),
    ),
    population="12 intensive care patients with brain or spinal cord injury",
)

KAMP_ABSTRACT = "Kamp et al. Anesthesiology 2020;133:1192-1213, abstract"
KAMP = ModelInfo(
    id="kamp",
    name="Kamp 2020 meta-analysis (weighted-mean one-compartment)",
    drug="racemic ketamine",
    structure="1 compartment, linear elimination",
    citation=(
        "Kamp J, Olofsen E, Henthorn TK, van Velzen M, Niesters M, Dahan A. Ketamine "
        "pharmacokinetics: a systematic review of the literature, meta-analysis, and "
        "population analysis. Anesthesiology 2020;133:1192-1213"
    ),
    doi="10.1097/ALN.0000000000003577",
    evidence="confirmed",
    note=(
        "Weighted mean volume and clearance from the meta-analysis of 18 studies "
        "(abstract). The paper's raw-data population model (arterial central compartment, "
        "two peripheral and two venous delay compartments) and its inter-individual "
        "variability could not be read, so they are not implemented; the meta-analysis "
        "gives 95% confidence intervals of the means (V 200-304 L, CL 69-90 L/h), which are "
        "not inter-individual variability. No ke0 is published."
    ),
    covariates=("weight_kg",),
    routes=("iv", "intranasal", "oral", "sublingual", "im"),
    params=(
        Param("V", 252.0, "L/70 kg", KAMP_ABSTRACT, "confirmed", "scaled linearly to weight"),
        Param(
            "CL",
            79.0,
            "L/h at 70 kg",
            KAMP_ABSTRACT,
            "confirmed",
            "scaled by (weight/70)^0.75: allometric convention, exponent not confirmed",
        ),
    ),
    population="18 studies: healthy adults, adult patients, children",
    aliases=("kamp2020",),
)

# --- esketamine, intranasal / IV / oral ----------------------------------------------

PR_TABLE3 = (
    "Perez-Ruixo et al. Clin Pharmacokinet 2021;60:501-516, Table 3, as encoded with "
    "source comments in nlmixr2lib PerezRuixo_2020_esketamine.R"
)
PR_ABSTRACT = "Perez-Ruixo et al. Clin Pharmacokinet 2021;60:501-516, abstract"
ESKETAMINE = ModelInfo(
    id="esketamine_perez_ruixo",
    name="Perez-Ruixo 2021 esketamine nasal spray population model",
    drug="esketamine",
    structure=(
        "esketamine: 3 compartments plus a hepato-portal compartment (well-stirred "
        "first pass); noresketamine: 2 apparent compartments; intranasal dose split into a "
        "nasal first-order path and a swallowed zero-then-first-order path"
    ),
    citation=(
        "Perez-Ruixo C, Rossenu S, Zannikos P, Nandy P, Singh J, Drevets WC, Perez-Ruixo "
        "JJ. Population pharmacokinetics of esketamine nasal spray and its metabolite "
        "noresketamine in healthy subjects and patients with treatment-resistant "
        "depression. Clin Pharmacokinet 2021;60:501-516"
    ),
    doi="10.1007/s40262-020-00953-4",
    evidence="secondary",
    note=(
        "Table 3 read through nlmixr2lib's annotated encoding; cross-checked against the "
        "abstract: Vc+Vp1+Vp2 = 752 L (abstract Vss 752 L), swallowed fraction reaching "
        "circulation Fgut*(1-E) = 17.8% (abstract 18.6%), absolute intranasal "
        "bioavailability 54% at 56 mg and 51% at 84 mg (abstract: 54 and 51%). Clearance "
        "implied by the well-stirred liver is 109 L/h (abstract 114 L/h). IIV on kmet is "
        "named in the paper but its value is blank in Table 3, so none is applied. "
        "Noresketamine volumes are apparent (V/F); concentrations follow the paper."
    ),
    covariates=("age", "asian", "japanese"),
    routes=("iv", "intranasal", "oral"),
    metabolite="noresketamine",
    params=(
        Param("FRn", 0.54, "fraction", PR_ABSTRACT, "confirmed", "per 28 mg nasal spray"),
        Param("dose_on_FRn", 0.62, "factor", PR_TABLE3, "secondary", "subsequent sprays"),
        Param("japanese_on_FRn", 1.34, "factor", PR_TABLE3, "secondary"),
        Param("ka_n", 2.93, "1/h", PR_TABLE3, "secondary", "table prints L/h (typo)"),
        Param("Dsw", 0.53, "h", PR_TABLE3, "secondary", "zero-order, swallowed part"),
        Param("ka_sw", 1.45, "1/h", PR_TABLE3, "secondary"),
        Param("Dpo", 0.32, "h", PR_TABLE3, "secondary", "zero-order, oral solution"),
        Param("ka_po", 0.97, "1/h", PR_TABLE3, "secondary"),
        Param("Fgut", 0.64, "fraction", PR_TABLE3, "secondary"),
        Param("Vc", 192.0, "L", PR_TABLE3, "secondary"),
        Param("Q1", 84.3, "L/h", PR_TABLE3, "secondary"),
        Param("Vp1", 143.0, "L", PR_TABLE3, "secondary"),
        Param("Q2", 37.6, "L/h", PR_TABLE3, "secondary"),
        Param("Vp2", 417.0, "L", PR_TABLE3, "secondary"),
        Param("Qh", 151.0, "L/h", PR_TABLE3, "secondary"),
        Param("age_on_Qh", 2.19, "L/h per year over 60", PR_TABLE3, "secondary"),
        Param("Vh", 101.0, "L", PR_TABLE3, "secondary"),
        Param("kel", 1.11, "1/h", PR_TABLE3, "secondary"),
        Param("asian_on_kel", 0.36, "factor", PR_TABLE3, "secondary"),
        Param("kmet", 2.77, "1/h", PR_TABLE3, "secondary"),
        Param("Vcn", 70.0, "L (apparent)", PR_TABLE3, "secondary"),
        Param("CLn", 38.0, "L/h (apparent)", PR_ABSTRACT, "confirmed"),
        Param("asian_on_CLn", 0.81, "factor", PR_TABLE3, "secondary"),
        Param("Vpn", 115.0, "L (apparent)", PR_TABLE3, "secondary"),
        Param("Q3", 26.1, "L/h (apparent)", PR_TABLE3, "secondary"),
    ),
    iiv=(
        Iiv("FRn", 0.708**2, "logit", "70.8 (additive on logit)", PR_TABLE3, "secondary"),
        Iiv("ka_n", _lognormal(61.5), "lognormal", "CV 61.5%", PR_TABLE3, "secondary"),
        Iiv("ka_sw", _lognormal(132), "lognormal", "CV 132%", PR_TABLE3, "secondary"),
        Iiv("ka_po", _lognormal(132), "lognormal", "CV 132%", PR_TABLE3, "secondary"),
        Iiv("Vc", _lognormal(27.5), "lognormal", "CV 27.5%", PR_TABLE3, "secondary"),
        Iiv("Vp1", _lognormal(49.3), "lognormal", "CV 49.3%", PR_TABLE3, "secondary"),
        Iiv("Qh", _lognormal(23.2), "lognormal", "CV 23.2%", PR_TABLE3, "secondary"),
        Iiv("Vh", _lognormal(34.6), "lognormal", "CV 34.6%", PR_TABLE3, "secondary"),
        Iiv("kel", _lognormal(120), "lognormal", "CV 120%", PR_TABLE3, "secondary"),
        Iiv("Vcn", _lognormal(31.6), "lognormal", "CV 31.6%", PR_TABLE3, "secondary"),
        Iiv("CLn", _lognormal(25.4), "lognormal", "CV 25.4%", PR_TABLE3, "secondary"),
    ),
    population="820 healthy subjects and TRD patients, 18-86 years, 39-170 kg",
    aliases=("esketamine", "perez_ruixo", "perez-ruixo"),
)

# --- first-order absorption for racemic ketamine by route ------------------------------


@dataclass(frozen=True)
class Absorption:
    route: str
    bioavailability: Param
    tmax_min: Param
    ka_per_min: Param


def _ka_from_tmax(tmax_min: float) -> float:
    """Absorption rate giving this time of peak in the Kamp one-compartment typical patient.

    tmax = ln(ka/k)/(ka-k) for a one-compartment model with first-order absorption; no
    published ka was found for any of these routes, the published Tmax is.
    """
    k = KAMP.value("CL") / KAMP.value("V") / 60.0

    def gap(ka: float) -> float:
        return math.log(ka / k) / (ka - k) - tmax_min

    return float(brentq(gap, k * 1.0001, 100.0))


def _absorption(route: str, f: Param, tmax: Param) -> Absorption:
    ka = _ka_from_tmax(tmax.value)
    derived = Param(
        "ka",
        ka,
        "1/min",
        f"derived from Tmax {tmax.value:g} min ({tmax.source})",
        "convention",
        "no published ka found; chosen so that the Kamp 2020 one-compartment typical "
        "patient peaks at the published Tmax",
    )
    return Absorption(route, f, tmax, derived)


YANAGIHARA = "Yanagihara et al. Biopharm Drug Dispos 2003;24:37-43, abstract"
ABSORPTION: dict[str, Absorption] = {
    a.route: a
    for a in (
        _absorption(
            "intranasal",
            Param(
                "F",
                0.45,
                "fraction",
                YANAGIHARA,
                "confirmed",
                "3 volunteers; later work reports 11-17% (Pharmacotherapy 2022;42:298, "
                "PMC9118341) and 25-50% in reviews: the highest common value is kept so "
                "that 'clear-headed by' estimates err late",
            ),
            Param(
                "Tmax",
                15.0,
                "min",
                "Pharmacotherapy 2022;42:298 Table 6 (PMC9118341): 14-16 min at 30-50 mg",
                "confirmed",
            ),
        ),
        _absorption(
            "oral",
            Param("F", 0.20, "fraction", YANAGIHARA, "confirmed", "Chong 2006: 23 (SD 9)%"),
            Param(
                "Tmax",
                58.0,
                "min",
                "Chong et al. Pain Med 2006;7:469 (abstract): 0.96 (SD 0.8) h",
                "secondary",
            ),
        ),
        _absorption(
            "sublingual",
            Param(
                "F",
                0.29,
                "fraction",
                "Rolan et al. Br J Clin Pharmacol 2014;77:1011 (abstract), median",
                "confirmed",
            ),
            Param(
                "Tmax",
                45.0,
                "min",
                "Rolan et al. 2014 (abstract): median 0.75 h (0.25-1.0)",
                "confirmed",
            ),
        ),
        _absorption(
            "im",
            Param(
                "F",
                0.93,
                "fraction",
                "Clements et al. J Pharm Sci 1982;71:539, as cited in reviews",
                "secondary",
            ),
            Param(
                "Tmax",
                20.0,
                "min",
                "review summaries ('peak about 20 min after i.m. injection'); others say 5-15 min",
                "secondary",
            ),
        ),
    )
}

# --- NMDA receptor affinity --------------------------------------------------------------

NMDA_KI_UM: dict[str, Param] = {
    "esketamine": Param(
        "Ki",
        0.30,
        "uM",
        "Ebert B et al. Eur J Pharmacol 1997;333:99-104 ([3H]MK-801 site), as reproduced "
        "in summaries; the 4-5 fold S/R ratio is confirmed in several reviews",
        "secondary",
    ),
    "arketamine": Param("Ki", 1.4, "uM", "Ebert B et al. 1997, as above", "secondary"),
}


def racemic_ki_um() -> float:
    """Apparent Ki of a 1:1 mixture of two competing ligands at one site.

    Occupancy = sum(C_i/Ki_i) / (1 + sum(C_i/Ki_i)) with C_S = C_R = C/2, which is
    C/(C + Ki_app) with Ki_app = 1 / (0.5/Ki_S + 0.5/Ki_R).
    """
    s = NMDA_KI_UM["esketamine"].value
    r = NMDA_KI_UM["arketamine"].value
    return 1.0 / (0.5 / s + 0.5 / r)


TABLE: tuple[ModelInfo, ...] = (DOMINO, CLEMENTS, HIJAZI, KAMP, ESKETAMINE)


def models() -> tuple[ModelInfo, ...]:
    """Every declared model, with its parameters, sources and evidence marks."""
    return TABLE


def get_model(model_id: str) -> ModelInfo:
    key = model_id.strip().lower()
    for m in TABLE:
        if key == m.id or key in m.aliases:
            return m
    known = ", ".join(m.id for m in TABLE)
    raise KeyError(f"unknown pharmacokinetic model {model_id!r}; known: {known}")
