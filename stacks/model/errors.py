"""The one exception type the stack model raises."""

__all__ = ["StackConfigError"]


class StackConfigError(ValueError):
    """A stack config value is missing, malformed or inconsistent with another one.

    The message names the config key and shows a value that would be accepted, so the fix is
    one ``pulumi config set`` away.
    """

    def __init__(self, key: str, problem: str, example: str) -> None:
        self.key = key
        self.problem = problem
        self.example = example
        short = key.split(":", 1)[-1]
        super().__init__(f"{key}: {problem} (for example: pulumi config set {short} {example})")
