"""A guard for gradio 5.14's API description under pydantic >= 2.11.

pydantic 2.11 writes ``additionalProperties: true`` (a bare boolean) into the JSON schema of
``dict`` fields; gradio_client 1.7.0 (the one gradio 5.14 installs) expects every schema to be a
dict, so describing the API of any app with an Image or File fails with "argument of type 'bool'
is not iterable" and ``launch()`` then reports that localhost is not accessible. Newer
gradio_client releases accept boolean schemas; this applies the same rule (a boolean schema is
"any value") to the installed one, once.
"""


def accept_boolean_json_schemas() -> None:
    """Make gradio_client's schema-to-type conversion accept boolean schemas (idempotent)."""
    from gradio_client import utils

    original = utils._json_schema_to_python_type
    if getattr(original, 'accepts_boolean_schemas', False):
        return

    def to_python_type(schema, defs=None):
        if isinstance(schema, bool):
            return 'Any'
        return original(schema, defs)

    to_python_type.accepts_boolean_schemas = True
    utils._json_schema_to_python_type = to_python_type  # the recursion inside looks the name up here too
