"""Read service templates as standard CloudFormation, without deploying them.

moto stores Lambda functions but never runs them, and a Kinesis mapping in
moto makes every PutRecord try Docker. So the local runtime reads functions,
event source mappings and event invoke configs straight from the templates
that deploy to AWS, resolving the intrinsic functions those templates use
(``Ref``, ``Fn::Sub``, ``Fn::GetAtt``, ``Fn::ImportValue``, ``Fn::Join``,
``Fn::Select``, ``Fn::Split``, ``Fn::If``) against the parameters and the shared
stack's exports. One source of truth: the template says what runs.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from switchyard_local.errors import TemplateError
from switchyard_local.moto_server import ACCOUNT_ID, REGION

NO_VALUE = object()
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def load_template(path: str | Path) -> dict[str, Any]:
    """A template file as plain dicts, short-form tags expanded (``!Sub``)."""
    from cfn_tools import load_yaml

    text = Path(path).read_text(encoding="utf-8")
    try:
        return _plain(load_yaml(text))
    except Exception as exc:
        raise TemplateError(f"cannot parse template {path}: {exc}") from exc


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def lambda_arn(name: str) -> str:
    if name.startswith("arn:"):
        return name
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


@dataclass
class Resolver:
    """Resolves intrinsic functions of one template."""

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
        self.conditions: dict[str, bool] = {}
        for name, condition in (self.template.get("Conditions") or {}).items():
            self.conditions[name] = bool(self.resolve(condition))

    def pseudo(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": self.stack_name,
            "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/"
            f"{self.stack_name}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": NO_VALUE,
        }
        return pseudo[name]

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

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function replaced by its result."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Condition":
                return self.conditions.get(arg, False)
            if key.startswith("Fn::"):
                return self._function(key, arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            return self.get_att(parts[0], self.resolve(parts[1]))
        if key == "Fn::ImportValue":
            name = self.resolve(arg)
            if name not in self.exports:
                raise TemplateError(
                    f"Fn::ImportValue {name!r}: no such export; deploy the shared "
                    "stack of the same stage first"
                )
            return self.exports[name]
        if key == "Fn::Join":
            separator, items = arg
            return str(separator).join(str(v) for v in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if key == "Fn::Split":
            separator, text = self.resolve(arg)
            return str(text).split(separator)
        if key == "Fn::If":
            name, when_true, when_false = arg
            chosen = when_true if self.conditions.get(name) else when_false
            return self.resolve(chosen)
        if key == "Fn::Equals":
            left, right = self.resolve(arg)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not self.resolve(arg[0])
        if key == "Fn::And":
            return all(self.resolve(v) for v in arg)
        if key == "Fn::Or":
            return any(self.resolve(v) for v in arg)
        if key == "Fn::FindInMap":
            name, top, second = self.resolve(arg)
            return self.template["Mappings"][name][top][second]
        raise TemplateError(f"intrinsic function {key} is not supported locally")

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            text, variables = arg[0], self.resolve(arg[1])
        else:
            text, variables = arg, {}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")


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
