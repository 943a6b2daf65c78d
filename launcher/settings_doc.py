"""Print the table of settings that README.md shows: `python -m launcher.settings_doc`.

A test checks that the README's table is this one, so the two never drift apart.
"""

from __future__ import annotations

from pydantic import SecretStr

from shared.settings import ENV_PREFIX, Settings

BEGIN = "<!-- settings-table:begin -->"
END = "<!-- settings-table:end -->"


def settings_table() -> str:
    """A Markdown table: env var, default, what it does."""
    rows = ["| env var | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if isinstance(default, list):
            shown = f"{len(default)} items" if default else "(empty)"
        elif default is None:
            shown = "(unset)"
        elif isinstance(default, SecretStr):
            shown = "(secret)"
        else:
            shown = f"`{default}`"
        about = (field.description or "").replace("|", "\\|")
        rows.append(f"| `{ENV_PREFIX}{name.upper()}` | {shown} | {about} |")
    return "\n".join(rows)


def readme_block() -> str:
    return f"{BEGIN}\n{settings_table()}\n{END}"


if __name__ == "__main__":
    print(readme_block())
