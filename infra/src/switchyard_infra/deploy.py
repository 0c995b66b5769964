"""Deploy one Switchyard target to AWS, or to the local system.

Targets, each its own stack ``switchyard-<stage>-<target>``:

- ``shared``: infra/templates/shared.yaml (tables, stream, buckets, queues,
  topic, user pool). Deploy it first.
- ``user-api``, ``router``, ``connectors``, ``dlq-processor``: build the
  service's zip, upload it to the artifact bucket, deploy its template.
- ``api``: the generated REST API (after ``user-api``).
- ``site``: the site stack, then the site's files and config.json, then a
  CloudFront invalidation.
- ``console-static``: the console's collectstatic into the site bucket
  (``static/``), served by the site's distribution.
- ``console-env``: prints the environment that runs the console against the
  stage (no change is made).

Credentials and region come from the standard AWS chain. ``--endpoint-url``
points every client at another endpoint (the local moto server). There,
shared, api and site go through ``switchyard_local.provision``, because moto's
CloudFormation skips Cognito and CloudFront and cannot build API Gateway
integrations from a template; services use the same change-set path as AWS.
Where a CloudFormation endpoint leaves out an event invoke config (moto does),
the deploy applies it through the Lambda API after the stack and says so.
"""

import argparse
import os
import secrets
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from switchyard_infra import api_template, site_publish
from switchyard_infra.build import build_service, describe
from switchyard_infra.errors import DeployError, InfraError
from switchyard_infra.intrinsics import Resolver, pseudo_parameters
from switchyard_infra.paths import REPO_ROOT, SITE_DIR, TEMPLATES_DIR
from switchyard_infra.services import SERVICES, get_service
from switchyard_infra.stacks import StackDeployer
from switchyard_infra.templates import load_template

Report = Callable[[str], None]
TARGETS = ("shared", *SERVICES, "api", "site", "console-static", "console-env")
# Deployed through switchyard_local.provision when the endpoint is local.
LOCALLY_PROVISIONED = ("shared", "api", "site")
# shared.yaml's default SiteOrigin: where the local runtime serves the site.
LOCAL_SITE_URL = "http://localhost:8000"


@dataclass
class Context:
    """Where and how a deploy runs."""

    stage: str = "dev"
    region: str | None = None
    endpoint_url: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    artifact_bucket: str | None = None
    allow_mapping_replacement: bool = False
    poll_seconds: float = 5.0
    report: Report = print

    def __post_init__(self) -> None:
        self.session = boto3.session.Session(region_name=self.region)
        if self.session.region_name is None:
            raise DeployError(
                "no AWS region: pass --region or set AWS_REGION / a profile region"
            )
        self.region = self.session.region_name
        self.deployer = StackDeployer(
            self.client("cloudformation"),
            self.report,
            self.poll_seconds,
            create_with_change_set=self.endpoint_url is None,
        )

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.endpoint_url)

    def stack_name(self, target: str) -> str:
        return f"switchyard-{self.stage}-{target}"

    def outputs(self, target: str) -> dict[str, str]:
        return self.deployer.outputs(self.stack_name(target))


def _deploy_template(
    ctx: Context, target: str, template: Path, parameters: Mapping[str, str]
) -> dict[str, str]:
    params = {"Stage": ctx.stage, **parameters, **ctx.parameters}
    if ctx.endpoint_url and target in LOCALLY_PROVISIONED:
        return _provision_locally(ctx, target, template, params)
    return ctx.deployer.deploy(
        ctx.stack_name(target),
        template.read_text(encoding="utf-8"),
        params,
        allow_replacing=ctx.allow_mapping_replacement,
    )


def _provision_locally(
    ctx: Context, target: str, template: Path, params: Mapping[str, str]
) -> dict[str, str]:
    try:
        from switchyard_local.provision import ProvisionError, deploy_stack
    except ImportError as exc:
        raise DeployError(
            f"deploying {target} to {ctx.endpoint_url} needs switchyard_local "
            "(infra/local), which fills moto's gaps; install the workspace"
        ) from exc
    ctx.report(
        f"{ctx.stack_name(target)}: local endpoint, deploying through "
        "switchyard_local.provision"
    )
    try:
        deployment = deploy_stack(
            template,
            ctx.stack_name(target),
            params,
            endpoint_url=str(ctx.endpoint_url),
            region=str(ctx.region),
        )
    except ProvisionError as exc:
        raise DeployError(str(exc)) from exc
    except Exception as exc:
        # Another package's failure (moto answering 500, an unresolvable
        # value): report it as this target's, with its type, and stop.
        raise DeployError(
            f"local provisioning of {ctx.stack_name(target)} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    for logical_id, reason in sorted(deployment.not_applied.items()):
        ctx.report(f"  not applied locally: {logical_id} ({reason})")
    for key, value in sorted(deployment.outputs.items()):
        ctx.report(f"  output {key} = {value}")
    return dict(deployment.outputs)


def deploy_shared(ctx: Context) -> dict[str, str]:
    site_url = ctx.outputs("site").get("SiteUrl")
    extra = {"SiteOrigin": site_url} if site_url else {}
    return _deploy_template(ctx, "shared", TEMPLATES_DIR / "shared.yaml", extra)


def artifact_bucket(ctx: Context) -> str:
    """The artifact bucket, created (private, encrypted) if missing."""
    s3 = ctx.client("s3")
    name = ctx.artifact_bucket
    if name is None:
        account = ctx.client("sts").get_caller_identity()["Account"]
        name = f"switchyard-{ctx.stage}-artifacts-{account}"
    try:
        s3.head_bucket(Bucket=name)
        return name
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise DeployError(f"HeadBucket {name} failed: {exc}") from exc
    ctx.report(f"creating artifact bucket {name}")
    try:
        args: dict[str, Any] = {"Bucket": name}
        if ctx.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        s3.create_bucket(**args)
        s3.put_public_access_block(
            Bucket=name,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        )
    except ClientError as exc:
        raise DeployError(f"creating artifact bucket {name} failed: {exc}") from exc
    return name


def upload_artifact(ctx: Context, service: str, path: Path) -> tuple[str, str]:
    """Upload a built zip unless the same name is already there."""
    bucket = artifact_bucket(ctx)
    key = f"services/{service}/{path.name}"
    s3 = ctx.client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key)
        ctx.report(f"artifact s3://{bucket}/{key} already uploaded")
        return bucket, key
    except ClientError:
        pass
    try:
        s3.upload_file(str(path), bucket, key)
    except (ClientError, BotoCoreError) as exc:
        raise DeployError(
            f"uploading {path} to s3://{bucket}/{key} failed: {exc}"
        ) from exc
    ctx.report(f"uploaded {describe(path)} to s3://{bucket}/{key}")
    return bucket, key


def deploy_service(
    ctx: Context, name: str, artifact: Path | None = None
) -> dict[str, str]:
    service = get_service(name)
    path = artifact or build_service(name)
    ctx.report(f"{name}: package {describe(path)}")
    bucket, key = upload_artifact(ctx, name, path)
    params = {"ArtifactBucket": bucket, "ArtifactKey": key}
    if name == "user-api":
        site_url = ctx.outputs("site").get("SiteUrl")
        if site_url:
            params["CorsAllowedOrigins"] = site_url
    outputs = _deploy_template(ctx, name, service.template, params)
    apply_event_invoke_configs(ctx, ctx.stack_name(name), service.template)
    return outputs


def _stack_resolver(
    ctx: Context, stack_name: str, template: dict[str, Any]
) -> Resolver:
    cfn = ctx.client("cloudformation")
    stack = ctx.deployer.stack(stack_name) or {}
    refs: dict[str, Any] = {
        p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue"))
        for p in stack.get("Parameters", [])
    }
    account = ctx.client("sts").get_caller_identity()["Account"]
    refs.update(
        pseudo_parameters(str(ctx.region), account, stack_name, stack.get("StackId"))
    )
    arns: dict[tuple[str, str], str] = {}
    for page in cfn.get_paginator("list_stack_resources").paginate(
        StackName=stack_name
    ):
        for resource in page["StackResourceSummaries"]:
            refs[resource["LogicalResourceId"]] = resource["PhysicalResourceId"]
            if resource["ResourceType"] == "AWS::Lambda::Function":
                arns[(resource["LogicalResourceId"], "Arn")] = (
                    f"arn:aws:lambda:{ctx.region}:{account}:function:"
                    f"{resource['PhysicalResourceId']}"
                )
    exports: dict[str, str] = {}
    for page in cfn.get_paginator("list_exports").paginate():
        for export in page.get("Exports", []):
            exports[export["Name"]] = export["Value"]

    def lookup(name: str) -> str:
        if name not in exports:
            raise DeployError(f"no export named {name}; deploy the shared stack first")
        return exports[name]

    return Resolver(
        refs, arns, lookup, template.get("Conditions", {}), template.get("Mappings")
    )


def apply_event_invoke_configs(
    ctx: Context, stack_name: str, template_path: Path
) -> None:
    """Put each template EventInvokeConfig the stack did not create.

    AWS creates them with the stack; moto's CloudFormation skips the type.
    Either way the function ends up configured as the template says.
    """
    template = load_template(template_path)
    configs = {
        lid: spec
        for lid, spec in template["Resources"].items()
        if spec["Type"] == "AWS::Lambda::EventInvokeConfig"
    }
    if not configs:
        return
    resolver = _stack_resolver(ctx, stack_name, template)
    lam = ctx.client("lambda")
    for logical_id, spec in sorted(configs.items()):
        if "Condition" in spec and not resolver.condition(spec["Condition"]):
            continue
        props = resolver.resolve(spec["Properties"])
        wanted: dict[str, Any] = {"FunctionName": props["FunctionName"]}
        if props.get("Qualifier", "$LATEST") != "$LATEST":
            wanted["Qualifier"] = props["Qualifier"]
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key in props:
                wanted[key] = int(props[key])
        if "DestinationConfig" in props:
            wanted["DestinationConfig"] = props["DestinationConfig"]
        if event_invoke_config_matches(lam, wanted):
            continue
        try:
            lam.put_function_event_invoke_config(**wanted)
        except ClientError as exc:
            raise DeployError(
                f"PutFunctionEventInvokeConfig for {wanted['FunctionName']} "
                f"({logical_id}) failed: {exc}"
            ) from exc
        ctx.report(
            f"{stack_name}: applied {logical_id} through the Lambda API "
            "(the CloudFormation endpoint did not create it)"
        )


def event_invoke_config_matches(lam: Any, wanted: Mapping[str, Any]) -> bool:
    """Whether the function already has the wanted event invoke config."""
    query = {k: wanted[k] for k in ("FunctionName", "Qualifier") if k in wanted}
    try:
        current = lam.get_function_event_invoke_config(**query)
    except ClientError:
        return False
    return all(
        _without_empty(current.get(key)) == _without_empty(value)
        for key, value in wanted.items()
        if key not in ("FunctionName", "Qualifier")
    )


def _without_empty(value: Any) -> Any:
    """value without empty mappings: AWS answers OnSuccess: {} when unset."""
    if isinstance(value, dict):
        cleaned = {k: _without_empty(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v != {}}
    return value


def deploy_api(ctx: Context) -> dict[str, str]:
    openapi = api_template.find_openapi()
    expected = api_template.render_text(openapi)
    if api_template.API_TEMPLATE.read_text(encoding="utf-8") != expected:
        raise DeployError(
            f"{api_template.API_TEMPLATE} is out of date with "
            f"{openapi or 'its placeholder'}; run "
            "python -m switchyard_infra.api_template and commit the result"
        )
    site_url = ctx.outputs("site").get("SiteUrl")
    extra = {"SiteOrigin": site_url} if site_url else {}
    return _deploy_template(ctx, "api", api_template.API_TEMPLATE, extra)


def deploy_site(ctx: Context, site_dir: Path = SITE_DIR) -> dict[str, str]:
    extra = {}
    if ctx.endpoint_url and "SiteUrl" not in ctx.parameters:
        # No CloudFront locally: the hosted-UI client's callback needs the
        # origin the local site is served from.
        extra["SiteUrl"] = LOCAL_SITE_URL
    outputs = _deploy_template(ctx, "site", TEMPLATES_DIR / "site.yaml", extra)
    bucket = outputs.get("SiteBucketName") or ctx.outputs("site").get("SiteBucketName")
    if not bucket:
        raise DeployError(
            f"stack {ctx.stack_name('site')} has no SiteBucketName output"
        )
    config = site_publish.site_config(
        str(ctx.region), ctx.outputs("shared"), ctx.outputs("api"), outputs
    )
    files = [*site_publish.site_files(site_dir), site_publish.config_file(config)]
    changed = site_publish.upload(ctx.client("s3"), bucket, files, ctx.report)
    distribution = outputs.get("DistributionId")
    if distribution:
        site_publish.invalidate(
            ctx.client("cloudfront"), distribution, changed, ctx.report
        )
    else:
        ctx.report("site: no CloudFront distribution on this endpoint, no invalidation")
    return outputs


def console_environment(ctx: Context) -> dict[str, str]:
    """The console's settings for this stage, from the stack outputs."""
    shared = ctx.outputs("shared")
    if not shared:
        raise DeployError(
            f"stack {ctx.stack_name('shared')} not found; deploy it first"
        )
    site = ctx.outputs("site")
    env = {
        "AWS_REGION": str(ctx.region),
        "RULES_BUCKET": shared.get("RulesBucketName", ""),
        "FAILED_EVENTS_TABLE": shared.get("FailedEventsTableName", ""),
        "USERS_TABLE": shared.get("UsersTableName", ""),
        "EVENTS_STREAM_NAME": shared.get("EventsStreamName", ""),
        "DEAD_LETTER_QUEUE_URL": shared.get("DeadLetterQueueUrl", ""),
        "UNPROCESSABLE_QUEUE_URL": shared.get("UnprocessableQueueUrl", ""),
        "CONNECTOR_FUNCTIONS": (
            f'{{"dynamodb": "switchyard-{ctx.stage}-connector-dynamodb", '
            f'"webhook": "switchyard-{ctx.stage}-connector-webhook"}}'
        ),
    }
    if site.get("SiteBucketName"):
        env["STATIC_BUCKET"] = site["SiteBucketName"]
    if site.get("SiteUrl"):
        env["STATIC_URL"] = f"{site['SiteUrl']}/static/"
    if ctx.endpoint_url:
        env["AWS_ENDPOINT_URL"] = ctx.endpoint_url
    return env


def deploy_console_static(ctx: Context) -> None:
    env = console_environment(ctx)
    if "STATIC_BUCKET" not in env:
        raise DeployError(
            f"stack {ctx.stack_name('site')} has no SiteBucketName; deploy site first"
        )
    run_env = {**os.environ, **env}
    run_env.setdefault("DJANGO_SETTINGS_MODULE", "switchyard_console.settings")
    # collectstatic signs nothing; the console refuses to start without a key.
    run_env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(48))
    command = [sys.executable, str(REPO_ROOT / "console" / "manage.py")]
    result = subprocess.run(
        [*command, "collectstatic", "--noinput"],
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise DeployError(
            f"collectstatic to s3://{env['STATIC_BUCKET']}/static failed: "
            f"{result.stderr.strip()[-2000:]}"
        )
    ctx.report(result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "")
    ctx.report(f"console-static: uploaded to s3://{env['STATIC_BUCKET']}/static/")


def deploy(ctx: Context, target: str) -> dict[str, str]:
    """Deploy one target; returns the stack outputs (empty for file targets)."""
    if target == "shared":
        return deploy_shared(ctx)
    if target in SERVICES:
        return deploy_service(ctx, target)
    if target == "api":
        return deploy_api(ctx)
    if target == "site":
        return deploy_site(ctx)
    if target == "console-static":
        deploy_console_static(ctx)
        return {}
    if target == "console-env":
        for key, value in console_environment(ctx).items():
            ctx.report(f"export {key}='{value}'")
        return {}
    raise DeployError(f"unknown target {target!r}; choose one of: {', '.join(TARGETS)}")


def _parameter(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected Key=Value, got {text!r}")
    return key, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="infra/deploy.py",
        description="Deploy one Switchyard target (see infra/README.md).",
    )
    parser.add_argument("target", choices=TARGETS)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--region", default=None, help="default: the AWS chain's")
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("AWS_ENDPOINT_URL"),
        help="another AWS endpoint, e.g. the local moto server",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        type=_parameter,
        default=[],
        metavar="KEY=VALUE",
        help="a template parameter; repeatable",
    )
    parser.add_argument("--artifact-bucket", default=None)
    parser.add_argument(
        "--allow-mapping-replacement",
        action="store_true",
        help="deploy even if an event source mapping would be replaced",
    )
    parser.add_argument("--poll-seconds", type=float, default=None)
    args = parser.parse_args(argv)
    poll = args.poll_seconds
    if poll is None:
        poll = 0.2 if args.endpoint_url else 5.0
    try:
        ctx = Context(
            stage=args.stage,
            region=args.region,
            endpoint_url=args.endpoint_url,
            parameters=dict(args.parameter),
            artifact_bucket=args.artifact_bucket,
            allow_mapping_replacement=args.allow_mapping_replacement,
            poll_seconds=poll,
        )
        deploy(ctx, args.target)
    except (InfraError, ClientError, BotoCoreError) as exc:
        print(f"deploy {args.target} failed: {exc}", file=sys.stderr)
        return 1
    return 0
