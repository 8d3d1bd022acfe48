import json
from typing import Any

from django import forms

from forum_helper.rules.models import RuleMode


class JSONObjectField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 16, "cols": 90, "spellcheck": "false", "class": "code"})

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(f"Not valid JSON: {error.msg} (line {error.lineno}, column {error.colno}).")
        if not isinstance(parsed, dict):
            raise forms.ValidationError("Must be a JSON object.")
        return parsed


class RuleEditForm(forms.Form):
    mode = forms.ChoiceField(choices=RuleMode.choices)
    category = forms.CharField(required=False, max_length=60, help_text="Empty for rules without a category.")
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 90}))
    data = JSONObjectField(label="Data (JSON)")
    # Required to save (the service says so); not needed to backtest the edit.
    reason = forms.CharField(required=False, max_length=1000, help_text="Why; recorded with the revision and in the audit log.")


class RuleCreateForm(forms.Form):
    record = JSONObjectField(label="Rule (JSON record: id, kind, category, mode, description, data)")
    reason = forms.CharField(max_length=1000)


class RollbackForm(forms.Form):
    revision = forms.IntegerField(min_value=1)
    reason = forms.CharField(max_length=1000)


class TryForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 90}), max_length=50_000, label="Post text")
    thread_title = forms.CharField(required=False, max_length=500)
    author_role = forms.ChoiceField(choices=[("member", "Member"), ("staff", "Staff")], initial="member")


class BacktestForm(forms.Form):
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    source = forms.SlugField(required=False, max_length=64, help_text="Source slug; empty for all sources.")
