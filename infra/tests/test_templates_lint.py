"""Every template passes cfn-lint, errors and warnings alike."""

from pathlib import Path

import pytest
from cfnlint.api import ManualArgs, lint_by_config

from switchyard_infra.paths import TEMPLATES_DIR

TEMPLATES = sorted(TEMPLATES_DIR.glob("*.yaml"))
# (template, rule) findings accepted for now, each with its reason. Only
# warnings may be listed here; an error always fails.
ACCEPTED: set[tuple[str, str]] = set()

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def findings() -> dict[str, list[str]]:
    """cfn-lint's findings per template name (one run: its start-up is slow)."""
    args = ManualArgs(templates=[str(p) for p in TEMPLATES], regions=["us-east-1"])
    found: dict[str, list[str]] = {}
    for match in lint_by_config(args):
        name = Path(match.filename).name
        if (name, match.rule.id) in ACCEPTED and not match.rule.id.startswith("E"):
            continue
        found.setdefault(name, []).append(
            f"{match.rule.id} line {match.linenumber}: {match.message}"
        )
    return found


def test_the_templates_directory_holds_every_stack():
    names = {path.name for path in TEMPLATES}

    assert {
        "shared.yaml",
        "api.yaml",
        "site.yaml",
        "service-user-api.yaml",
        "service-router.yaml",
        "service-connectors.yaml",
        "service-dlq-processor.yaml",
    } <= names


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_template_passes_cfn_lint(template: Path, findings: dict[str, list[str]]):
    assert findings.get(template.name, []) == []


def test_cfn_lint_reports_a_broken_template(tmp_path: Path):
    # Guards the guard: the same call must see a real mistake.
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Lambda::Function\n"
        "    Properties:\n      Runtime: python3.12\n",
        encoding="utf-8",
    )

    matches = list(
        lint_by_config(ManualArgs(templates=[str(broken)], regions=["us-east-1"]))
    )

    assert any(m.rule.id.startswith("E") for m in matches)
