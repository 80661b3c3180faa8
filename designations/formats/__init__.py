"""Published list formats. Each parser streams a file into `ParsedEntry` values whose `data`
is in the designation data format of `designations.data` (the same shape as a history
snapshot), so that every importer shares one write path."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


class ListFormatError(ValueError):
    """The file is not a well-formed list of this publisher; nothing was imported."""


@dataclass
class ParsedEntry:
    source_id: str
    source_version: str
    reference_number: str
    regime_code: str
    data: dict[str, Any]
    details: dict[str, Any] = field(default_factory=dict)
    cross_references: list[str] = field(default_factory=list)
    # The regime's name where the file gives it (FtM's Sanction program); else the parser
    # module's REGIMES, else the code.
    regime_name: str = ""


@dataclass
class ListHeader:
    # None when the file does not say (OFAC's CSV set): the importer is then told the date.
    generated_at: dt.datetime | None
