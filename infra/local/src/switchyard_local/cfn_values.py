"""Resolve CloudFormation intrinsic functions in a template fragment.

The local runtime sometimes has to apply a template's properties itself,
where moto skips a resource type. It resolves the fragment with what it
knows (parameters, pseudo parameters, resources already created, exports)
and leaves nothing half-resolved: an intrinsic it cannot resolve raises.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


class UnresolvedError(ValueError):
    """A value refers to something the resolver does not know."""


class Resolver:
    """Turns intrinsic functions into plain values.

    ``refs`` maps a logical id or parameter name to what ``Ref`` gives;
    ``attributes`` maps ``(logical id, attribute)`` to what ``Fn::GetAtt``
    gives; ``exports`` maps export names to values for ``Fn::ImportValue``.
    ``conditions`` maps condition names to booleans.
    """

    def __init__(
        self,
        refs: Mapping[str, Any],
        attributes: Mapping[tuple[str, str], Any]
        | Callable[[str, str], Any]
        | None = None,
        exports: Mapping[str, str] | Callable[[str], str] | None = None,
        conditions: Mapping[str, bool] | None = None,
    ) -> None:
        self.refs = dict(refs)
        self.attributes = attributes if callable(attributes) else dict(attributes or {})
        self.exports = exports or {}
        self.conditions = dict(conditions or {})

    def resolve(self, value: Any) -> Any:
        """A copy of ``value`` with every intrinsic function resolved."""
        if isinstance(value, list):
            return [
                item
                for item in (self.resolve(v) for v in value)
                if item is not _NO_VALUE
            ]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        try:
            return self.refs[name]
        except KeyError:
            raise UnresolvedError(f"Ref to unknown name {name!r}") from None

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if callable(self.attributes):
            return self.attributes(logical_id, attribute)
        try:
            return self.attributes[(logical_id, attribute)]
        except KeyError:
            raise UnresolvedError(
                f"Fn::GetAtt {logical_id}.{attribute} is not known here"
            ) from None

    def import_value(self, name: str) -> str:
        if callable(self.exports):
            return self.exports(name)
        try:
            return self.exports[name]
        except KeyError:
            raise UnresolvedError(f"no export named {name!r}") from None

    def condition(self, name: str) -> bool:
        try:
            return self.conditions[name]
        except KeyError:
            raise UnresolvedError(f"unknown condition {name!r}") from None


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


_NO_VALUE: Any = _NoValue()


def _sub(resolver: Resolver, arg: Any) -> str:
    if isinstance(arg, list):
        text, variables = arg[0], resolver.resolve(arg[1])
    else:
        text, variables = arg, {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(variables[name])
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return str(resolver.get_att(logical_id, attribute))
        return str(resolver.ref(name))

    return _SUB_VARIABLE.sub(replace, text).replace("${!", "${")


def _get_att(resolver: Resolver, arg: Any) -> Any:
    if isinstance(arg, str):
        arg = arg.split(".", 1)
    logical_id, attribute = (resolver.resolve(a) for a in arg)
    return resolver.get_att(logical_id, attribute)


def _join(resolver: Resolver, arg: Any) -> str:
    separator, items = arg
    return str(separator).join(str(i) for i in resolver.resolve(items))


def _select(resolver: Resolver, arg: Any) -> Any:
    index, items = arg
    return resolver.resolve(items)[int(resolver.resolve(index))]


def _split(resolver: Resolver, arg: Any) -> list[str]:
    separator, text = arg
    return str(resolver.resolve(text)).split(separator)


def _if(resolver: Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return resolver.resolve(when_true if resolver.condition(name) else when_false)


def _equals(resolver: Resolver, arg: Any) -> bool:
    left, right = (resolver.resolve(a) for a in arg)
    return bool(left == right)


def _not(resolver: Resolver, arg: Any) -> bool:
    return not resolver.resolve(arg[0])


def _and(resolver: Resolver, arg: Any) -> bool:
    return all(resolver.resolve(a) for a in arg)


def _or(resolver: Resolver, arg: Any) -> bool:
    return any(resolver.resolve(a) for a in arg)


def _condition(resolver: Resolver, arg: Any) -> bool:
    return resolver.condition(arg)


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, a: r.ref(a),
    "Fn::Sub": _sub,
    "Fn::GetAtt": _get_att,
    "Fn::ImportValue": lambda r, a: r.import_value(r.resolve(a)),
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
    "Condition": _condition,
}


def references(value: Any) -> set[str]:
    """Logical ids and parameter names that a fragment refers to."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, Mapping):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                found.add(arg)
            elif key == "Fn::GetAtt":
                first = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                if isinstance(first, str):
                    found.add(first)
            elif key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                for name in _SUB_VARIABLE.findall(text):
                    found.add(name.split(".", 1)[0])
                if isinstance(arg, list):
                    found |= references(arg[1])
            else:
                found |= references(arg)
    return found
