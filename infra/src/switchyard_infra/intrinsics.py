"""Resolve the intrinsic functions of a deployed stack's template.

After a stack is deployed, the deploy script re-reads a few of the
template's resource properties with their final values (to apply what a
CloudFormation endpoint skipped, see deploy.py). Only the functions the
Switchyard templates use are supported: Ref, Fn::Sub, Fn::ImportValue,
Fn::GetAtt (ARNs), Fn::Join, Fn::If, Fn::Equals, Fn::Not.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from switchyard_infra.errors import TemplateError

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")
_NO_VALUE = object()


class Resolver:
    """Values for Ref and friends, from a stack's parameters and resources."""

    def __init__(
        self,
        refs: Mapping[str, Any],
        arns: Mapping[str, str] | None = None,
        exports: Callable[[str], str] | None = None,
        conditions: Mapping[str, Any] | None = None,
    ) -> None:
        self.refs = dict(refs)
        self.arns = dict(arns or {})
        self.exports = exports
        self.condition_specs = dict(conditions or {})
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            if name not in self.condition_specs:
                raise TemplateError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(self.condition_specs[name]))
        return self._conditions[name]

    def resolve(self, value: Any) -> Any:
        """value with every supported intrinsic function replaced."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._functions().get(key)
            if handler is not None:
                return handler(arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _functions(self) -> dict[str, Callable[[Any], Any]]:
        return {
            "Ref": self._ref,
            "Fn::Sub": self._sub,
            "Fn::ImportValue": self._import,
            "Fn::GetAtt": self._get_att,
            "Fn::Join": self._join,
            "Fn::If": self._if,
            "Fn::Equals": lambda arg: (
                str(self.resolve(arg[0])) == str(self.resolve(arg[1]))
            ),
            "Fn::Not": lambda arg: not self.resolve(arg[0]),
            "Condition": self.condition,
        }

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name not in self.refs:
            raise TemplateError(f"Ref {name}: no value known")
        return self.refs[name]

    def _sub(self, arg: Any) -> str:
        text, variables = (arg[0], arg[1]) if isinstance(arg, list) else (arg, {})
        values = {k: self.resolve(v) for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return str(values[name])
            if "." in name:
                return str(self._get_att(name))
            return str(self._ref(name))

        return _SUB_VARIABLE.sub(replace, text)

    def _import(self, arg: Any) -> str:
        if self.exports is None:
            raise TemplateError("Fn::ImportValue needs the exports")
        return self.exports(str(self.resolve(arg)))

    def _get_att(self, arg: Any) -> str:
        logical_id, attribute = arg.split(".", 1) if isinstance(arg, str) else arg
        if attribute == "Arn" and logical_id in self.arns:
            return self.arns[logical_id]
        raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: not supported")

    def _join(self, arg: Any) -> str:
        separator, items = arg
        return str(separator).join(str(i) for i in self.resolve(items))

    def _if(self, arg: Any) -> Any:
        name, when_true, when_false = arg
        return self.resolve(when_true if self.condition(name) else when_false)
