from django import template

register = template.Library()


@register.filter
def lookup(mapping: dict, key):
    """`names|lookup:slot.practitioner_id`: Django templates cannot index a dict by a variable."""
    return mapping.get(key, "")


@register.simple_tag
def widget_for(field):
    """The field's input, tied to its help text and its error by aria-describedby, so a screen reader reads both."""
    described_by = [f"{field.auto_id}-help"] if field.help_text else []
    attrs = {}
    if field.errors:
        described_by.append(f"{field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)


@register.filter
def as_list(value) -> list:
    """A bound field's raw value as a list: one hidden input per chosen box of a multiple choice."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
