"""YAML as the manifests are written: keys in the order given, long text as `|` blocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

HEADER = ("# Written by `python -m deploy.kubernetes` from the workers' declarations\n"
          "# (services/<name>/worker.py). Do not edit: change deploy/kubernetes/*.py and run it\n"
          "# again, or patch in an overlay.\n")


class _Dumper(yaml.SafeDumper):
    """Safe YAML that writes text of several lines as a `|` block, so patches read well."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _text)


def dump(documents: Sequence[dict[str, Any]], header: str = HEADER) -> str:
    """`documents` as one YAML file (`---` between them), after the `header` comment."""
    body = yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, width=100,
                         explicit_start=len(documents) > 1)
    return header + body


def dump_patch(ops: list[dict[str, Any]]) -> str:
    """A JSON patch (a list of operations) as YAML text, for a kustomization's `patch:`."""
    return str(yaml.dump(ops, Dumper=_Dumper, sort_keys=False, width=100))
