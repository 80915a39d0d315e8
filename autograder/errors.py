"""The one error every command turns into one line and exit code 2: a problem with the user's input."""


class UsageError(Exception):
    """A problem with the user's input (a path, an option, a settings file): one line, exit 2."""
