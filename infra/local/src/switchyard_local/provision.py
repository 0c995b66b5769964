"""Deploy a CloudFormation template into the moto server, filling moto's gaps.

One source of truth: the local system is created from the same templates as
production. moto's CloudFormation skips some resource types and ignores some
properties (see DESIGN.md); this module applies those from the template's own
properties, through the service APIs, so the result matches the template:

- Cognito pools, clients, groups, domains and identity providers are created
  before the stack, and every reference to them is replaced by its value, so
  outputs and exports that name them survive.
- S3 versioning, DynamoDB TTL and Lambda dead-letter configs are applied after
  the stack.
- Event invoke configs are put through the Lambda API after the stack.
- Event source mappings are kept out of moto (moto would try to run the
  function in Docker on every PutRecord) and returned, resolved, for the local
  runtime's pollers to run.
- Types moto does not know at all (CloudFront) are returned, resolved where
  possible, and not applied.
"""

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from switchyard_infra.intrinsics import (
    Resolver,
    UnresolvedError,
    pseudo_parameters,
    references,
    substitute_known,
)
from switchyard_infra.templates import load_template
from switchyard_local.moto_server import ACCOUNT_ID, REGION

COGNITO_TYPES = (
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolIdentityProvider",
)
AFTER_STACK_TYPES = (
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::EventSourceMapping",
)
NOT_APPLIED_TYPES = (
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::S3::BucketPolicy",
)


class ProvisionError(RuntimeError):
    """A template could not be deployed into the local AWS."""


@dataclass
class Deployment:
    """What a template produced locally."""

    stack_name: str
    outputs: dict[str, str]
    physical_ids: dict[str, str]
    event_source_mappings: dict[str, dict[str, Any]] = field(default_factory=dict)
    event_invoke_configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_applied: dict[str, str] = field(default_factory=dict)


class _Provisioner:
    def __init__(
        self,
        template: dict[str, Any],
        stack_name: str,
        parameters: Mapping[str, str],
        endpoint_url: str,
        region: str,
    ) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.session = boto3.session.Session(region_name=region)
        self.endpoint_url = endpoint_url
        self.params = self._parameters(parameters)
        self.pseudo = pseudo_parameters(region, ACCOUNT_ID, stack_name)
        self.conditions = self._conditions()
        self.cognito_refs: dict[str, Any] = {}
        self.cognito_atts: dict[tuple[str, str], Any] = {}
        self.physical_ids: dict[str, str] = {}

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    def _parameters(self, given: Mapping[str, str]) -> dict[str, str]:
        declared = self.template.get("Parameters", {})
        unknown = set(given) - set(declared)
        if unknown:
            raise ProvisionError(
                f"{self.stack_name}: unknown parameters {sorted(unknown)}"
            )
        values: dict[str, str] = {}
        for name, spec in declared.items():
            if name in given:
                values[name] = str(given[name])
            elif "Default" in spec:
                values[name] = str(spec["Default"])
            else:
                raise ProvisionError(
                    f"{self.stack_name}: parameter {name!r} has no value and no default"
                )
        return values

    def _conditions(self) -> dict[str, bool]:
        declared = self.template.get("Conditions", {})
        resolver = Resolver({**self.params, **self.pseudo}, conditions=declared)
        resolved: dict[str, bool] = {}
        for name in declared:
            try:
                resolved[name] = resolver.condition(name)
            except UnresolvedError:
                continue
        pending = set(declared) - set(resolved)
        if pending:
            raise ProvisionError(f"unresolvable conditions {sorted(pending)}")
        return resolved

    def resources(self) -> dict[str, dict[str, Any]]:
        return {
            logical_id: spec
            for logical_id, spec in self.template.get("Resources", {}).items()
            if self.conditions.get(spec.get("Condition", ""), True)
        }

    def exports(self, name: str) -> str:
        cfn = self.client("cloudformation")
        for page in cfn.get_paginator("list_exports").paginate():
            for export in page.get("Exports", []):
                if export["Name"] == name:
                    return str(export["Value"])
        raise UnresolvedError(f"no export named {name!r}; deploy its stack first")

    # Cognito, before the stack.

    def create_cognito(self) -> None:
        cognito = [
            (lid, spec)
            for lid, spec in self.resources().items()
            if spec["Type"] in COGNITO_TYPES
        ]
        cognito.sort(key=lambda item: COGNITO_TYPES.index(item[1]["Type"]))
        idp = self.client("cognito-idp")
        for logical_id, spec in cognito:
            resolver = Resolver(
                {**self.params, **self.pseudo, **self.cognito_refs},
                self.cognito_atts,
                self.exports,
                self.conditions,
            )
            props = resolver.resolve(spec.get("Properties", {}))
            self._create_cognito_resource(idp, logical_id, spec["Type"], props)

    def _create_cognito_resource(
        self, idp: Any, logical_id: str, kind: str, props: dict[str, Any]
    ) -> None:
        if kind == "AWS::Cognito::UserPool":
            props["PoolName"] = props.pop("UserPoolName", logical_id)
            pool = idp.create_user_pool(**props)["UserPool"]
            self.cognito_refs[logical_id] = pool["Id"]
            self.cognito_atts[(logical_id, "Arn")] = pool["Arn"]
            self.cognito_atts[(logical_id, "ProviderName")] = (
                f"cognito-idp.{self.region}.amazonaws.com/{pool['Id']}"
            )
            self.cognito_atts[(logical_id, "ProviderURL")] = (
                f"https://cognito-idp.{self.region}.amazonaws.com/{pool['Id']}"
            )
        elif kind == "AWS::Cognito::UserPoolClient":
            client = idp.create_user_pool_client(**props)["UserPoolClient"]
            self.cognito_refs[logical_id] = client["ClientId"]
            self.cognito_atts[(logical_id, "ClientSecret")] = client.get(
                "ClientSecret", ""
            )
        elif kind == "AWS::Cognito::UserPoolGroup":
            idp.create_group(**props)
            self.cognito_refs[logical_id] = props["GroupName"]
        elif kind == "AWS::Cognito::UserPoolDomain":
            idp.create_user_pool_domain(
                **{k: v for k, v in props.items() if k != "ManagedLoginVersion"}
            )
            self.cognito_refs[logical_id] = props["Domain"]
        elif kind == "AWS::Cognito::UserPoolIdentityProvider":
            idp.create_identity_provider(**props)
            self.cognito_refs[logical_id] = props["ProviderName"]

    # The stack itself.

    def stack_template(self) -> dict[str, Any]:
        """The template moto gets: skipped types out, Cognito values in."""
        known = dict(self.cognito_refs), dict(self.cognito_atts)
        skipped = {
            lid
            for lid, spec in self.template.get("Resources", {}).items()
            if spec["Type"] in (*COGNITO_TYPES, *AFTER_STACK_TYPES, *NOT_APPLIED_TYPES)
        }
        body = dict(self.template)
        body.pop("Transform", None)
        body["Resources"] = {
            lid: substitute_known(spec, *known)
            for lid, spec in self.template.get("Resources", {}).items()
            if lid not in skipped
        }
        for spec in body["Resources"].values():
            _fill_what_moto_requires(spec)
        body["Outputs"] = {
            name: substitute_known(spec, *known)
            for name, spec in self.template.get("Outputs", {}).items()
            if not (references(spec) & (skipped - set(self.cognito_refs)))
        }
        if not body["Outputs"]:
            body.pop("Outputs")
        if not body["Resources"]:
            # CloudFormation refuses an empty stack; keep one harmless resource.
            body["Resources"] = {
                "LocalPlaceholder": {
                    "Type": "AWS::SSM::Parameter",
                    "Properties": {
                        "Name": f"/switchyard/local/{self.stack_name}",
                        "Type": "String",
                        "Value": "placeholder",
                    },
                }
            }
        return body

    def create_stack(self) -> dict[str, str]:
        cfn = self.client("cloudformation")
        body = json.dumps(self.stack_template())
        params = [
            {"ParameterKey": k, "ParameterValue": v} for k, v in self.params.items()
        ]
        try:
            cfn.describe_stacks(StackName=self.stack_name)
            exists = True
        except ClientError:
            exists = False
        try:
            if exists:
                try:
                    cfn.update_stack(
                        StackName=self.stack_name,
                        TemplateBody=body,
                        Parameters=params,
                        Capabilities=["CAPABILITY_NAMED_IAM"],
                    )
                except ClientError as exc:
                    if "No updates" not in str(exc):
                        raise
            else:
                cfn.create_stack(
                    StackName=self.stack_name,
                    TemplateBody=body,
                    Parameters=params,
                    Capabilities=["CAPABILITY_NAMED_IAM"],
                )
        except ClientError as exc:
            raise ProvisionError(
                f"CloudFormation refused stack {self.stack_name!r}: {exc}"
            ) from exc
        stack = self._wait(cfn)
        for page in cfn.get_paginator("list_stack_resources").paginate(
            StackName=self.stack_name
        ):
            for res in page["StackResourceSummaries"]:
                self.physical_ids[res["LogicalResourceId"]] = res["PhysicalResourceId"]
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def _wait(self, cfn: Any, timeout: float = 120.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            stack = cfn.describe_stacks(StackName=self.stack_name)["Stacks"][0]
            status = stack["StackStatus"]
            if status.endswith("_COMPLETE") and "ROLLBACK" not in status:
                return dict(stack)
            if status.endswith("FAILED") or "ROLLBACK" in status:
                reason = stack.get("StackStatusReason", "")
                raise ProvisionError(
                    f"stack {self.stack_name!r} ended {status}: {reason}"
                )
            if time.monotonic() > deadline:
                raise ProvisionError(f"stack {self.stack_name!r} still {status}")
            time.sleep(0.2)

    # After the stack.

    def after_resolver(self) -> Resolver:
        refs = {**self.params, **self.pseudo, **self.cognito_refs, **self.physical_ids}
        return Resolver(refs, self._attribute, self.exports, self.conditions)

    def _attribute(self, logical_id: str, attribute: str) -> Any:
        if (logical_id, attribute) in self.cognito_atts:
            return self.cognito_atts[(logical_id, attribute)]
        spec = self.template["Resources"].get(logical_id)
        physical = self.physical_ids.get(logical_id)
        if spec is None or physical is None:
            raise UnresolvedError(f"Fn::GetAtt {logical_id}.{attribute}: not created")
        kind = spec["Type"]
        arn = f"arn:aws:{{}}:{self.region}:{ACCOUNT_ID}:{{}}"
        if attribute == "Arn":
            if kind == "AWS::Lambda::Function":
                return arn.format("lambda", f"function:{physical}")
            if kind == "AWS::SQS::Queue":
                return arn.format("sqs", physical.rstrip("/").rsplit("/", 1)[-1])
            if kind == "AWS::Kinesis::Stream":
                return arn.format("kinesis", f"stream/{physical}")
            if kind == "AWS::DynamoDB::Table":
                return arn.format("dynamodb", f"table/{physical}")
            if kind == "AWS::SNS::Topic":
                return physical
            if kind == "AWS::IAM::Role":
                return f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}"
            if kind == "AWS::S3::Bucket":
                return f"arn:aws:s3:::{physical}"
        if kind == "AWS::SQS::Queue" and attribute == "QueueName":
            return physical.rstrip("/").rsplit("/", 1)[-1]
        raise UnresolvedError(f"Fn::GetAtt {logical_id}.{attribute} is not supported")

    def apply_ignored_properties(self) -> None:
        resolver = self.after_resolver()
        for logical_id, spec in self.resources().items():
            props = spec.get("Properties", {})
            physical = self.physical_ids.get(logical_id)
            if physical is None:
                continue
            kind = spec["Type"]
            if kind == "AWS::S3::Bucket" and "VersioningConfiguration" in props:
                status = resolver.resolve(props["VersioningConfiguration"])["Status"]
                self.client("s3").put_bucket_versioning(
                    Bucket=physical, VersioningConfiguration={"Status": status}
                )
            elif kind == "AWS::DynamoDB::Table" and "TimeToLiveSpecification" in props:
                ttl = resolver.resolve(props["TimeToLiveSpecification"])
                self.client("dynamodb").update_time_to_live(
                    TableName=physical,
                    TimeToLiveSpecification={
                        "AttributeName": ttl["AttributeName"],
                        "Enabled": bool(ttl.get("Enabled", True)),
                    },
                )
            elif kind == "AWS::Lambda::Function" and "DeadLetterConfig" in props:
                self.client("lambda").update_function_configuration(
                    FunctionName=physical,
                    DeadLetterConfig=resolver.resolve(props["DeadLetterConfig"]),
                )

    def after_stack(self, deployment: Deployment) -> None:
        resolver = self.after_resolver()
        for logical_id, spec in self.resources().items():
            kind = spec["Type"]
            if kind not in (*AFTER_STACK_TYPES, *NOT_APPLIED_TYPES):
                continue
            try:
                props = resolver.resolve(spec.get("Properties", {}))
            except UnresolvedError as exc:
                deployment.not_applied[logical_id] = f"{kind}: {exc}"
                continue
            if kind == "AWS::Lambda::EventInvokeConfig":
                self._put_event_invoke_config(props)
                deployment.event_invoke_configs[logical_id] = props
            elif kind == "AWS::Lambda::EventSourceMapping":
                deployment.event_source_mappings[logical_id] = props
            else:
                deployment.not_applied[logical_id] = f"{kind}: not emulated locally"

    def _put_event_invoke_config(self, props: dict[str, Any]) -> None:
        args: dict[str, Any] = {"FunctionName": props["FunctionName"]}
        if props.get("Qualifier") and props["Qualifier"] != "$LATEST":
            args["Qualifier"] = props["Qualifier"]
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in props:
                args[key] = int(props[key])
        if "DestinationConfig" in props:
            args["DestinationConfig"] = props["DestinationConfig"]
        self.client("lambda").put_function_event_invoke_config(**args)


def _fill_what_moto_requires(spec: dict[str, Any]) -> None:
    """Add fields that moto's CloudFormation reads although AWS does not need.

    moto builds every API Gateway method integration from its
    ``IntegrationHttpMethod`` and ``Uri``; a ``MOCK`` integration has neither
    (AWS's documentation says to leave them out), and moto fails on it.
    """
    if spec.get("Type") != "AWS::ApiGateway::Method":
        return
    integration = spec.get("Properties", {}).get("Integration")
    if isinstance(integration, dict) and integration.get("Type") == "MOCK":
        integration.setdefault("IntegrationHttpMethod", "POST")
        integration.setdefault("Uri", "")


def deploy_stack(
    template_path: Path | str,
    stack_name: str,
    parameters: Mapping[str, str] | None = None,
    *,
    endpoint_url: str,
    region: str = REGION,
) -> Deployment:
    """Deploy one template into the local AWS and apply what moto skips."""
    provisioner = _Provisioner(
        load_template(template_path),
        stack_name,
        parameters or {},
        endpoint_url,
        region,
    )
    try:
        provisioner.create_cognito()
        outputs = provisioner.create_stack()
        provisioner.apply_ignored_properties()
    except ClientError as exc:
        raise ProvisionError(f"deploying {stack_name!r} failed: {exc}") from exc
    deployment = Deployment(stack_name, outputs, dict(provisioner.physical_ids))
    for logical_id, value in provisioner.cognito_refs.items():
        deployment.physical_ids[logical_id] = value
    provisioner.after_stack(deployment)
    return deployment
