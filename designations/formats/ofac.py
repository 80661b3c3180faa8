"""The US OFAC lists: the legacy CSV set and the SDN XML schema.

CSV set: a folder with the main file (sdn.csv, or cons_prim.csv for the consolidated non-SDN
list), its addresses (add.csv / cons_add.csv), its aliases (alt.csv / cons_alt.csv) and,
optionally, the continuation of remarks longer than the main file's 1,000-character field
(sdn_comments.csv / cons_comments.csv). No header row; "-0-" (often "-0- ") means empty; files
end with a DOS end-of-file byte (0x1A). Every file is in ascending ent_num order, so the side
files are merged with the main file as streams: memory stays bounded whatever the list's size.
The set carries no publication date, so `header.generated_at` is None and the importer is told
the date.

Most of an entry's data sits in its free-text Remarks ("DOB 12 Jan 1960; POB Baghdad, Iraq;
Passport A1234567 (Iran)"). Each part is matched against the keys OFAC uses; a part that fits
no key is kept in details["remarks_unparsed"], and the full remarks in details["remarks"].

XML: the SDN XML schema (root `sdnList` in a default namespace that has changed over the years;
read namespace-blind), streamed through defusedxml like the UN list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element

from designations.formats import (
    ListFormatError,
    ListHeader,
    ParsedEntry,
    identifier_item,
    name_item,
    xml_events,
)

# OFAC programme tags -> (name, legal basis). Tags not listed keep the tag as their name.
REGIMES = {
    "SDGT": ("Specially Designated Global Terrorists", "Executive Order 13224"),
    "SDNT": ("Specially Designated Narcotics Traffickers", "Executive Order 12978"),
    "SDNTK": (
        "Foreign Narcotics Kingpins",
        "Foreign Narcotics Kingpin Designation Act (21 U.S.C. 1901-1908)",
    ),
    "FTO": ("Foreign Terrorist Organizations", "Immigration and Nationality Act, section 219"),
    "NPWMD": ("Non-proliferation of weapons of mass destruction", "Executive Order 13382"),
    "IFSR": ("Iranian Financial Sanctions Regulations", "31 CFR part 561"),
    "IRAN": ("Iranian Transactions and Sanctions Regulations", "31 CFR part 560"),
    "IRAN-HR": ("Iran human rights abuses", "Executive Order 13553"),
    "IRAN-TRA": ("Iran Threat Reduction", "Executive Order 13628"),
    "IRAN-EO13846": ("Iran", "Executive Order 13846"),
    "IRAN-EO13871": ("Iran (metals sectors)", "Executive Order 13871"),
    "IRAN-EO13876": ("Iran (Supreme Leader's office)", "Executive Order 13876"),
    "IRAN-EO13902": ("Iran (economic sectors)", "Executive Order 13902"),
    "IRAN-CON-ARMS-EO": ("Iran conventional arms", "Executive Order 13949"),
    "IFCA": (
        "Iran Freedom and Counter-Proliferation Act",
        "Iran Freedom and Counter-Proliferation Act of 2012",
    ),
    "ISA": ("Iran Sanctions Act", "Iran Sanctions Act of 1996"),
    "CAATSA - IRAN": (
        "CAATSA (Iran)",
        "Countering America's Adversaries Through Sanctions Act (Public Law 115-44), title I",
    ),
    "CAATSA - RUSSIA": (
        "CAATSA (Russia)",
        "Countering America's Adversaries Through Sanctions Act (Public Law 115-44), title II",
    ),
    "HRIT-IR": ("Human rights abuses via information technology (Iran)", "Executive Order 13606"),
    "HRIT-SY": ("Human rights abuses via information technology (Syria)", "Executive Order 13606"),
    "FSE-IR": ("Foreign Sanctions Evaders (Iran)", "Executive Order 13608"),
    "FSE-SY": ("Foreign Sanctions Evaders (Syria)", "Executive Order 13608"),
    "SYRIA": ("Syria", "Syrian Sanctions Regulations, 31 CFR part 542"),
    "SYRIA-EO13894": ("Syria (Turkey operations)", "Executive Order 13894"),
    "SYRIA-CAESAR": (
        "Caesar Syria Civilian Protection Act",
        "Caesar Syria Civilian Protection Act of 2019",
    ),
    "IRAQ2": ("Iraq (former regime)", "Executive Order 13315"),
    "IRAQ3": ("Iraq (threats to stability)", "Executive Order 13438"),
    "GLOMAG": ("Global Magnitsky", "Executive Order 13818"),
    "MAGNIT": ("Sergei Magnitsky Act", "Sergei Magnitsky Rule of Law Accountability Act of 2012"),
    "CYBER2": ("Cyber-related", "Executive Order 13694, as amended by Executive Order 13757"),
    "ELECTION-EO13848": ("Foreign interference in US elections", "Executive Order 13848"),
    "UKRAINE-EO13660": ("Ukraine", "Executive Order 13660"),
    "UKRAINE-EO13661": ("Ukraine", "Executive Order 13661"),
    "UKRAINE-EO13662": ("Ukraine (sectoral sanctions)", "Executive Order 13662"),
    "UKRAINE-EO13685": ("Ukraine (Crimea)", "Executive Order 13685"),
    "RUSSIA-EO14024": ("Russia (harmful foreign activities)", "Executive Order 14024"),
    "PEESA": (
        "Protecting Europe's Energy Security Act",
        "Protecting Europe's Energy Security Act of 2019",
    ),
    "BELARUS": ("Belarus", "Executive Order 13405"),
    "BALKANS": ("Western Balkans", "Executive Order 13219"),
    "DPRK": ("North Korea", "Executive Order 13551"),
    "DPRK2": ("North Korea", "Executive Order 13687"),
    "DPRK3": ("North Korea", "Executive Order 13722"),
    "DPRK4": ("North Korea", "Executive Order 13810"),
    "DPRK-NKSPEA": (
        "North Korea Sanctions and Policy Enhancement Act",
        "North Korea Sanctions and Policy Enhancement Act of 2016",
    ),
    "VENEZUELA": ("Venezuela", "Executive Order 13692"),
    "VENEZUELA-EO13850": ("Venezuela", "Executive Order 13850"),
    "VENEZUELA-EO13884": ("Venezuela (Government of Venezuela)", "Executive Order 13884"),
    "NICARAGUA": ("Nicaragua", "Executive Order 13851"),
    "NICARAGUA-NHRAA": (
        "Nicaragua Human Rights and Anticorruption Act",
        "Nicaragua Human Rights and Anticorruption Act of 2018",
    ),
    "CUBA": ("Cuba", "Cuban Assets Control Regulations, 31 CFR part 515"),
    "TCO": ("Transnational Criminal Organizations", "Executive Order 13581"),
    "ZIMBABWE": ("Zimbabwe", "Executive Order 13288"),
    "DRCONGO": ("Democratic Republic of the Congo", "Executive Order 13413"),
    "LIBYA2": ("Libya", "Executive Order 13566"),
    "LIBYA3": ("Libya", "Executive Order 13726"),
    "BURMA-EO14014": ("Burma", "Executive Order 14014"),
    "HK-EO13936": ("Hong Kong normalization", "Executive Order 13936"),
    "CAR": ("Central African Republic", "Executive Order 13667"),
    "SOMALIA": ("Somalia", "Executive Order 13536"),
    "SOUTH SUDAN": ("South Sudan", "Executive Order 13664"),
    "BURUNDI": ("Burundi", "Executive Order 13712"),
    "YEMEN": ("Yemen", "Executive Order 13611"),
    "DARFUR": ("Darfur", "Executive Order 13400"),
    "MALI-EO13882": ("Mali", "Executive Order 13882"),
    "LEBANON": ("Lebanon", "Executive Order 13441"),
    "HIFPAA": (
        "Hizballah International Financing Prevention Amendments Act",
        "Hizballah International Financing Prevention Amendments Act of 2018",
    ),
    "CMIC-EO13959": (
        "Chinese Military-Industrial Complex companies",
        "Executive Order 13959, as amended by Executive Order 14032",
    ),
    "ILLICIT-DRUGS-EO14059": ("Illicit drug trade", "Executive Order 14059"),
    "NS-PLC": ("Non-SDN Palestinian Legislative Council list", ""),
    "561-Related": ("CAPTA list (Iranian Financial Sanctions Regulations)", "31 CFR part 561"),
}

EMPTY = "-0-"
EOF_MARKER = "\x1a"  # DOS end-of-file byte after the last row
# The legacy CSV files are plain ASCII as published; cp1252 (their Windows origin) reads them
# and any Latin-1 byte a later file might carry, and fails loudly on a UTF-8 file it cannot map.
CSV_ENCODING = "cp1252"

MAIN_COLUMNS = (
    "ent_num",
    "name",
    "type",
    "programs",
    "title",
    "call_sign",
    "vessel_type",
    "tonnage",
    "gross_registered_tonnage",
    "vessel_flag",
    "vessel_owner",
    "remarks",
)
ADDRESS_COLUMNS = ("ent_num", "add_num", "address", "city", "country", "remarks")
ALIAS_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "remarks")
COMMENT_COLUMNS = ("ent_num", "remarks")

# The file names of each CSV set: main file -> (addresses, aliases, remarks continuation).
CSV_SETS = {
    "sdn.csv": ("add.csv", "alt.csv", "sdn_comments.csv"),
    "cons_prim.csv": ("cons_add.csv", "cons_alt.csv", "cons_comments.csv"),
}

SUBJECT_KINDS = {
    "individual": "person",
    "entity": "organisation",
    "": "organisation",  # the CSV writes -0- for an entity
    "vessel": "vessel",
    "aircraft": "aircraft",
}

ALIAS_TYPES = {
    # alt_type / aka type -> (name kind, note)
    "aka": ("alias", ""),
    "a.k.a.": ("alias", ""),
    "fka": ("former", ""),
    "f.k.a.": ("former", ""),
    # "now known as" is the subject's current other name, not a former one.
    "nka": ("alias", "n.k.a."),
    "n.k.a.": ("alias", "n.k.a."),
}
AKA_QUALITY = {"strong": "good", "weak": "low", "": ""}

# Identifier labels as OFAC writes them (in remarks and as XML idType) -> identifier kind.
# Longer labels first when one starts another ("Passport" / "Passport No.").
IDENTIFIER_LABELS = {
    "Vessel Registration Identification": "imo",
    "IMO": "imo",
    "Passport": "passport",
    "Diplomatic Passport": "passport",
    "National ID No.": "national_id",
    "Cedula No.": "national_id",
    "C.U.R.P.": "national_id",
    "CURP #": "national_id",
    "D.N.I.": "national_id",
    "Identification Number": "national_id",
    "Personal ID Card": "national_id",
    "National Foreign ID Number": "national_id",
    "SSN": "national_id",
    "Citizen's Card Number": "national_id",
    "Kenyan ID No.": "national_id",
    "Bosnian Personal ID No.": "national_id",
    "NIE": "national_id",
    "Residency Number": "national_id",
    "Tax ID No.": "tax",
    "NIT #": "tax",
    "RUC #": "tax",
    "RIF #": "tax",
    "R.F.C.": "tax",
    "RFC": "tax",
    "V.A.T. Number": "tax",
    "CUIT": "tax",
    "Tax Identification Number": "tax",
    "SWIFT/BIC": "bic",
    "Registration ID": "registration",
    "Registration Number": "registration",
    "Public Registration Number": "registration",
    "Business Registration Number": "registration",
    "Business Registration Document #": "registration",
    "Company Number": "registration",
    "Commercial Registry Number": "registration",
    "Folio Mercantil No.": "registration",
    "Matricula Mercantil No": "registration",
    "C.R. No.": "registration",
    "Trade License No.": "registration",
    "Legal Entity Number": "registration",
    "Unified Social Credit Code (USCC)": "registration",
    "Government Gazette Number": "registration",
    "Chamber of Commerce Number": "registration",
    "Certificate of Incorporation Number": "registration",
    "Aircraft Tail Number": "registration",
    "Digital Currency Address": "digital_currency",
    "MMSI": "other",
    "ISIN": "other",
    "D-U-N-S Number": "other",
    "BIK (RU)": "other",
    "Aircraft Manufacturer's Serial Number (MSN)": "other",
    "Aircraft Construction Number (also called L/N or S/N or F/N)": "other",
    "Aircraft Mode S Transponder Code": "other",
    "Driver's License No.": "other",
    "Birth Certificate Number": "other",
    "Electoral Registry No.": "other",
    "License": "other",
    "UK Company Number": "registration",
    "US FEIN": "tax",
    "C.U.I.T.": "tax",
    "LE Number": "registration",
    "Cartilla de Servicio Militar Nacional": "other",
    "Branch Unit Number": "registration",
    "Registered Charity No.": "registration",
    "Turkish Identification Number": "national_id",
    "Numero de Identidad": "national_id",
    "RTN": "tax",
    "United Social Credit Code Certificate (USCCC)": "registration",
    "Credencial electoral": "national_id",
    "I.F.E.": "national_id",
    "Travel Document Number": "other",
    "Dubai Chamber of Commerce Membership No.": "registration",
    "Enterprise Number": "registration",
    "Business Number": "registration",
    "File Number": "other",
    "C.U.I.": "national_id",
    "Chinese Commercial Code": "other",
    "VisaNumberID": "other",
    "Aircraft Serial Identification": "other",
    "Immigration No.": "other",
    "Numero Unico de Identificacao Tributaria (NUIT)": "tax",
    "C.I.F.": "tax",
    "Afghan Money Service Provider License Number": "registration",
    "Tazkira National ID Card": "national_id",
    "Moroccan Personal ID No.": "national_id",
    "British National Overseas Passport": "passport",
    "Italian Fiscal Code": "tax",
    "Public Security and Immigration No.": "other",
    "Serial No.": "other",
}

# Labels of facts that are neither identifiers nor fields of the data format: kept in
# details["information"] as {"type": label, "value": text}.
INFORMATION_LABELS = (
    "Additional Sanctions Information -",
    "Secondary sanctions risk:",
    "Transactions Prohibited For Persons Owned or Controlled By U.S. Financial Institutions:",
    "Executive Order 13662 Directive Determination -",
    "Executive Order 13846 information:",
    "Executive Order 14024 Directive Information -",
    "Executive Order 14024 Directive Information",
    "Executive Order 14014 Directive Information:",
    "For more information on directives, please visit the following link:",
    "For more information, please reference the following link:",
    "Executive Order 14059 information:",
    "CAATSA Section 235 Information:",
    "Organization Established Date",
    "Organization Type:",
    "Target Type",
    "Issuer Name",
    "Equity Ticker",
    "Listing Date (CMIC)",
    "Effective Date (CMIC)",
    "Purchase/Sales For Divestment Date (CMIC)",
    "Listing Date",
    "Effective Date",
    "Nationality of Registration",
    "Website",
    "Email Address",
    "Phone Number",
    "Telephone",
    "Fax",
    "Phone No.",
    "Phone",
    "arrested",
    "Aircraft Manufacture Date",
    "Aircraft Model",
    "Aircraft Operator",
    "Previous Aircraft Tail Number",
    "Former Vessel Flag",
    "Vessel Year of Build",
    "Other Vessel Call Sign",
    "Other Vessel Flag",
    "Other Vessel Type",
    "Vessel Flag",
    "Vessel Type",
    "Vessel Call Sign",
    "Vessel Owner",
    "Vessel Tonnage",
    "Vessel Gross Registered Tonnage",
    "Identification Type",
)

INFORMATION_TYPES = {label.rstrip(" :-") for label in INFORMATION_LABELS}

_MONTHS = {
    month: number
    for number, month in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_DAY = r"\d{1,2} [A-Z][a-z]{2} \d{4}"
_MONTH = r"[A-Z][a-z]{2} \d{4}"
_ONE_DATE = rf"(?:{_DAY}|{_MONTH}|\d{{4}})"
_DOB_EXACT = re.compile(rf"^{_ONE_DATE}$")
_DOB_CIRCA = re.compile(rf"^circa ({_ONE_DATE})$")
_DOB_RANGE = re.compile(rf"^(circa )?({_ONE_DATE}) ?(?:to|-) ?({_ONE_DATE})$")
_DAY_DATE = re.compile(r"^(\d{1,2}) ([A-Z][a-z]{2}) (\d{4})$")
_YEAR_OF = re.compile(r"(\d{4})$")

_ALT = r"(?:alt\. )?"
_LABEL_RE = re.compile(
    rf"^{_ALT}(?P<label>"
    + "|".join(re.escape(label) for label in sorted(IDENTIFIER_LABELS, key=len, reverse=True))
    + r")(?=[\s:#-])[\s:]*(?P<rest>.+)$"
)
_INFO_RE = re.compile(
    rf"^{_ALT}(?P<label>"
    + "|".join(re.escape(label) for label in sorted(INFORMATION_LABELS, key=len, reverse=True))
    + r")(?P<rest>(?:[\s:(].*)?)$",
    re.IGNORECASE,  # "PHONE", "FAX", "for more information ..." also occur
)
# "<number> (<country>) issued <date> expires <date>", each part after the number optional.
_ID_REST = re.compile(
    r"^(?P<number>.*?)(?:\s+\((?P<country>[^()]+)\))?"
    r"(?:\s+issued (?P<issued>[^()]+?))?(?:\s+expires (?P<expires>[^()]+?))?$"
)
_CURRENCY = re.compile(r"^-\s*(?P<currency>[A-Za-z0-9]+)\s+(?P<address>\S+)$")
_IMO_NUMBER = re.compile(r"^(?:IMO\s*)?(?P<number>\d+)$")

_DOB = re.compile(rf"^{_ALT}DOB (?P<value>.+)$")
_POB = re.compile(rf"^{_ALT}POB (?P<value>.+)$")
_NATIONALITY = re.compile(rf"^{_ALT}nationality (?P<value>.+)$")
_CITIZEN = re.compile(rf"^{_ALT}citizen (?P<value>.+)$")
_GENDER = re.compile(r"^Gender (?P<value>Male|Female)$")
_WEAK_ALIAS = re.compile(r"^(?P<type>a\.k\.a\.|f\.k\.a\.|n\.k\.a\.) '(?P<name>.+)'$")
# "Linked To: X" or, in the XML, "(Linked To: X)"; X may end in its own "(IRGC)".
_LINKED = re.compile(r"^(?P<open>\()?Linked To: (?P<value>.+?)(?(open)\))$")


def _clean(value: str) -> str:
    value = " ".join(value.split())
    return "" if value == EMPTY else value


def _split_remarks(remarks: str) -> list[str]:
    """The parts of a remarks text, split at "; " outside parentheses (a parenthesised note
    may hold its own "; "). OFAC ends the text with a full stop, which is not part of the last
    value (an abbreviation's own stop, "S.A.", is then indistinguishable: kept)."""
    text = remarks.strip()
    if text.endswith(".") and not re.search(r"\b[A-Z]\.[A-Z]\.$", text):
        text = text[:-1]
    parts, start, depth = [], 0, 0
    for match in re.finditer(r"[()]|;\s+", text):
        mark = match.group()
        if mark == "(":
            depth += 1
        elif mark == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append(text[start : match.start()])
            start = match.end()
    parts.append(text[start:])
    if depth:
        # An unclosed parenthesis would swallow the rest of the text: split plainly.
        parts = re.split(r";\s+", text)
    return [part.strip() for part in parts if part.strip()]


def _ofac_date(value: str, *, what: str, record: str) -> str | None:
    """ISO date from "12 Jan 1960"; None for a month or a year alone."""
    match = _DAY_DATE.match(value)
    if not match:
        return None
    day, month, year = match.groups()
    try:
        return dt.date(int(year), _MONTHS[month], int(day)).isoformat()
    except (KeyError, ValueError):
        raise ListFormatError(f"{record}: {what} {value!r} is not a date") from None


def parse_birth_date(value: str, *, record: str) -> dict[str, Any]:
    """One OFAC date of birth: "12 Jan 1960", "Jan 1960", "1960", "circa 1958",
    "1955 to 1958", "12 Jan 1960 to 15 Jan 1960"."""
    value = " ".join(value.split())
    birth: dict[str, Any] = {
        "kind": "exact",
        "date": None,
        "year": None,
        "from_year": None,
        "to_year": None,
        "note": "",
    }
    if _DOB_EXACT.match(value):
        birth["date"] = _ofac_date(value, what="date of birth", record=record)
        if birth["date"] is None:
            birth["year"] = int(_YEAR_OF.search(value).group(1))
            if not value.isdigit():
                birth["note"] = value  # a month and year
        return birth
    if match := _DOB_CIRCA.match(value):
        birth["kind"] = "approximate"
        birth["date"] = _ofac_date(match.group(1), what="date of birth", record=record)
        if birth["date"] is None:
            birth["year"] = int(_YEAR_OF.search(match.group(1)).group(1))
        if not match.group(1).isdigit():
            birth["note"] = value
        return birth
    if match := _DOB_RANGE.match(value):
        circa, start, end = match.groups()
        for one in (start, end):
            _ofac_date(one, what="date of birth", record=record)  # refuses 31 Feb
        birth["kind"] = "between"
        birth["from_year"] = int(_YEAR_OF.search(start).group(1))
        birth["to_year"] = int(_YEAR_OF.search(end).group(1))
        if birth["from_year"] > birth["to_year"]:
            raise ListFormatError(f"{record}: date of birth {value!r} ends before it starts")
        if circa or not (start.isdigit() and end.isdigit()):
            birth["note"] = value
        return birth
    raise ListFormatError(f"{record}: date of birth {value!r} is not a date")


def _birth_place(value: str) -> dict[str, str]:
    """ "Culiacan, Sinaloa, Mexico": the last part is the country. A single word may be a town
    or a country ("POB Shati", "POB Egypt"): kept as written, in the note."""
    place = dict.fromkeys(
        ("street", "city", "state_province", "postal_code", "country", "note"), ""
    )
    head, comma, country = value.rpartition(",")
    if comma:
        place["city"], place["country"] = head.strip(), country.strip()
    else:
        place["note"] = value
    return place


def _name_parts(name: str, *, person: bool) -> list[str]:
    """OFAC writes a person "LAST, First": the two parts in that order. An organisation's
    commas belong to its name ("CIMEX, S.A.")."""
    if not person:
        return []
    last, comma, first = name.partition(", ")
    return [last.strip(), first.strip()] if comma and first.strip() else []


def _identifier(
    kind: str,
    *,
    type_detail: str,
    number: str,
    country: str = "",
    issued: str = "",
    expires: str = "",
    record: str,
) -> dict[str, Any]:
    identifier = identifier_item(kind, number, type_detail=type_detail, country_of_issue=country)
    notes = []
    if issued:
        identifier["issued_on"] = _ofac_date(issued, what="date of issue", record=record)
        if identifier["issued_on"] is None:
            notes.append(f"issued {issued}")
    if expires:
        _ofac_date(expires, what="expiry date", record=record)
        notes.append(f"expires {expires}")
    identifier["note"] = "; ".join(notes)
    return identifier


def identifier_from(
    label: str,
    value: str,
    *,
    country: str = "",
    issued: str = "",
    expires: str = "",
    record: str,
) -> dict[str, Any]:
    """An identifier from an OFAC label ("Passport", "Digital Currency Address - XBT") and
    its number."""
    kind = IDENTIFIER_LABELS.get(label, "other")
    type_detail = label
    number = value
    if kind == "digital_currency":
        # "Digital Currency Address - XBT 1Abc" (remarks) or idType "... - XBT" (XML).
        if match := _CURRENCY.match(value):
            type_detail, number = match.group("currency"), match.group("address")
    elif kind == "imo" or (value.startswith("IMO") and _IMO_NUMBER.match(value)):
        # Also "Company Number IMO 5055293": the IMO number of a ship owner or manager.
        match = _IMO_NUMBER.match(value)
        kind, number = "imo", match.group("number") if match else value
    return _identifier(
        kind,
        type_detail=type_detail,
        number=number,
        country=country,
        issued=issued,
        expires=expires,
        record=record,
    )


@dataclass
class Facts:
    """What an entry's remarks (or XML lists) say, gathered before the data dict is built."""

    names: list[dict[str, Any]] = field(default_factory=list)
    birth_dates: list[dict[str, Any]] = field(default_factory=list)
    birth_places: list[dict[str, Any]] = field(default_factory=list)
    nationalities: list[dict[str, Any]] = field(default_factory=list)
    identifiers: list[dict[str, Any]] = field(default_factory=list)
    gender: str = ""
    linked_to: list[str] = field(default_factory=list)
    information: list[dict[str, str]] = field(default_factory=list)
    unparsed: list[str] = field(default_factory=list)


def parse_remarks(remarks: str, facts: Facts, *, record: str) -> None:
    """Map each part of a remarks text onto `facts`; a part that fits no key stays unparsed."""
    for part in _split_remarks(remarks):
        if match := _DOB.match(part):
            facts.birth_dates.append(parse_birth_date(match.group("value"), record=record))
        elif match := _POB.match(part):
            facts.birth_places.append(_birth_place(match.group("value")))
        elif match := _NATIONALITY.match(part):
            facts.nationalities.append({"country": match.group("value"), "note": ""})
        elif match := _CITIZEN.match(part):
            facts.nationalities.append({"country": match.group("value"), "note": "citizen"})
        elif match := _GENDER.match(part):
            facts.gender = match.group("value")
        elif match := _WEAK_ALIAS.match(part):
            # The legacy CSV keeps weak aliases in the remarks, not in alt.csv.
            kind, note = ALIAS_TYPES[match.group("type")]
            facts.names.append(name_item(kind, match.group("name"), quality="low", note=note))
        elif match := _LINKED.match(part):
            facts.linked_to.append(match.group("value"))
        elif (
            (match := _LABEL_RE.match(part))
            # "Passport issued in Sarajevo" is a sentence about a passport, not a number.
            and not match.group("rest")[:1].islower()
            and (rest := _ID_REST.match(match.group("rest").strip()))
        ):
            facts.identifiers.append(
                identifier_from(
                    match.group("label"),
                    rest.group("number").strip(),
                    country=(rest.group("country") or "").strip(),
                    issued=(rest.group("issued") or "").strip(),
                    expires=(rest.group("expires") or "").strip(),
                    record=record,
                )
            )
        elif match := _INFO_RE.match(part):
            value = match.group("rest").strip().lstrip(":").strip()
            facts.information.append({"type": match.group("label").rstrip(" :-"), "value": value})
        else:
            facts.unparsed.append(part)


def _regime(programs: list[str], *, record: str) -> str:
    if not programs:
        raise ListFormatError(f"{record}: the entry names no sanctions programme")
    return programs[0]


def _entry(
    *,
    source_id: str,
    record: str,
    subject_kind: str,
    name: str,
    name_parts: list[str],
    programs: list[str],
    positions: list[str],
    remarks: str,
    facts: Facts,
    details: dict[str, Any],
) -> ParsedEntry:
    regime_code = _regime(programs, record=record)
    regime_name, legal_basis = REGIMES.get(regime_code, (regime_code, ""))
    names = [name_item("primary", name, parts=name_parts), *facts.names]
    details = {
        key: value
        for key, value in {
            "programs": programs,
            "regime_name": regime_name,
            **details,
            "remarks": remarks,
            "linked_to": facts.linked_to,
            "information": facts.information,
            "remarks_unparsed": facts.unparsed,
        }.items()
        if value
    }
    data = {
        "subject_kind": subject_kind,
        "name": name,
        "legal_basis": legal_basis,
        "reference_number": source_id,
        "gender": facts.gender,
        "titles": [],
        "positions": positions,
        "measures": [],
        "reasons": "",
        "listed_on": None,
        "source_updated_on": [],
        "names": names,
        "birth_dates": facts.birth_dates,
        "birth_places": facts.birth_places,
        "addresses": [],
        "nationalities": facts.nationalities,
        "identifiers": facts.identifiers,
    }
    return ParsedEntry(
        source_id=source_id,
        source_version="",
        reference_number=source_id,
        regime_code=regime_code,
        data=data,
        details=details,
    )


# --- CSV set ----------------------------------------------------------------------------


def _programs(value: str) -> list[str]:
    """ "SDGT] [IFSR" -> ["SDGT", "IFSR"] (the file drops the outer brackets)."""
    return [p.strip(" []") for p in value.split("] [") if p.strip(" []")]


class _SideFile:
    """A file keyed by ent_num (addresses, aliases, remark continuations), read alongside the
    main file. Both are in ascending ent_num order, so each entry's rows are the next ones."""

    def __init__(
        self, stream: IO[str], *, name: str, columns: tuple[str, ...], unknown: Counter[str]
    ) -> None:
        self.name = name
        self.columns = columns
        self.unknown = unknown
        self.rows = _Rows(stream, name=name, columns=columns)
        self.pending: tuple[int, list[str]] | None = None
        self.last = -1
        self._advance()

    def _advance(self) -> None:
        row = next(self.rows, None)
        if row is None:
            self.pending = None
            return
        key = _ent_num(row[0], file=self.name, line=self.rows.line)
        if key < self.last:
            raise ListFormatError(
                f"{self.name}: ent_num {key} comes after {self.last}; the file is not in "
                "ent_num order"
            )
        self.last = key
        self.pending = (key, row)

    def take(self, ent_num: int) -> list[list[str]]:
        """The rows of `ent_num`; rows of entries the main file does not have are counted."""
        rows = []
        while self.pending is not None and self.pending[0] <= ent_num:
            key, row = self.pending
            if key == ent_num:
                rows.append(row)
            else:
                self.unknown[f"{self.name}: row of an ent_num not in the main file"] += 1
            self._advance()
        return rows

    def finish(self) -> None:
        while self.pending is not None:
            self.unknown[f"{self.name}: row of an ent_num not in the main file"] += 1
            self._advance()


class _ReadOnly(io.RawIOBase):
    """The caller's byte stream as a raw stream a text wrapper accepts: the stream may be a
    bare reader with only read() (the import command's progress bar), and closing the wrapper
    leaves it open for its owner."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _Rows:
    """csv rows of a file with the column count checked and the end-of-file byte dropped."""

    def __init__(self, stream: IO[str], *, name: str, columns: tuple[str, ...]) -> None:
        self.reader = csv.reader(stream, strict=True)
        self.name = name
        self.columns = columns
        self.line = 0

    def __iter__(self) -> _Rows:
        return self

    def __next__(self) -> list[str]:
        while True:
            try:
                row = next(self.reader)
            except csv.Error as error:
                raise ListFormatError(
                    f"{self.name}, line {self.reader.line_num}: not a well-formed CSV row "
                    f"({error}); the file may be truncated"
                ) from error
            except UnicodeDecodeError as error:
                raise ListFormatError(
                    f"{self.name}: the file is not in the list's encoding ({error})"
                ) from error
            self.line = self.reader.line_num
            if not row or row == [EOF_MARKER] or row == [""]:
                continue
            if len(row) != len(self.columns):
                raise ListFormatError(
                    f"{self.name}, line {self.line}: {len(row)} columns, expected "
                    f"{len(self.columns)} ({', '.join(self.columns)}); the file may be "
                    "truncated or not an OFAC CSV file"
                )
            return row


def _ent_num(value: str, *, file: str, line: int) -> int:
    value = value.strip()
    if not value.isdigit():
        raise ListFormatError(
            f"{file}, line {line}: ent_num {value!r} is not a number (an OFAC CSV file has no "
            "header row)"
        )
    return int(value)


class OFACCSVParser:
    """Iterate over an OFAC CSV set. `path` is the folder (or its main .csv file)."""

    def __init__(self, stream: IO[bytes], *, path: Path | None = None) -> None:
        if path is None:
            raise ListFormatError("an OFAC CSV set is read from its folder")
        self.stream = stream
        self.main = self.main_file(path)
        self.folder = self.main.parent
        self.header: ListHeader | None = None
        self.unknown_elements: Counter[str] = Counter()

    @classmethod
    def main_file(cls, path: Path) -> Path:
        if path.is_file():
            if path.name not in CSV_SETS:
                raise ListFormatError(
                    f"{path.name}: not the main file of an OFAC CSV set ({' or '.join(CSV_SETS)})"
                )
            return path
        found = [path / name for name in CSV_SETS if (path / name).is_file()]
        if len(found) != 1:
            raise ListFormatError(
                f"{path}: an OFAC CSV set holds exactly one of {' or '.join(CSV_SETS)}; "
                f"found {len(found)}"
            )
        return found[0]

    def _side(
        self, stack: ExitStack, name: str, columns: tuple[str, ...], *, required: bool
    ) -> _SideFile | None:
        file = self.folder / name
        if not file.is_file():
            if required:
                raise ListFormatError(
                    f"the CSV set lacks {name}; without it every entry would lose its "
                    "addresses or aliases"
                )
            return None
        stream = stack.enter_context(file.open(encoding=CSV_ENCODING, newline=""))
        return _SideFile(stream, name=name, columns=columns, unknown=self.unknown_elements)

    def __iter__(self) -> Iterator[ParsedEntry]:
        add_name, alt_name, comments_name = CSV_SETS[self.main.name]
        self.header = ListHeader(generated_at=None)
        with ExitStack() as stack:
            addresses = self._side(stack, add_name, ADDRESS_COLUMNS, required=True)
            aliases = self._side(stack, alt_name, ALIAS_COLUMNS, required=True)
            comments = self._side(stack, comments_name, COMMENT_COLUMNS, required=False)
            text = io.TextIOWrapper(
                io.BufferedReader(_ReadOnly(self.stream)), encoding=CSV_ENCODING, newline=""
            )
            rows = _Rows(text, name=self.main.name, columns=MAIN_COLUMNS)
            last = -1
            for row in rows:
                ent_num = _ent_num(row[0], file=self.main.name, line=rows.line)
                if ent_num == last:
                    raise ListFormatError(f"{self.main.name}: ent_num {ent_num} appears twice")
                if ent_num < last:
                    raise ListFormatError(
                        f"{self.main.name}: ent_num {ent_num} comes after {last}; the file is "
                        "not in ent_num order"
                    )
                last = ent_num
                continuation = "".join(r[1] for r in comments.take(ent_num)) if comments else ""
                yield self.parse_row(
                    row,
                    addresses=addresses.take(ent_num),
                    aliases=aliases.take(ent_num),
                    continuation=continuation,
                )
            for side in (addresses, aliases, comments):
                if side is not None:
                    side.finish()

    def parse_row(
        self,
        row: list[str],
        *,
        addresses: list[list[str]],
        aliases: list[list[str]],
        continuation: str = "",
    ) -> ParsedEntry:
        values = dict(zip(MAIN_COLUMNS, (_clean(v) for v in row), strict=True))
        source_id = str(int(values["ent_num"]))
        record = f"ent_num {source_id}"
        name = values["name"]
        if not name:
            raise ListFormatError(f"{record}: the entry has no name")
        sdn_type = values["type"].casefold()
        if sdn_type not in SUBJECT_KINDS:
            raise ListFormatError(f"{record}: unknown SDN_Type {values['type']!r}")
        subject_kind = SUBJECT_KINDS[sdn_type]
        # Remarks longer than the field continue, mid-word, in the comments file.
        raw_remarks = row[11].strip()
        remarks = "" if raw_remarks == EMPTY else raw_remarks
        remarks += continuation
        facts = Facts()
        for alias in aliases:
            alias_values = dict(zip(ALIAS_COLUMNS, (_clean(v) for v in alias), strict=True))
            alias_name = alias_values["alt_name"]
            if not alias_name:
                self.unknown_elements[f"{record}: alias row without a name"] += 1
                continue
            alt_type = alias_values["alt_type"].casefold()
            if alt_type not in ALIAS_TYPES:
                self.unknown_elements[f"alt_type {alias_values['alt_type']}"] += 1
            kind, note = ALIAS_TYPES.get(alt_type, ("alias", alias_values["alt_type"]))
            note = "; ".join(n for n in (note, alias_values["remarks"]) if n)
            facts.names.append(
                name_item(
                    kind,
                    alias_name,
                    parts=_name_parts(alias_name, person=subject_kind == "person"),
                    # alt.csv holds the strong aliases; weak ones are in the remarks.
                    quality="good",
                    note=note,
                )
            )
        parse_remarks(remarks, facts, record=record)
        vessel = {
            key: values[key]
            for key in (
                "call_sign",
                "vessel_type",
                "tonnage",
                "gross_registered_tonnage",
                "vessel_flag",
                "vessel_owner",
            )
            if values[key]
        }
        entry = _entry(
            source_id=source_id,
            record=record,
            subject_kind=subject_kind,
            name=name,
            name_parts=_name_parts(name, person=subject_kind == "person"),
            programs=_programs(values["programs"]),
            positions=[values["title"]] if values["title"] else [],
            remarks=remarks,
            facts=facts,
            details={"vessel": vessel},
        )
        for address in addresses:
            place = self._address(address)
            if place:
                entry.data["addresses"].append(place)
        return entry

    @staticmethod
    def _address(row: list[str]) -> dict[str, str] | None:
        values = dict(zip(ADDRESS_COLUMNS, (_clean(v) for v in row), strict=True))
        place = {
            "street": values["address"],
            # One column holds the city, state and postal code as OFAC writes them.
            "city": values["city"],
            "state_province": "",
            "postal_code": "",
            "country": values["country"],
            "note": values["remarks"],
        }
        return place if any(place.values()) else None


# --- XML ----------------------------------------------------------------------------------

XML_SUBJECT_KINDS = {
    "individual": "person",
    "entity": "organisation",
    "vessel": "vessel",
    "aircraft": "aircraft",
}

# Children of an sdnEntry, and of its list items, that this parser reads.
XML_KNOWN = {
    "sdnEntry": {
        "uid",
        "firstName",
        "lastName",
        "title",
        "sdnType",
        "remarks",
        "programList",
        "idList",
        "akaList",
        "addressList",
        "nationalityList",
        "citizenshipList",
        "dateOfBirthList",
        "placeOfBirthList",
        "vesselInfo",
    },
    "id": {"uid", "idType", "idNumber", "idCountry", "issueDate", "expirationDate"},
    "aka": {"uid", "type", "category", "firstName", "lastName"},
    "address": {
        "uid",
        "address1",
        "address2",
        "address3",
        "city",
        "stateOrProvince",
        "postalCode",
        "country",
    },
    "nationality": {"uid", "country", "mainEntry"},
    "citizenship": {"uid", "country", "mainEntry"},
    "dateOfBirthItem": {"uid", "dateOfBirth", "mainEntry"},
    "placeOfBirthItem": {"uid", "placeOfBirth", "mainEntry"},
    "vesselInfo": {
        "callSign",
        "vesselType",
        "vesselFlag",
        "vesselOwner",
        "tonnage",
        "grossRegisteredTonnage",
    },
}
XML_VESSEL_FIELDS = {
    "callSign": "call_sign",
    "vesselType": "vessel_type",
    "tonnage": "tonnage",
    "grossRegisteredTonnage": "gross_registered_tonnage",
    "vesselFlag": "vessel_flag",
    "vesselOwner": "vessel_owner",
}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _x(element: Element | None, tag: str) -> str:
    """Text of the child `tag`, whatever the document's namespace."""
    if element is None:
        return ""
    for child in element:
        if _local(child.tag) == tag:
            return " ".join((child.text or "").split())
    return ""


def _items(element: Element, list_tag: str, item_tag: str) -> list[Element]:
    return [
        item
        for child in element
        if _local(child.tag) == list_tag
        for item in child
        if _local(item.tag) == item_tag
    ]


def _full_name(last: str, first: str) -> str:
    return f"{last}, {first}" if last and first else last or first


class OFACXMLParser:
    """Iterate over a list in the SDN XML schema."""

    def __init__(self, stream: IO[bytes], *, path: Path | None = None) -> None:
        self.stream = stream
        self.header: ListHeader | None = None
        self.unknown_elements: Counter[str] = Counter()
        self.record_count: int | None = None

    def __iter__(self) -> Iterator[ParsedEntry]:
        seen: set[str] = set()
        for event, element, depth in xml_events(self.stream, which="an OFAC list"):
            if event == "start":
                if depth == 1:
                    if _local(element.tag) != "sdnList":
                        raise ListFormatError(
                            f"not an OFAC list in the SDN XML schema: the root element is "
                            f"<{_local(element.tag)}>, expected <sdnList>"
                        )
                    self.header = ListHeader(generated_at=None)
                continue
            if depth != 1:
                continue
            tag = _local(element.tag)
            if tag == "publshInformation":
                self.header = ListHeader(generated_at=self._published(element))
                count = _x(element, "Record_Count")
                self.record_count = int(count) if count.isdigit() else None
            elif tag == "sdnEntry":
                entry = self.parse_entry(element)
                if entry.source_id in seen:
                    raise ListFormatError(f"uid {entry.source_id} appears twice")
                seen.add(entry.source_id)
                element.clear()  # bounded memory: drop the parsed entry's tree
                yield entry
            else:
                self.unknown_elements[f"sdnList/{tag}"] += 1
                element.clear()
        if self.header is None:
            raise ListFormatError("the file is empty")
        if self.record_count is not None and self.record_count != len(seen):
            raise ListFormatError(
                f"the file says it holds {self.record_count} entries (Record_Count) but has "
                f"{len(seen)}; it is incomplete or damaged"
            )

    @staticmethod
    def _published(element: Element) -> dt.datetime | None:
        value = _x(element, "Publish_Date")
        if not value:
            return None
        try:
            published = dt.datetime.strptime(value, "%m/%d/%Y")
        except ValueError:
            raise ListFormatError(
                f"the list's Publish_Date {value!r} is not a date (MM/DD/YYYY)"
            ) from None
        return published.replace(tzinfo=dt.UTC)

    def _count_unknown(self, element: Element, item: str) -> None:
        for child in element:
            tag = _local(child.tag)
            if tag not in XML_KNOWN[item]:
                self.unknown_elements[f"{item}/{tag}"] += 1

    def parse_entry(self, entry: Element) -> ParsedEntry:
        source_id = _x(entry, "uid")
        if not source_id:
            raise ListFormatError("an sdnEntry has no uid")
        record = f"uid {source_id}"
        self._count_unknown(entry, "sdnEntry")
        last, first = _x(entry, "lastName"), _x(entry, "firstName")
        name = _full_name(last, first)
        if not name:
            raise ListFormatError(f"{record}: the entry has no name")
        sdn_type = _x(entry, "sdnType")
        if sdn_type.casefold() not in XML_SUBJECT_KINDS:
            raise ListFormatError(f"{record}: unknown sdnType {sdn_type!r}")
        subject_kind = XML_SUBJECT_KINDS[sdn_type.casefold()]
        person = subject_kind == "person"

        facts = Facts()
        for aka in _items(entry, "akaList", "aka"):
            self._count_unknown(aka, "aka")
            aka_type, category = _x(aka, "type"), _x(aka, "category").casefold()
            if aka_type.casefold() not in ALIAS_TYPES:
                raise ListFormatError(f"{record}: unknown aka type {aka_type!r}")
            if category not in AKA_QUALITY:
                raise ListFormatError(f"{record}: unknown aka category {category!r}")
            kind, note = ALIAS_TYPES[aka_type.casefold()]
            aka_last, aka_first = _x(aka, "lastName"), _x(aka, "firstName")
            alias = _full_name(aka_last, aka_first)
            if not alias:
                raise ListFormatError(f"{record}: an aka has no name")
            parts = [aka_last, aka_first] if aka_last and aka_first and person else []
            facts.names.append(
                name_item(kind, alias, parts=parts, quality=AKA_QUALITY[category], note=note)
            )
        for item in _items(entry, "dateOfBirthList", "dateOfBirthItem"):
            self._count_unknown(item, "dateOfBirthItem")
            if value := _x(item, "dateOfBirth"):
                facts.birth_dates.append(parse_birth_date(value, record=record))
        for item in _items(entry, "placeOfBirthList", "placeOfBirthItem"):
            self._count_unknown(item, "placeOfBirthItem")
            if value := _x(item, "placeOfBirth"):
                facts.birth_places.append(_birth_place(value))
        for list_tag, item_tag, note in (
            ("nationalityList", "nationality", ""),
            ("citizenshipList", "citizenship", "citizen"),
        ):
            for item in _items(entry, list_tag, item_tag):
                self._count_unknown(item, item_tag)
                if country := _x(item, "country"):
                    facts.nationalities.append({"country": country, "note": note})
        for item in _items(entry, "idList", "id"):
            self._count_unknown(item, "id")
            self._id(item, facts, record=record)

        remarks = _x(entry, "remarks")
        parse_remarks(remarks, facts, record=record)

        addresses = []
        for item in _items(entry, "addressList", "address"):
            self._count_unknown(item, "address")
            street = ", ".join(
                v for v in (_x(item, t) for t in ("address1", "address2", "address3")) if v
            )
            place = {
                "street": street,
                "city": _x(item, "city"),
                "state_province": _x(item, "stateOrProvince"),
                "postal_code": _x(item, "postalCode"),
                "country": _x(item, "country"),
                "note": "",
            }
            if any(place.values()):
                addresses.append(place)

        vessel = {}
        for child in entry:
            if _local(child.tag) == "vesselInfo":
                self._count_unknown(child, "vesselInfo")
                vessel = {
                    XML_VESSEL_FIELDS[t]: _x(child, t) for t in XML_VESSEL_FIELDS if _x(child, t)
                }
        programs = [
            " ".join((p.text or "").split())
            for child in entry
            if _local(child.tag) == "programList"
            for p in child
            if _local(p.tag) == "program" and (p.text or "").strip()
        ]
        title = _x(entry, "title")
        parsed = _entry(
            source_id=source_id,
            record=record,
            subject_kind=subject_kind,
            name=name,
            name_parts=[last, first] if last and first and person else [],
            programs=programs,
            positions=[title] if title else [],
            remarks=remarks,
            facts=facts,
            details={"vessel": vessel},
        )
        parsed.data["addresses"] = addresses
        return parsed

    @staticmethod
    def _id(item: Element, facts: Facts, *, record: str) -> None:
        label = _x(item, "idType")
        number = _x(item, "idNumber")
        country = _x(item, "idCountry")
        bare = label.rstrip(" :-")
        if bare == "Gender":
            facts.gender = number
        elif label.startswith("Digital Currency Address") or bare in IDENTIFIER_LABELS:
            facts.identifiers.append(
                identifier_from(
                    "Digital Currency Address" if label.startswith("Digital") else bare,
                    f"{label.partition('Address')[2].strip()} {number}".strip()
                    if label.startswith("Digital")
                    else number,
                    country=country,
                    issued=_x(item, "issueDate"),
                    expires=_x(item, "expirationDate"),
                    record=record,
                )
            )
        elif bare in INFORMATION_TYPES or bare.startswith(("Listing Date", "Effective Date")):
            info = {"type": bare, "value": number}
            if country:
                info["country"] = country
            facts.information.append(info)
        else:
            # An idType this parser does not know is still an identifier OFAC gives.
            facts.identifiers.append(
                _identifier(
                    "other",
                    type_detail=label,
                    number=number,
                    country=country,
                    issued=_x(item, "issueDate"),
                    expires=_x(item, "expirationDate"),
                    record=record,
                )
            )


def parser_for(path: Path) -> type[OFACCSVParser] | type[OFACXMLParser]:
    if path.is_dir() or path.suffix.casefold() == ".csv":
        return OFACCSVParser
    if path.suffix.casefold() == ".xml":
        return OFACXMLParser
    raise ListFormatError(
        f"{path.name}: an OFAC list is a folder of CSV files (sdn.csv, add.csv, alt.csv) or an "
        "XML file"
    )


__all__ = ["REGIMES", "OFACCSVParser", "OFACXMLParser", "parse_birth_date", "parser_for"]
