from django import forms

from forum_helper.moderation.models import Decision


class VersionForm(forms.Form):
    version = forms.IntegerField(min_value=1)


class ClaimForm(VersionForm):
    action = forms.ChoiceField(choices=[("claim", "Claim"), ("unclaim", "Unclaim")])


class DecisionForm(VersionForm):
    kind = forms.ChoiceField(choices=Decision.Kind.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    action_taken = forms.ChoiceField(choices=Decision.ActionTaken.choices, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") == Decision.Kind.CONFIRM and not data.get("action_taken"):
            self.add_error("action_taken", "Say what you did when confirming: removed, edited or replied.")
        return data


class NoteForm(VersionForm):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=10000)


class BulkDecisionForm(forms.Form):
    """`items` values are "<id>:<version>" so each item is version-checked."""

    items = forms.MultipleChoiceField(choices=[], required=True)
    kind = forms.ChoiceField(choices=Decision.Kind.choices)
    reason = forms.CharField(max_length=5000)
    action_taken = forms.ChoiceField(choices=Decision.ActionTaken.choices, required=False)

    def clean_items(self) -> list[tuple[int, int]]:
        pairs = []
        for value in self.cleaned_data["items"]:
            try:
                item_id, version = value.split(":", 1)
                pairs.append((int(item_id), int(version)))
            except ValueError as error:
                raise forms.ValidationError("Invalid item selection.") from error
        return pairs

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Values are validated in clean_items, not against a fixed choice list.
        self.fields["items"].valid_value = lambda value: True  # type: ignore[method-assign]
