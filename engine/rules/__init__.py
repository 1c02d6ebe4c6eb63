"""The rule layer: business-owned YAML rules, checked at load and compiled for fast evaluation."""
