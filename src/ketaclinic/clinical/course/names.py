"""Medication names: brand names and other spellings mapped to generic names, and the
normalisation applied before matching. Names only: no clinical claim lives here.
"""

from __future__ import annotations

import re

# Common brand names -> generic names. Combination products map to every component;
# a component with no interaction row (naloxone in Suboxone) is reported as unknown.
BRANDS: dict[str, tuple[str, ...]] = {
    "xanax": ("alprazolam",), "ativan": ("lorazepam",), "klonopin": ("clonazepam",),
    "rivotril": ("clonazepam",), "valium": ("diazepam",), "restoril": ("temazepam",),
    "halcion": ("triazolam",), "librium": ("chlordiazepoxide",), "onfi": ("clobazam",),
    "tranxene": ("clorazepate",),
    "ambien": ("zolpidem",), "lunesta": ("eszopiclone",), "sonata": ("zaleplon",),
    "imovane": ("zopiclone",),
    "oxycontin": ("oxycodone",), "percocet": ("oxycodone",), "roxicodone": ("oxycodone",),
    "vicodin": ("hydrocodone",), "norco": ("hydrocodone",), "dilaudid": ("hydromorphone",),
    "ultram": ("tramadol",), "nucynta": ("tapentadol",), "duragesic": ("fentanyl",),
    "suboxone": ("buprenorphine", "naloxone"), "subutex": ("buprenorphine",),
    "zubsolv": ("buprenorphine", "naloxone"), "sublocade": ("buprenorphine",),
    "butrans": ("buprenorphine",), "dolophine": ("methadone",), "ms contin": ("morphine",),
    "nardil": ("phenelzine",), "parnate": ("tranylcypromine",), "marplan": ("isocarboxazid",),
    "emsam": ("selegiline",), "eldepryl": ("selegiline",), "zelapar": ("selegiline",),
    "azilect": ("rasagiline",), "manerix": ("moclobemide",),
    "adderall": ("amphetamine",), "evekeo": ("amphetamine",),
    "dexedrine": ("dextroamphetamine",), "vyvanse": ("lisdexamfetamine",),
    "ritalin": ("methylphenidate",), "concerta": ("methylphenidate",),
    "focalin": ("dexmethylphenidate",), "provigil": ("modafinil",), "nuvigil": ("armodafinil",),
    "revia": ("naltrexone",), "vivitrol": ("naltrexone",),
    "contrave": ("naltrexone", "bupropion"),
    "lamictal": ("lamotrigine",), "namenda": ("memantine",), "ebixa": ("memantine",),
    "namzaric": ("memantine", "donepezil"), "auvelity": ("dextromethorphan", "bupropion"),
    "nuedexta": ("dextromethorphan",), "gocovri": ("amantadine",),
    "biaxin": ("clarithromycin",), "sporanox": ("itraconazole",), "rifadin": ("rifampicin",),
    "tegretol": ("carbamazepine",), "dilantin": ("phenytoin",), "sustiva": ("efavirenz",),
    "zestril": ("lisinopril",), "prinivil": ("lisinopril",), "vasotec": ("enalapril",),
    "altace": ("ramipril",), "cozaar": ("losartan",), "diovan": ("valsartan",),
    "benicar": ("olmesartan",), "norvasc": ("amlodipine",), "lopressor": ("metoprolol",),
    "toprol": ("metoprolol",), "tenormin": ("atenolol",), "inderal": ("propranolol",),
    "coreg": ("carvedilol",), "catapres": ("clonidine",), "minipress": ("prazosin",),
    "cardizem": ("diltiazem",),
    "zoloft": ("sertraline",), "prozac": ("fluoxetine",), "paxil": ("paroxetine",),
    "celexa": ("citalopram",), "lexapro": ("escitalopram",), "luvox": ("fluvoxamine",),
    "effexor": ("venlafaxine",), "pristiq": ("desvenlafaxine",), "cymbalta": ("duloxetine",),
    "fetzima": ("levomilnacipran",), "wellbutrin": ("bupropion",), "zyban": ("bupropion",),
    "remeron": ("mirtazapine",), "desyrel": ("trazodone",), "trintellix": ("vortioxetine",),
    "viibryd": ("vilazodone",), "elavil": ("amitriptyline",), "pamelor": ("nortriptyline",),
    "anafranil": ("clomipramine",),
    "lithobid": ("lithium",), "depakote": ("divalproex",), "depakene": ("valproic acid",),
    "uniphyl": ("theophylline",), "elixophyllin": ("theophylline",),
    "sudafed": ("pseudoephedrine",), "afrin": ("oxymetazoline",), "otrivin": ("xylometazoline",),
    "synthroid": ("levothyroxine",), "levoxyl": ("levothyroxine",),
    "eltroxin": ("levothyroxine",), "cytomel": ("liothyronine",),
    "armour thyroid": ("thyroid desiccated",),
    "vasostrict": ("vasopressin",), "methergine": ("methylergometrine",),
    "zyvox": ("linezolid",), "provayblue": ("methylene blue",),
    "neurontin": ("gabapentin",), "gralise": ("gabapentin",),
    "horizant": ("gabapentin enacarbil",), "lyrica": ("pregabalin",),
}  # fmt: skip

# Other spellings of generic names (international names, salts written as words).
ALIASES: dict[str, str] = {
    "rifampin": "rifampicin",
    "amfetamine": "amphetamine",
    "dexamfetamine": "dextroamphetamine",
    "lisdexamphetamine": "lisdexamfetamine",
    "lithium carbonate": "lithium",
    "sodium valproate": "valproate",
    "ethyl alcohol": "ethanol",
    "st johns wort": "st john s wort",
    "saint john s wort": "st john s wort",
    "saint johns wort": "st john s wort",
    "hypericum": "st john s wort",
    "hypericum perforatum": "st john s wort",
    "ergonovine": "ergometrine",
    "methylergonovine": "methylergometrine",
    "methylthioninium chloride": "methylene blue",
    "levothyroxine sodium": "levothyroxine",
}

_FORM_WORDS = frozenset(
    [
        "xr",
        "er",
        "sr",
        "xl",
        "cr",
        "la",
        "ir",
        "cd",
        "dr",
        "odt",
        "mr",
        "hcl",
        "hydrochloride",
        "sulfate",
        "sulphate",
        "tartrate",
        "succinate",
        "mesylate",
        "besylate",
        "maleate",
        "tablet",
        "tablets",
        "tab",
        "tabs",
        "capsule",
        "capsules",
        "cap",
        "oral",
        "extended",
        "release",
        "solution",
        "patch",
        "injection",
        "depot",
        "mg",
        "mcg",
        "ml",
        "daily",
        "prn",
    ]  # noqa: SIM905
)


def normalise(name: str) -> str:
    """Lower case, without strengths, brackets, punctuation or formulation words."""
    text = re.sub(r"\(.*?\)", " ", name.lower())
    text = re.sub(r"[^a-z0-9/+ -]", " ", text)
    words = [w for w in text.split() if w not in _FORM_WORDS and not re.search(r"\d", w)]
    return " ".join(words).strip(" -")
