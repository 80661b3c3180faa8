"""The sharing form of the portal: whom to share an object with, and at which level."""

from __future__ import annotations

from django import forms

from agencies.models import Agency, SharingGroup, User
from designations.models import Designation, IntelligenceNote
from sharing.access import Level
from sharing.models import Marking

GRANT_LEVELS = [(level.label, level.label.capitalize()) for level in Level]


class GrantForm(forms.Form):
    grantee = forms.ChoiceField(label="Share with")
    level = forms.ChoiceField(label="Level", choices=GRANT_LEVELS, initial="view")

    def __init__(
        self, *args: object, obj: Designation | IntelligenceNote, **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)
        # Offer only what the marking allows; the grant service checks again.
        choices: list[tuple[str, object]] = []
        if obj.marking == Marking.RED:
            people = User.objects.filter(is_active=True, agency__isnull=False).select_related(
                "agency"
            )
            choices.append(
                ("People", [(f"user:{p.username}", f"{p} ({p.agency.code})") for p in people])
            )
        else:
            agencies = Agency.objects.exclude(pk=obj.owner_id)
            choices.append(("Agencies", [(f"agency:{a.code}", a.name) for a in agencies]))
            if obj.marking != Marking.AMBER_STRICT:
                groups = SharingGroup.objects.all()
                choices.append(
                    ("Sharing groups", [(f"sharing_group:{g.pk}", g.name) for g in groups])
                )
        self.fields["grantee"].choices = choices
