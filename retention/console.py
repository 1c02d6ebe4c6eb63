"""The consoles every command prints to (soft wrap: a message stays one line)."""

from rich.console import Console

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
