"""Key check of values the roles give a Helm chart against the chart's own values.yaml (copies in tests/charts)."""


def unknown_keys(rendered, reference, free_form=frozenset(), path=()):
    """Key paths of `rendered` that the chart's values do not have; maps under a `free_form` path hold the user's keys."""
    if path in free_form or not isinstance(rendered, dict):
        return []
    if not isinstance(reference, dict):
        return ['.'.join(path) + ' (the chart has a %s here)' % type(reference).__name__]
    found = []
    for key, value in rendered.items():
        if key not in reference:
            found.append('.'.join(path + (key,)))
        else:
            found.extend(unknown_keys(value, reference[key], free_form, path + (key,)))
    return found
