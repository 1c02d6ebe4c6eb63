"""One module per command or command group; `retention.cli` wires them together."""
