"""The one exception type the stack model raises."""

__all__ = ["StackConfigError"]


class StackConfigError(ValueError):
    """A stack config value is missing, malformed or inconsistent with another one.

    The message names the config key and shows a value that would be accepted, so the fix is
    one ``pulumi config set`` away; ``fix`` replaces that hint where a command cannot help (a
    stack file that is not valid YAML).
    """

    def __init__(self, key: str, problem: str, example: str, *, fix: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.example = example
        short = key.split(":", 1)[-1]
        self.fix = fix or f"for example: pulumi config set {short} {example}"
        super().__init__(f"{key}: {problem} ({self.fix})")
