"""Deploy one CloudFormation stack through a change set.

Every deploy is: create a change set (CREATE for a new stack, UPDATE for an
existing one), wait for it, show its changes, refuse it if it would replace or
remove an event source mapping (a replaced Kinesis mapping restarts from its
StartingPosition: events would be skipped or replayed), execute it, wait for
the stack, and return its outputs. On failure the change set is deleted; a
stack whose creation failed is deleted too (it cannot be updated from
ROLLBACK_COMPLETE), while a failed update is rolled back by CloudFormation,
and the failing resources are reported either way.
"""

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from switchyard_infra.errors import DeployError
from switchyard_infra.templates import parse_template

Report = Callable[[str], None]

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
# Resource types whose replacement or removal loses a position or state that
# a deploy must never silently give up.
PROTECTED_TYPES = ("AWS::Lambda::EventSourceMapping",)
NO_CHANGES_REASONS = ("didn't contain changes", "No updates are to be performed")


@dataclass(frozen=True)
class Change:
    """One row of a change set, as the operator reads it."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str

    def __str__(self) -> str:
        text = f"{self.action:<7} {self.logical_id} ({self.resource_type})"
        if self.action == "Modify" and self.replacement not in ("", "False"):
            text += f" replacement={self.replacement}"
        return text


def parse_changes(description: Mapping[str, Any]) -> list[Change]:
    """The changes of a DescribeChangeSet answer."""
    changes = []
    for item in description.get("Changes", []):
        resource = item.get("ResourceChange", {})
        changes.append(
            Change(
                action=str(resource.get("Action", "")),
                logical_id=str(resource.get("LogicalResourceId", "")),
                resource_type=str(resource.get("ResourceType", "")),
                replacement=str(resource.get("Replacement", "")),
            )
        )
    return changes


def dangerous_changes(changes: list[Change]) -> list[Change]:
    """Changes that would replace or remove a protected resource."""
    return [
        change
        for change in changes
        if change.resource_type in PROTECTED_TYPES
        and (
            change.action == "Remove"
            or (
                change.action == "Modify"
                and change.replacement in ("True", "Conditional")
            )
        )
    ]


class StackDeployer:
    """Deploys stacks with one CloudFormation client."""

    def __init__(
        self,
        cloudformation: Any,
        report: Report = print,
        poll_seconds: float = 5.0,
        timeout_seconds: float = 1800.0,
        create_with_change_set: bool = True,
    ) -> None:
        self.cfn = cloudformation
        self.report = report
        self.poll_seconds = poll_seconds
        self.timeout_seconds = timeout_seconds
        # Limitation: moto 5.2.5 creates a stack from a CREATE change set
        # without the region's exports, so its Fn::ImportValue fails; against
        # moto, new stacks are made with CreateStack and only updates use
        # change sets.
        self.create_with_change_set = create_with_change_set

    def stack(self, name: str) -> dict[str, Any] | None:
        """The stack's description, or None when it does not exist."""
        try:
            stacks = self.cfn.describe_stacks(StackName=name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise DeployError(f"DescribeStacks {name} failed: {exc}") from exc
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return None
        return dict(stacks[0])

    def outputs(self, name: str) -> dict[str, str]:
        """The stack's outputs; empty when it does not exist."""
        stack = self.stack(name)
        if stack is None:
            return {}
        return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}

    def deploy(
        self,
        name: str,
        template_body: str,
        parameters: Mapping[str, str] | None = None,
        allow_replacing: bool = False,
    ) -> dict[str, str]:
        """Create or update stack name from the template; returns its outputs."""
        existing = self.stack(name)
        if existing is not None and existing["StackStatus"] == "ROLLBACK_COMPLETE":
            # A stack whose creation failed can only be deleted.
            self.report(f"{name}: deleting the stack left by a failed creation")
            self._delete_stack(name)
            existing = None
        creating = existing is None or existing["StackStatus"] == "REVIEW_IN_PROGRESS"
        stack_parameters = self._parameters(existing, template_body, parameters or {})
        if creating and not self.create_with_change_set:
            return self._create_stack(name, template_body, stack_parameters)

        change_set = f"{name}-{int(time.time())}"
        args: dict[str, Any] = {
            "StackName": name,
            "ChangeSetName": change_set,
            "TemplateBody": template_body,
            "Parameters": stack_parameters,
            "Capabilities": CAPABILITIES,
            "ChangeSetType": "CREATE" if creating else "UPDATE",
        }
        try:
            self.cfn.create_change_set(**args)
        except ClientError as exc:
            # Some endpoints refuse an empty change set outright.
            if any(text in str(exc) for text in NO_CHANGES_REASONS):
                self.report(f"{name}: no changes")
                return self._report_outputs(name)
            raise DeployError(
                f"CreateChangeSet for stack {name} failed: {exc}"
            ) from exc

        description = self._wait_for_change_set(name, change_set)
        if description is None:
            self.report(f"{name}: no changes")
            self._cleanup_change_set(name, change_set, creating)
            return self.outputs(name)

        changes = parse_changes(description)
        self.report(f"{name}: {len(changes)} change(s)")
        for change in changes:
            self.report(f"  {change}")
        dangerous = dangerous_changes(changes)
        if dangerous and not allow_replacing:
            self._cleanup_change_set(name, change_set, creating)
            names = ", ".join(c.logical_id for c in dangerous)
            raise DeployError(
                f"stack {name}: the change set would replace or remove {names}; "
                "a new event source mapping restarts from its StartingPosition "
                "and skips or replays events. Keep the mapping's logical id, "
                "EventSourceArn and StartingPosition, or pass "
                "--allow-mapping-replacement if that is intended."
            )

        try:
            self.cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
        except ClientError as exc:
            self._cleanup_change_set(name, change_set, creating)
            raise DeployError(
                f"ExecuteChangeSet for stack {name} failed: {exc}"
            ) from exc
        self._wait_for_stack(name, creating)
        return self._report_outputs(name)

    def _report_outputs(self, name: str) -> dict[str, str]:
        outputs = self.outputs(name)
        for key, value in sorted(outputs.items()):
            self.report(f"  output {key} = {value}")
        return outputs

    def _create_stack(
        self, name: str, template_body: str, parameters: list[dict[str, Any]]
    ) -> dict[str, str]:
        try:
            self.cfn.create_stack(
                StackName=name,
                TemplateBody=template_body,
                Parameters=parameters,
                Capabilities=CAPABILITIES,
            )
        except ClientError as exc:
            self._discard_half_made(name)
            raise DeployError(f"CreateStack {name} failed: {exc}") from exc
        self._wait_for_stack(name, creating=True)
        paginator = self.cfn.get_paginator("list_stack_resources")
        created = [
            Change(
                "Add", r.get("LogicalResourceId") or "?", r.get("ResourceType", "?"), ""
            )
            for page in paginator.paginate(StackName=name)
            for r in page["StackResourceSummaries"]
        ]
        self.report(f"{name}: created with CreateStack, {len(created)} resource(s)")
        for change in created:
            self.report(f"  {change}")
        return self._report_outputs(name)

    def _parameters(
        self,
        existing: Mapping[str, Any] | None,
        template_body: str,
        given: Mapping[str, str],
    ) -> list[dict[str, Any]]:
        # An update without a parameter would reset it to its default: keep
        # the value the stack already has unless one is given.
        params = [
            {"ParameterKey": k, "ParameterValue": str(v)} for k, v in given.items()
        ]
        if existing is not None:
            declared = parse_template(template_body).get("Parameters", {})
            for param in existing.get("Parameters", []):
                key = param["ParameterKey"]
                if key not in given and key in declared:
                    params.append({"ParameterKey": key, "UsePreviousValue": True})
        return params

    def _wait_for_change_set(self, name: str, change_set: str) -> dict[str, Any] | None:
        """The change set once created; None when it holds no changes."""
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            try:
                description = self.cfn.describe_change_set(
                    StackName=name, ChangeSetName=change_set
                )
            except ClientError as exc:
                raise DeployError(
                    f"DescribeChangeSet {change_set} of stack {name} failed: {exc}"
                ) from exc
            status = description.get("Status", "")
            if status == "CREATE_COMPLETE":
                return dict(description)
            if status == "FAILED":
                reason = description.get("StatusReason", "")
                if any(text in reason for text in NO_CHANGES_REASONS):
                    return None
                self._cleanup_change_set(name, change_set, creating=False)
                raise DeployError(f"change set for stack {name} failed: {reason}")
            if time.monotonic() > deadline:
                raise DeployError(f"change set for stack {name} still {status}")
            time.sleep(self.poll_seconds)

    def _wait_for_stack(self, name: str, creating: bool) -> None:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            stack = self.stack(name)
            status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
            if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
                self.report(f"{name}: {status}")
                return
            if status.endswith(("_FAILED", "ROLLBACK_COMPLETE")) or status in (
                "DELETE_COMPLETE",
            ):
                failures = self._failed_events(name)
                if creating and stack is not None:
                    self.report(f"{name}: creation failed, deleting the stack")
                    self._delete_stack(name)
                raise DeployError(
                    f"stack {name} ended {status}"
                    + (f"; {stack.get('StackStatusReason')}" if stack else "")
                    + "".join(f"\n  {line}" for line in failures)
                )
            if time.monotonic() > deadline:
                raise DeployError(f"stack {name} is still {status}; look at its events")
            time.sleep(self.poll_seconds)

    def _failed_events(self, name: str) -> list[str]:
        try:
            events = self.cfn.describe_stack_events(StackName=name)["StackEvents"]
        except ClientError:
            return []
        return [
            f"{e['LogicalResourceId']}: {e.get('ResourceStatus')} "
            f"{e.get('ResourceStatusReason', '')}"
            for e in events[:20]
            if str(e.get("ResourceStatus", "")).endswith("FAILED")
        ]

    def _discard_half_made(self, name: str) -> None:
        """Delete what an endpoint kept of a stack it refused to create."""
        try:
            if self.stack(name) is None:
                return
            self.report(f"{name}: creation refused, deleting the stack")
            self._delete_stack(name)
        except Exception as exc:  # the endpoint's own failure, e.g. moto's 500
            self.report(
                f"{name}: could not check or delete a half-made stack "
                f"({type(exc).__name__}); delete it before deploying again"
            )

    def _cleanup_change_set(self, name: str, change_set: str, creating: bool) -> None:
        # Best effort: a change set that failed to create may be gone already.
        with contextlib.suppress(ClientError):
            self.cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
        stack = self.stack(name) if creating else None
        if stack is not None and stack["StackStatus"] == "REVIEW_IN_PROGRESS":
            # The empty stack a CREATE change set made would block the next run.
            self._delete_stack(name)

    def _delete_stack(self, name: str) -> None:
        try:
            self.cfn.delete_stack(StackName=name)
        except ClientError as exc:
            raise DeployError(f"DeleteStack {name} failed: {exc}") from exc
        deadline = time.monotonic() + self.timeout_seconds
        while (status := self.stack(name)) is not None:
            if status["StackStatus"] == "DELETE_FAILED":
                raise DeployError(f"stack {name} could not be deleted; see its events")
            if time.monotonic() > deadline:
                raise DeployError(f"stack {name} is still being deleted")
            time.sleep(self.poll_seconds)
