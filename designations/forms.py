"""The portal's forms for designations and notes. They turn what a person typed into the
designation data format (designations.data); the services validate and write it."""

from __future__ import annotations

from typing import Any

from django import forms

from agencies.models import Agency
from designations.models import Designation, NameKind, Regime, SubjectKind
from sharing.models import Marking

MARKING_CHOICES = [(m.value, m.label) for m in Marking if m != Marking.RED] + [
    (Marking.RED.value, Marking.RED.label)
]


class NamesForm(forms.Form):
    """What publishing and amending share: the primary name, aliases, reasons."""

    name = forms.CharField(max_length=300, label="Primary name")
    aliases = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Also known as",
        help_text="One name per line.",
    )
    reasons = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label="Reasons"
    )

    def clean_aliases(self) -> list[str]:
        aliases = [line.strip() for line in self.cleaned_data["aliases"].splitlines()]
        if any(len(alias) > 500 for alias in aliases):
            raise forms.ValidationError("A name may have at most 500 characters.")
        return [alias for alias in aliases if alias]


class DesignationForm(NamesForm):
    regime = forms.ModelChoiceField(queryset=Regime.objects.none(), label="Regime")
    subject_kind = forms.ChoiceField(choices=SubjectKind.choices, label="Subject")
    marking = forms.ChoiceField(choices=MARKING_CHOICES, initial=Marking.AMBER, label="Marking")
    field_order = ["regime", "subject_kind", "name", "aliases", "reasons", "marking"]

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the agency's own regimes (the service checks again).
        self.fields["regime"].queryset = Regime.objects.filter(owner=agency)  # type: ignore[attr-defined]

    def designation_data(self) -> dict[str, Any]:
        """The designation data format of what was typed."""
        values = self.cleaned_data
        return {
            "subject_kind": values["subject_kind"],
            "name": values["name"],
            "reasons": values["reasons"],
            "names": [{"kind": NameKind.ALIAS, "full_name": alias} for alias in values["aliases"]],
        }


class NoteForm(forms.Form):
    title = forms.CharField(max_length=300, label="Title")
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}), label="Note", help_text="Markdown."
    )
    marking = forms.ChoiceField(choices=MARKING_CHOICES, initial=Marking.AMBER, label="Marking")


class AmendForm(NamesForm):
    """What a publisher most often amends: the primary name, the aliases, the reasons. Other
    kinds of name (former, original script) are kept as they are."""

    reason = forms.CharField(
        max_length=1000, label="Why this amendment", help_text="Kept in the version history."
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    @classmethod
    def for_designation(cls, designation: Designation) -> AmendForm:
        names = designation.names.all()
        return cls(
            initial={
                "name": designation.name,
                "aliases": "\n".join(n.full_name for n in names if n.kind == NameKind.ALIAS),
                "reasons": designation.reasons,
                "version": designation.version,
            }
        )

    def changes(self, designation: Designation) -> dict[str, Any]:
        values = self.cleaned_data
        kept = [
            {"kind": n.kind, "full_name": n.full_name, "script": n.script}
            for n in designation.names.all()
            if n.kind not in (NameKind.PRIMARY, NameKind.ALIAS)
        ]
        return {
            "name": values["name"],
            "reasons": values["reasons"],
            "names": [{"kind": NameKind.PRIMARY, "full_name": values["name"]}]
            + [{"kind": NameKind.ALIAS, "full_name": alias} for alias in values["aliases"]]
            + kept,
        }


class DelistForm(forms.Form):
    reason = forms.CharField(max_length=1000, label="Why it is delisted")
    version = forms.IntegerField(widget=forms.HiddenInput)


PROPOSABLE_TEXT = [
    ("name", "Primary name"),
    ("legal_basis", "Legal basis"),
    ("reference_number", "Reference"),
    ("gender", "Gender"),
    ("reasons", "Reasons"),
]


class ProposalForm(forms.Form):
    """Another agency proposes a new value for a field, or contests it, with a reason."""

    kind = forms.ChoiceField(
        choices=[("amend", "Propose a new value"), ("dispute", "Contest this field")],
        widget=forms.RadioSelect,
        initial="amend",
        label="What you propose",
    )
    field = forms.ChoiceField(choices=PROPOSABLE_TEXT, label="Field")
    value = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="New value",
        help_text="For a new value only.",
    )
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self) -> dict[str, Any]:
        values = super().clean() or {}
        if values.get("kind") == "amend" and not (values.get("value") or "").strip():
            self.add_error("value", "Give the value you propose.")
        return values

    def changes(self) -> dict[str, Any]:
        values = self.cleaned_data
        if values["kind"] == "amend":
            return {values["field"]: values["value"].strip()}
        return {"fields": [values["field"]]}


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    reason = forms.CharField(max_length=2000, label="Why")
