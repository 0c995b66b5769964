"""Read CloudFormation templates as plain data: the one load_template.

Short-form tags (``!Sub`` and friends) are expanded to their long form, and
the result is plain dicts and lists, as JSON would give.
"""

import json
from pathlib import Path
from typing import Any

from cfn_flip import load_yaml

from switchyard_infra.errors import TemplateError


def parse_template(text: str) -> dict[str, Any]:
    """A YAML or JSON template body as dicts, with !Sub and friends expanded."""
    try:
        data = load_yaml(text)
    except Exception as exc:  # cfn_flip raises yaml and value errors alike
        raise TemplateError(f"not a readable template: {exc}") from exc
    if not isinstance(data, dict) or "Resources" not in data:
        raise TemplateError("not a CloudFormation template: no Resources section")
    return dict(json.loads(json.dumps(data)))


def load_template(path: str | Path) -> dict[str, Any]:
    """The template at path as plain dicts, short-form tags expanded."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc}") from exc
    try:
        return parse_template(text)
    except TemplateError as exc:
        raise TemplateError(f"{path}: {exc}") from exc
