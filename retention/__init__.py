"""The `retention` command line: composes the engine and training commands."""
