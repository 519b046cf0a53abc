"""``users``, ``token`` and ``rules``: accounts, API tokens and alert rules from the shell, with the powers of
the machine's owner."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from emotion_core.cli.common import write_json
from emotion_core.config import Settings


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this family's commands to the top-level sub-command parsers."""
    from emotion_core.alerts import NEGATIVE, RULE_KINDS, Rule
    from emotion_core.labels import EMOTIONS

    users = sub.add_parser("users", help="manage accounts (state lives under EMOTION_LENS_HOME)")
    users_sub = users.add_subparsers(dest="action", required=True)
    users_add = users_sub.add_parser("add", help="add a user; the password is read from standard input")
    users_add.add_argument("name")
    users_add.add_argument("--role", choices=("admin", "analyst", "viewer"), required=True)
    users_add.set_defaults(handler=cmd_users_add)
    users_passwd = users_sub.add_parser("passwd", help="set a user's password, read like add's; signs them out")
    users_passwd.add_argument("name")
    users_passwd.set_defaults(handler=cmd_users_passwd)
    for action, effect in (("disable", "no sign-in and no API token until enabled again"),
                           ("enable", "a disabled user may sign in and use their tokens again")):
        users_state = users_sub.add_parser(action, help=f"{action} a user: {effect}")
        users_state.add_argument("name")
        users_state.set_defaults(handler=cmd_users_set_disabled)

    token = sub.add_parser("token", help="API tokens for the JSON API")
    token_sub = token.add_subparsers(dest="action", required=True)
    token_create = token_sub.add_parser("create", help="print a new token for a user (shown once)")
    token_create.add_argument("--user", required=True)
    token_create.add_argument("--label", default="", help="a note to recognise the token by")
    token_create.set_defaults(handler=cmd_token_create)

    rules = sub.add_parser("rules", help="alert rules, as on the Admin page (state lives under EMOTION_LENS_HOME)")
    rules_sub = rules.add_subparsers(dest="action", required=True)
    rules_add = rules_sub.add_parser("add", help="add a rule; it applies to every analysis saved from now on")
    rules_add.add_argument("--name", required=True, help="how its alerts are titled")
    rules_add.add_argument("--kind", default=RULE_KINDS[0],
                           help="sustained (default): the labels' summed probability stays above the threshold "
                                "for the duration; multimodal: two modalities average above it in a window of "
                                "the duration")
    rules_add.add_argument("--labels", nargs="+", default=list(NEGATIVE), metavar="LABEL",
                           help=f"emotions whose probabilities are summed, of {', '.join(EMOTIONS)} "
                                f"(default: {' '.join(NEGATIVE)})")
    rules_add.add_argument("--threshold", type=float, default=Rule.threshold,
                           help=f"above 0 and at most 1 (default {Rule.threshold})")
    rules_add.add_argument("--seconds", type=float, default=Rule.min_seconds,
                           help=f"duration, or window for multimodal (default {Rule.min_seconds:g})")
    rules_add.set_defaults(handler=cmd_rules_add)
    rules_list = rules_sub.add_parser("list", help="every rule, enabled or not")
    rules_list.add_argument("--json", action="store_true", help="print the rules as JSON")
    rules_list.set_defaults(handler=cmd_rules_list)
    rules_delete = rules_sub.add_parser("delete", help="delete a rule (the alerts it raised stay)")
    rules_delete.add_argument("rule_id", type=int, metavar="ID", help="as `rules list` shows it")
    rules_delete.set_defaults(handler=cmd_rules_delete)


def open_store(settings: Settings):
    from emotion_core.storage.store import HistoryStore

    return HistoryStore.open(settings.sqlalchemy_url, media_dir=settings.media_dir)


def open_accounts(settings: Settings):
    from emotion_core.accounts import Accounts

    return Accounts(open_store(settings))


def _owner():
    """Whoever runs a command owns the data directory: they act with an admin's powers, no sign-in needed."""
    from emotion_core.storage.db import User

    return User(name="(shell)", role="admin")


def _read_password() -> str:
    """The new password from the terminal (asked twice) or, when piped, the first line of standard input."""
    import getpass

    from emotion_core.errors import InvalidInputError

    if sys.stdin.isatty():
        first, second = getpass.getpass("password: "), getpass.getpass("again: ")
        if first != second:
            raise InvalidInputError("the two passwords differ.")
        return first
    return sys.stdin.readline().rstrip("\n")


def cmd_users_add(args: argparse.Namespace, settings: Settings) -> int:
    """Create a user from the shell, with the powers of the machine's owner (no sign-in needed)."""
    accounts = open_accounts(settings)
    user = accounts.create_user(args.name, _read_password(), args.role, by=_owner() if accounts.count() else None)
    print(f"created {user.role} {user.name!r} in {settings.sqlalchemy_url}")
    return 0


def cmd_users_passwd(args: argparse.Namespace, settings: Settings) -> int:
    """Set a user's password from the shell (a forgotten one, too); their browsers are signed out."""
    open_accounts(settings).set_password(args.name, _read_password(), by=_owner())
    print(f"changed the password of {args.name!r} in {settings.sqlalchemy_url}; their browsers are signed out")
    return 0


def cmd_users_set_disabled(args: argparse.Namespace, settings: Settings) -> int:
    """``users disable`` and ``users enable``: a disabled user can neither sign in nor use API tokens."""
    open_accounts(settings).set_disabled(args.name, args.action == "disable", by=_owner())
    print(f"{args.action}d {args.name!r} in {settings.sqlalchemy_url}")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    token = open_accounts(settings).create_token(args.user, label=args.label)
    print(token)
    print("Keep it now: only a digest is stored, so it cannot be shown again.", file=sys.stderr)
    return 0


def _rule_record(rule) -> dict[str, Any]:
    return {"id": rule.id, "name": rule.name, "kind": rule.kind, "labels": list(rule.labels),
            "threshold": rule.threshold, "min_seconds": rule.min_seconds, "enabled": rule.enabled}


def _rule_line(rule: dict[str, Any]) -> str:
    return (f"rule {rule['id']}: {rule['name']!r}, {rule['kind']}, {'/'.join(rule['labels'])} above "
            f"{rule['threshold']:.4g} for {rule['min_seconds']:g} s{'' if rule['enabled'] else ', disabled'}")


def cmd_rules_add(args: argparse.Namespace, settings: Settings) -> int:
    """Add an alert rule, as the Admin page does, with the powers of the machine's owner."""
    from emotion_core.alerts import Rule

    rule = Rule(name=args.name, kind=args.kind, labels=tuple(args.labels), threshold=args.threshold,
                min_seconds=args.seconds)
    print(f"added {_rule_line(_rule_record(open_store(settings).save_rule(_owner(), rule)))}")
    return 0


def cmd_rules_list(args: argparse.Namespace, settings: Settings) -> int:
    rules = [_rule_record(rule) for rule in open_store(settings).rules()]
    if args.json:
        write_json(rules, "-")
        return 0
    for rule in rules:
        print(_rule_line(rule))
    if not rules:
        print("no alert rules (add one with `rules add`)")
    return 0


def cmd_rules_delete(args: argparse.Namespace, settings: Settings) -> int:
    open_store(settings).delete_rule(_owner(), args.rule_id)
    print(f"deleted rule {args.rule_id}; the alerts it raised stay")
    return 0

