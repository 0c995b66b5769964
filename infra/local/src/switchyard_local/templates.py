"""Read service templates as standard CloudFormation, without deploying them.

moto stores Lambda functions but never runs them, and a Kinesis mapping in
moto makes every PutRecord try Docker. So the local runtime reads functions,
event source mappings and event invoke configs straight from the templates
that deploy to AWS, resolving their intrinsic functions against the
parameters and the shared stack's exports with the repo's one resolver
(switchyard_infra.intrinsics). One source of truth: the template says what
runs.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from switchyard_infra import intrinsics
from switchyard_infra.errors import TemplateError as InfraTemplateError
from switchyard_infra.templates import load_template as load_template
from switchyard_local.errors import TemplateError
from switchyard_local.moto_server import ACCOUNT_ID, REGION

NO_VALUE = intrinsics.NO_VALUE


def lambda_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


@dataclass
class Resolver:
    """Resolves the intrinsic functions of one template, as deployed locally.

    ``physical`` maps a logical id to what its ``Ref`` and attributes give
    (``{"Ref": ..., "Arn": ...}``); it is read at each use, so resources
    named later still resolve. The evaluation is switchyard_infra's; its
    errors are raised as this package's TemplateError.
    """

    template: dict[str, Any]
    parameters: dict[str, str] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)
    stack_name: str = "local"
    physical: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        declared = self.template.get("Parameters") or {}
        values: dict[str, Any] = {}
        for name, spec in declared.items():
            if name in self.parameters:
                values[name] = self.parameters[name]
            elif "Default" in spec:
                values[name] = spec["Default"]
        self.values = values
        self._pseudo = intrinsics.pseudo_parameters(REGION, ACCOUNT_ID, self.stack_name)
        declared_conditions = self.template.get("Conditions") or {}
        self._engine = intrinsics.Resolver(
            self.ref,
            self.get_att,
            self.import_value,
            declared_conditions,
            self.template.get("Mappings"),
        )
        self.conditions: dict[str, bool] = {
            name: self._translated(self._engine.condition, name)
            for name in declared_conditions
        }

    def pseudo(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name not in self._pseudo:
            raise TemplateError(f"pseudo parameter {name!r} is not known locally")
        return self._pseudo[name]

    def ref(self, name: str) -> Any:
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.values:
            return self.values[name]
        if name in self.physical:
            return self.physical[name]["Ref"]
        raise TemplateError(
            f"Ref {name!r} names no parameter or known resource; pass it as a "
            "parameter or deploy the resource first"
        )

    def get_att(self, logical_id: str, attribute: str) -> Any:
        attributes = self.physical.get(logical_id, {})
        if attribute in attributes:
            return attributes[attribute]
        raise TemplateError(
            f"Fn::GetAtt {logical_id}.{attribute} is not known to the local runtime"
        )

    def import_value(self, name: str) -> Any:
        if name not in self.exports:
            raise TemplateError(
                f"Fn::ImportValue {name!r}: no such export; deploy the shared "
                "stack of the same stage first"
            )
        return self.exports[name]

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function replaced by its result."""
        return self._translated(self._engine.resolve, value)

    @staticmethod
    def _translated(function: Callable[[Any], Any], argument: Any) -> Any:
        try:
            return function(argument)
        except InfraTemplateError as exc:
            raise TemplateError(str(exc)) from exc


@dataclass
class FunctionSpec:
    """One ``AWS::Lambda::Function`` as the local runner needs it."""

    logical_id: str
    name: str
    handler: str
    environment: dict[str, str]
    timeout: int = 3
    memory_mb: int = 128

    @property
    def arn(self) -> str:
        return lambda_arn(self.name)


@dataclass
class EventSourceMappingSpec:
    """One ``AWS::Lambda::EventSourceMapping``, properties as the template says."""

    logical_id: str
    function_name: str
    event_source_arn: str
    properties: dict[str, Any]

    @property
    def kind(self) -> str:
        service = self.event_source_arn.split(":")[2]
        return {"kinesis": "kinesis", "sqs": "sqs"}.get(service, service)


@dataclass
class InvokeConfigSpec:
    """One ``AWS::Lambda::EventInvokeConfig``."""

    function_name: str
    maximum_retry_attempts: int = 2
    maximum_event_age_seconds: int = 21600
    on_success: str | None = None
    on_failure: str | None = None


@dataclass
class ServiceSpec:
    functions: list[FunctionSpec] = field(default_factory=list)
    mappings: list[EventSourceMappingSpec] = field(default_factory=list)
    invoke_configs: list[InvokeConfigSpec] = field(default_factory=list)
    other_resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    exports: dict[str, str] = field(default_factory=dict)
    reserved_concurrency: dict[str, int] = field(default_factory=dict)


_IGNORED_TYPES = {
    "AWS::Lambda::Permission",
    "AWS::Lambda::Version",
    "AWS::Lambda::Alias",
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::CloudWatch::Alarm",
}


def read_service(
    template: dict[str, Any],
    parameters: dict[str, str] | None = None,
    exports: dict[str, str] | None = None,
    stack_name: str = "local",
    physical: dict[str, dict[str, str]] | None = None,
) -> ServiceSpec:
    """Functions, mappings and invoke configs of one service template."""
    resources = template.get("Resources") or {}
    known = dict(physical or {})
    for logical_id, resource in resources.items():
        properties = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Lambda::Function":
            name = properties.get("FunctionName") or f"{stack_name}-{logical_id}"
            known.setdefault(logical_id, {"Ref": name, "Arn": name})
        elif resource.get("Type") in _IGNORED_TYPES:
            arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{logical_id}"
            known.setdefault(logical_id, {"Ref": logical_id, "Arn": arn})
    resolver = Resolver(template, parameters or {}, exports or {}, stack_name, known)
    for logical_id, resource in resources.items():
        if resource.get("Type") == "AWS::Lambda::Function":
            given = (resource.get("Properties") or {}).get("FunctionName")
            name = resolver.resolve(given) if given else f"{stack_name}-{logical_id}"
            known[logical_id] = {"Ref": name, "Arn": lambda_arn(name)}

    spec = ServiceSpec()
    for logical_id, resource in resources.items():
        if "Condition" in resource and not resolver.conditions.get(
            resource["Condition"], False
        ):
            continue
        kind = resource.get("Type")
        if kind in _IGNORED_TYPES:
            continue
        if kind not in (
            "AWS::Lambda::Function",
            "AWS::Lambda::EventSourceMapping",
            "AWS::Lambda::EventInvokeConfig",
        ):
            spec.other_resources[logical_id] = resource
            continue
        properties = resolver.resolve(resource.get("Properties") or {})
        if kind == "AWS::Lambda::Function":
            variables = (properties.get("Environment") or {}).get("Variables") or {}
            spec.functions.append(
                FunctionSpec(
                    logical_id=logical_id,
                    name=known[logical_id]["Ref"],
                    handler=properties["Handler"],
                    environment={k: _env_text(v) for k, v in variables.items()},
                    timeout=int(properties.get("Timeout", 3)),
                    memory_mb=int(properties.get("MemorySize", 128)),
                )
            )
            if "ReservedConcurrentExecutions" in properties:
                spec.reserved_concurrency[known[logical_id]["Ref"]] = int(
                    properties["ReservedConcurrentExecutions"]
                )
        elif kind == "AWS::Lambda::EventSourceMapping":
            spec.mappings.append(
                EventSourceMappingSpec(
                    logical_id=logical_id,
                    function_name=function_name(properties["FunctionName"]),
                    event_source_arn=properties["EventSourceArn"],
                    properties=properties,
                )
            )
        else:
            destinations = properties.get("DestinationConfig") or {}
            spec.invoke_configs.append(
                InvokeConfigSpec(
                    function_name=function_name(properties["FunctionName"]),
                    maximum_retry_attempts=int(
                        properties.get("MaximumRetryAttempts", 2)
                    ),
                    maximum_event_age_seconds=int(
                        properties.get("MaximumEventAgeInSeconds", 21600)
                    ),
                    on_success=(destinations.get("OnSuccess") or {}).get("Destination"),
                    on_failure=(destinations.get("OnFailure") or {}).get("Destination"),
                )
            )
    spec.exports = _exports(template, resolver)
    return spec


def _exports(template: dict[str, Any], resolver: Resolver) -> dict[str, str]:
    """The template's exports that name functions, as a deployed stack's would."""
    exports = {}
    for output in (template.get("Outputs") or {}).values():
        if "Export" not in output:
            continue
        try:
            name = resolver.resolve(output["Export"]["Name"])
            exports[str(name)] = str(resolver.resolve(output["Value"]))
        except TemplateError:
            continue
    return exports


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def function_name(name_or_arn: str) -> str:
    """The bare function name from a name, a full ARN or a partial ARN."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6]
    if ":function:" in name_or_arn:
        return name_or_arn.split(":function:", 1)[1].split(":")[0]
    return name_or_arn.split(":")[0]
