"""Inserting many new rows fast: PostgreSQL's COPY where we are on PostgreSQL (the initial sync
of a partner writes hundreds of thousands of rows; Django's bulk_create spends most of its time
quoting arrays in Python there), bulk_create elsewhere. Rows get exactly the values
bulk_create would write (each field's pre_save and database preparation)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import AutoField, Model


def bulk_insert(model: type[Model], rows: Sequence[Model]) -> None:
    """Insert new `rows` of `model` (no generated primary keys are read back)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows)
        return
    fields = [
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, AutoField))  # the sequence numbers them
    ]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    # Errors as Django's (DataError, IntegrityError...), as from any other query.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(
                [field.get_db_prep_save(field.pre_save(row, True), connection) for field in fields]
            )
