"""The deployable services: their packages, functions, templates and stacks.

One table so the build, the deploy script, the tests and the benchmark agree
on names; function names and handlers follow docs/contracts.md.
"""

from dataclasses import dataclass
from pathlib import Path

from switchyard_infra.errors import InfraError
from switchyard_infra.paths import SERVICES_DIR, TEMPLATES_DIR


@dataclass(frozen=True)
class Function:
    """One Lambda function of a service: its name suffix and handler."""

    suffix: str
    handler: str

    def name(self, stage: str) -> str:
        return f"switchyard-{stage}-{self.suffix}"

    @property
    def handler_module(self) -> str:
        return self.handler.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Service:
    """A service package built into one zip and deployed as one stack."""

    name: str
    functions: tuple[Function, ...]

    @property
    def project(self) -> str:
        """The distribution name in uv.lock."""
        return f"switchyard-{self.name}"

    @property
    def directory(self) -> Path:
        return SERVICES_DIR / self.name

    @property
    def template(self) -> Path:
        return TEMPLATES_DIR / f"service-{self.name}.yaml"

    def stack_name(self, stage: str) -> str:
        return f"switchyard-{stage}-{self.name}"


SERVICES: dict[str, Service] = {
    service.name: service
    for service in (
        Service("user-api", (Function("user-api", "user_api.handler.handler"),)),
        Service("router", (Function("router", "router.handler.handler"),)),
        Service(
            "connectors",
            (
                Function("connector-dynamodb", "connectors.handlers.dynamodb_handler"),
                Function("connector-webhook", "connectors.handlers.webhook_handler"),
            ),
        ),
        Service(
            "dlq-processor",
            (Function("dlq-processor", "dlq_processor.handler.handler"),),
        ),
    )
}


def get_service(name: str) -> Service:
    """The service called name; InfraError naming the known ones otherwise."""
    try:
        return SERVICES[name]
    except KeyError:
        known = ", ".join(sorted(SERVICES))
        raise InfraError(f"unknown service {name!r}; choose one of: {known}") from None
