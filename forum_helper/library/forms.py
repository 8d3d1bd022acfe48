from django import forms

from forum_helper.library.selectors import known_topics


class PinForm(forms.Form):
    category = forms.ChoiceField(required=False, choices=[])
    rule_id = forms.CharField(required=False, max_length=128)
    note = forms.CharField(required=False, widget=forms.TextInput)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "— category —")] + [(t, t) for t in known_topics()]


class ImportForm(forms.Form):
    title = forms.CharField(max_length=255)
    url = forms.URLField(max_length=500, label="Source URL", assume_scheme="https")
    publisher = forms.CharField(max_length=200, required=False)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 16}), required=False, help_text="Paste the article, or upload a text file.")
    file = forms.FileField(required=False)

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("text") and not data.get("file"):
            raise forms.ValidationError("Paste the article text or upload a file.")
        return data

    def article_text(self) -> str:
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                return upload.read().decode("utf-8")
            except UnicodeDecodeError as error:
                raise forms.ValidationError("The file must be UTF-8 text.") from error
        return self.cleaned_data["text"]
