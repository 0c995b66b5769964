"""The local runtime's errors: one base class, one subclass per part."""


class LocalRuntimeError(Exception):
    """Base of every error the local runtime raises on purpose."""


class TemplateError(LocalRuntimeError):
    """A template uses something the local runtime cannot resolve."""


class FunctionError(LocalRuntimeError):
    """A function could not be started or did not answer."""


class FunctionTimeout(FunctionError):
    """A function ran past its timeout and its worker was killed."""


class UnknownFunction(LocalRuntimeError):
    """No function of that name runs here."""


class StackError(LocalRuntimeError):
    """The local stack could not be started."""
