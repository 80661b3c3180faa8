"""python manage.py load_demo: a demo federation member with real data (development only)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from agencies.models import Agency, Role, User
from agencies.services import agency_create, node_ensure_local, user_create
from designations.models import Designation, Regime, SourceEntry
from designations.services import designation_create, note_create
from sharing.keyring import keyring_add_primary, keyring_file
from sharing.models import Marking

AGENCIES = [
    ("UNSC", "UN Security Council sanctions committees", "United Nations"),
    ("EU-FISMA", "European Commission, DG FISMA", "European Union"),
    ("GB-OFSI", "Office of Financial Sanctions Implementation", "United Kingdom"),
]
# In the demo federation (`make run`) the UN node hosts UNSC and imports the UN list; the EU
# node hosts the European agencies and their work. One node alone (`--part all`) has it all.
PARTS = {"un": {"UNSC"}, "eu": {"EU-FISMA", "GB-OFSI"}, "all": {code for code, *_ in AGENCIES}}
PEOPLE = [
    ("unsc.publisher", "UNSC", Role.PUBLISHER, "Amina", "Okafor"),
    ("eu.liaison", "EU-FISMA", Role.LIAISON, "Lena", "Hoffmann"),
    ("eu.publisher", "EU-FISMA", Role.PUBLISHER, "Marco", "Bianchi"),
    ("eu.admin", "EU-FISMA", Role.AGENCY_ADMIN, "Sofia", "Lindqvist"),
    ("gb.liaison", "GB-OFSI", Role.LIAISON, "Tom", "Harris"),
]
UN_LISTS = ["consolidated_2020-03-20.xml", "consolidated_2026-02-27.xml"]
# The EU and UK lists of February 2016 (the real files we have), for subject links.
OTHER_LISTS = {
    "EU-FISMA": ("eu", "eu/fsf_v1_2016-02-11_subset.xml"),
    "GB-OFSI": ("uk", "uk/conlist_2016-02-12_subset.csv"),
}


class Command(BaseCommand):
    help = "Load demo agencies, people, the real UN list and a few notes (not in production)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--part",
            choices=sorted(PARTS),
            default="all",
            help="which agencies this node hosts in the demo federation (default: all)",
        )
        parser.add_argument(
            "--data-dir",
            type=Path,
            default=settings.DEMO_DATA_DIR,
            help="folder with the published lists (default: DEMO_DATA_DIR)",
        )

    def handle(self, *args: Any, data_dir: Path, part: str, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("load_demo creates accounts with known roles; not in production")
        if not os.getenv("ATTACHMENT_KEKS") and not keyring_file().exists():
            # A development keyring under var/ so that attachments work at once.
            self.stdout.write(f"Generated attachment KEK {keyring_add_primary()}")
        logins_file = settings.VAR_DIR / "demo-logins.txt"
        hosted = PARTS[part]
        created = self._people(hosted)
        if created:
            with logins_file.open("a") as stream:
                stream.writelines(f"{username}  {password}\n" for username, password in created)
            logins_file.chmod(0o600)

        if "UNSC" in hosted:
            lists = [data_dir / "un" / name for name in UN_LISTS]
            if not all(path.is_file() for path in lists):
                fallback = settings.BASE_DIR / "tests" / "fixtures" / "un_excerpt_2026.xml"
                self.stderr.write(f"warning: {data_dir}/un not found; loading the test excerpt")
                lists = [fallback]
            for path in lists:
                call_command("import_list", "un", str(path), stdout=self.stdout, stderr=self.stderr)
        for code, (publisher, name) in OTHER_LISTS.items():
            if code in hosted and (data_dir / name).is_file():
                call_command(
                    "import_list",
                    publisher,
                    str(data_dir / name),
                    agency=code,
                    stdout=self.stdout,
                    stderr=self.stderr,
                )
        if "EU-FISMA" in hosted:
            self._eu_designation_and_notes()

        self.stdout.write(self.style.SUCCESS(f"Demo logins (also in {logins_file}):"))
        self.stdout.write(logins_file.read_text() if logins_file.exists() else "")

    @transaction.atomic
    def _people(self, hosted: set[str]) -> list[tuple[str, str]]:
        node = node_ensure_local()
        agencies = {}
        for code, name, jurisdiction in AGENCIES:
            if code not in hosted:
                continue
            agency = Agency.objects.filter(code=code).first()
            agencies[code] = agency or agency_create(
                code=code, name=name, jurisdiction=jurisdiction, home_node=node
            )
        created = []
        if not User.objects.filter(username="admin").exists():
            password = secrets.token_urlsafe(12)
            User.objects.create_superuser(
                "admin", password=password, first_name="Site", last_name="Administrator"
            )
            created.append(("admin", password))
        for username, code, role, first, last in PEOPLE:
            if code in hosted and not User.objects.filter(username=username).exists():
                password = secrets.token_urlsafe(12)
                user_create(
                    username=username,
                    agency=agencies[code],
                    role=role,
                    password=password,
                    first_name=first,
                    last_name=last,
                )
                created.append((username, password))
        return created

    @transaction.atomic
    def _eu_designation_and_notes(self) -> None:
        publisher = User.objects.get(username="eu.publisher")
        if Designation.objects.filter(owner=publisher.agency).exists():
            return
        regime, _ = Regime.objects.get_or_create(
            owner=publisher.agency,
            code="RUS",
            defaults={
                "name": "Russia (Regulation (EU) No 269/2014)",
                "legal_basis": "Council Regulation (EU) No 269/2014",
            },
        )
        # An EU working draft, marked AMBER: only EU-FISMA sees it until it is shared.
        designation_create(
            actor=publisher,
            regime=regime,
            marking=Marking.AMBER,
            data={
                "name": "Northern Star Maritime LLC",
                "subject_kind": "organisation",
                "reasons": "Demo entry: operates vessels carrying sanctioned cargo.",
                "names": [{"kind": "alias", "full_name": "Severnaya Zvezda Morskaya"}],
            },
        )
        liaison = User.objects.get(username="eu.liaison")
        source = SourceEntry.objects.filter(publisher="un", reference_number="TAi.155").first()
        if source is not None:
            note_create(
                actor=liaison,
                designation=source.designation,
                marking=Marking.GREEN,
                title="Travel reported",
                body="Open-source reporting places the subject in a "
                "neighbouring country in 2025. Demo note.",
            )
            note_create(
                actor=liaison,
                designation=source.designation,
                marking=Marking.AMBER,
                title="Bank account lead (EU only)",
                body="A member state's FIU reports an "
                "account that may be linked. Demo note, EU-FISMA only.",
            )
