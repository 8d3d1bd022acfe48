from django.db import models


class JSONField(models.JSONField):
    """A JSONField whose rows go into bulk_create as VALUES rather than Django's UNNEST arrays.

    For UNNEST, psycopg writes each column as one array literal and escapes every element with
    a Python regex: for a finding's nine JSON columns that cost about 1 ms per row, a fifth of
    screening a post. A field with `get_placeholder` makes Django use plain VALUES for the row.
    The database column is the same jsonb, so migrations see Django's own JSONField.
    """

    def get_placeholder(self, value, compiler, connection) -> str:
        return "%s"

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs
