"""The errors of the infra tooling, one hierarchy for callers to catch."""


class InfraError(Exception):
    """Base class of every error raised by switchyard_infra."""


class BuildError(InfraError):
    """A service package could not be built."""


class TemplateError(InfraError):
    """A template could not be generated or read."""


class DeployError(InfraError):
    """A deploy step failed; the message names the stack or resource."""
