"""Request channels and the rule-set channel (the *channel group*) each one decides as.

Callers name where the customer is (``call_center``, ``branch``, ``web``, ...); the rule set
names the channels its actions apply to (``agent``, ``web``, ``app``, ``email``, ``sms``).
Channels of one group share one answer within the consistency window: a customer who calls
and then walks into a branch hears the same offer. A rule-set channel may also be given
directly (``agent``).
"""

from __future__ import annotations

from collections.abc import Iterable

ALIASES: dict[str, str] = {
    "call_center": "agent",
    "branch": "agent",
    "agent": "agent",
    "web": "web",
    "app": "app",
    "mobile": "app",
    "email": "email",
    "sms": "sms",
}


def channel_group(channel: str, rule_channels: Iterable[str]) -> str | None:
    """The rule-set channel a request channel decides as; None if the rule set lacks it."""
    known = set(rule_channels)
    group = ALIASES.get(channel, channel)
    return group if group in known else None


def known_channels(rule_channels: Iterable[str]) -> list[str]:
    known = set(rule_channels)
    return sorted({c for c, g in ALIASES.items() if g in known} | known)
