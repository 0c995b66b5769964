"""Resolve CloudFormation intrinsic functions in a template fragment.

The one resolver of the repo: the deploy script re-reads a deployed stack's
properties with it, and the local runtime (switchyard_local) reads service
templates and applies what moto skips with it. Callers differ only in what
they know, so every input may be given as a mapping or as a function:

- ``refs``: what ``Ref`` gives for a name (parameters, pseudo parameters,
  physical ids), a mapping or a ``name -> value`` function;
- ``attributes``: what ``Fn::GetAtt`` gives, a mapping keyed by
  ``(logical id, attribute)`` or a ``(logical id, attribute) -> value``
  function;
- ``exports``: what ``Fn::ImportValue`` gives, a mapping or a function;
- ``conditions``: each either a resolved boolean or the template's condition
  expression, which is evaluated on first use (so order does not matter);
- ``mappings``: the template's ``Mappings``, for ``Fn::FindInMap``.

Nothing is left half-resolved: a name the resolver does not know, or a
function it does not support, raises UnresolvedError. A mapping or function
given by the caller may raise its own error, which passes through unchanged.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

from switchyard_infra.errors import TemplateError

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

Refs = Mapping[str, Any] | Callable[[str], Any]
Attributes = Mapping[tuple[str, str], Any] | Callable[[str, str], Any]
Exports = Mapping[str, Any] | Callable[[str], Any]


class UnresolvedError(TemplateError):
    """A fragment refers to something the resolver does not know."""


class _NoValue:
    def __repr__(self) -> str:
        return "AWS::NoValue"


# What ``Ref: AWS::NoValue`` gives; resolve() drops it from maps and lists.
NO_VALUE: Any = _NoValue()


def pseudo_parameters(
    region: str,
    account_id: str,
    stack_name: str,
    stack_id: str | None = None,
    partition: str = "aws",
) -> dict[str, str]:
    """The pseudo parameters of one stack (not ``AWS::NoValue``).

    Without the real stack id, ``AWS::StackId`` is a stand-in ending
    ``/local``, as a locally provisioned stack has no other.
    """
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": partition,
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": stack_name,
        "AWS::StackId": stack_id
        or f"arn:{partition}:cloudformation:{region}:{account_id}:stack/"
        f"{stack_name}/local",
    }


class Resolver:
    """Turns intrinsic functions into plain values (see the module docstring)."""

    def __init__(
        self,
        refs: Refs,
        attributes: Attributes | None = None,
        exports: Exports | None = None,
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self.refs = refs if callable(refs) else dict(refs)
        self.attributes = attributes if callable(attributes) else dict(attributes or {})
        self.exports = exports if callable(exports) else dict(exports or {})
        self.mappings = dict(mappings or {})
        self._condition_specs: dict[str, Any] = {}
        self._conditions: dict[str, bool] = {}
        for name, value in (conditions or {}).items():
            if isinstance(value, bool):
                self._conditions[name] = value
            else:
                self._condition_specs[name] = value

    def resolve(self, value: Any) -> Any:
        """A copy of value with every intrinsic function resolved."""
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, Mapping):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
            if key.startswith("Fn::"):
                raise UnresolvedError(f"intrinsic function {key} is not supported")
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not NO_VALUE}

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        return _look_up(
            self.refs,
            (name,),
            f"Ref {name!r} names no parameter, pseudo parameter or known resource",
        )

    def get_att(self, logical_id: str, attribute: str) -> Any:
        return _look_up(
            self.attributes,
            (logical_id, attribute),
            f"Fn::GetAtt {logical_id}.{attribute} is not known here",
        )

    def import_value(self, name: str) -> Any:
        return _look_up(
            self.exports,
            (name,),
            f"Fn::ImportValue {name!r}: no such export; deploy its stack first",
        )

    def condition(self, name: str) -> bool:
        """The condition's value, evaluated from its expression on first use."""
        if name not in self._conditions:
            if name not in self._condition_specs:
                raise UnresolvedError(f"unknown condition {name!r}")
            self._conditions[name] = bool(self.resolve(self._condition_specs[name]))
        return self._conditions[name]

    def find_in_map(self, name: str, top: str, second: str) -> Any:
        try:
            return self.mappings[name][top][second]
        except (KeyError, TypeError):
            raise UnresolvedError(
                f"Fn::FindInMap {name}.{top}.{second} is not in the template's Mappings"
            ) from None


def _look_up(source: Any, key: tuple[str, ...], missing: str) -> Any:
    """What a caller's function answers for key, or its mapping holds."""
    if callable(source):
        return source(*key)
    try:
        return source[key[0] if len(key) == 1 else key]
    except KeyError:
        raise UnresolvedError(missing) from None


def _sub(resolver: Resolver, arg: Any) -> str:
    if isinstance(arg, list):
        text, variables = arg[0], resolver.resolve(arg[1])
    else:
        text, variables = arg, {}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in variables:
            return str(variables[name])
        if "." in name and not name.startswith("AWS::"):
            logical_id, attribute = name.split(".", 1)
            return str(resolver.get_att(logical_id, attribute))
        return str(resolver.ref(name))

    # ${!Literal} stands for the text ${Literal}.
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
    index, items = (resolver.resolve(a) for a in arg)
    return items[int(index)]


def _split(resolver: Resolver, arg: Any) -> list[str]:
    separator, text = (resolver.resolve(a) for a in arg)
    return str(text).split(str(separator))


def _if(resolver: Resolver, arg: Any) -> Any:
    name, when_true, when_false = arg
    return resolver.resolve(when_true if resolver.condition(name) else when_false)


def _equals(resolver: Resolver, arg: Any) -> bool:
    # CloudFormation compares the two values as strings.
    left, right = (resolver.resolve(a) for a in arg)
    return str(left) == str(right)


def _find_in_map(resolver: Resolver, arg: Any) -> Any:
    name, top, second = (resolver.resolve(a) for a in arg)
    return resolver.find_in_map(name, top, second)


_FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
    "Ref": lambda r, a: r.ref(a),
    "Condition": lambda r, a: r.condition(a),
    "Fn::Sub": _sub,
    "Fn::GetAtt": _get_att,
    "Fn::ImportValue": lambda r, a: r.import_value(r.resolve(a)),
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::If": _if,
    "Fn::Equals": _equals,
    "Fn::Not": lambda r, a: not r.resolve(a[0]),
    "Fn::And": lambda r, a: all(r.resolve(v) for v in a),
    "Fn::Or": lambda r, a: any(r.resolve(v) for v in a),
    "Fn::FindInMap": _find_in_map,
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


def substitute_known(
    value: Any,
    refs: Mapping[str, Any],
    attributes: Mapping[tuple[str, str], Any],
) -> Any:
    """value with only the references to refs and attributes replaced.

    Every other intrinsic function is kept as it is, for CloudFormation to
    resolve: how the local runtime hands moto a template whose resources
    created outside moto (Cognito) are already known.
    """
    if isinstance(value, list):
        return [substitute_known(v, refs, attributes) for v in value]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref" and arg in refs:
            return refs[arg]
        if key == "Fn::GetAtt":
            parts = arg.split(".", 1) if isinstance(arg, str) else arg
            if tuple(parts) in attributes:
                return attributes[tuple(parts)]
        if key == "Fn::Sub":
            return {key: _sub_known(arg, refs, attributes)}
    return {k: substitute_known(v, refs, attributes) for k, v in value.items()}


def _sub_known(
    arg: Any, refs: Mapping[str, Any], attributes: Mapping[tuple[str, str], Any]
) -> Any:
    text = arg[0] if isinstance(arg, list) else arg
    for name, value in refs.items():
        text = text.replace("${" + name + "}", str(value))
    for (logical_id, attribute), value in attributes.items():
        text = text.replace("${" + f"{logical_id}.{attribute}" + "}", str(value))
    if isinstance(arg, list):
        return [text, substitute_known(arg[1], refs, attributes)]
    return text
