"""The rule commands of `creditwatch`: rules (show, check, load) and allowlist.

The store, the rules and the simulator are imported inside the commands that use them:
the parser is built at every start of the command (each child process of `up` too), and
loading them there would cost every other command their start-up time."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from streams.settings import StoreSettings


def add_commands(sub: Any) -> None:
    rules = sub.add_parser("rules", help="show, check or publish the rule set")
    rsub = rules.add_subparsers(required=True, metavar="ACTION")
    show = rsub.add_parser("show", help="the indicator catalogue with its settings")
    show.add_argument("--file", type=Path, help="a rules file (default: the built-in defaults)")
    show.add_argument("--published", action="store_true", help="the set published in Redis")
    show.add_argument("--json", action="store_true")
    show.set_defaults(run=_rules_show)
    check = rsub.add_parser("check", help="validate a rules file")
    check.add_argument("file", type=Path)
    check.set_defaults(run=_rules_check)
    load = rsub.add_parser("load", help="validate a rules file and put it in force (hot reload)")
    load.add_argument("file", type=Path)
    load.set_defaults(run=_rules_load)

    allow = sub.add_parser("allowlist", help="approved cluster addresses (一址多照 exempt)")
    asub = allow.add_subparsers(required=True, metavar="ACTION")
    asub.add_parser("list", help="print the approved addresses").set_defaults(run=_allow_list)
    for name, help_ in (("add", "approve an address"), ("remove", "withdraw an approval")):
        cmd = asub.add_parser(name, help=help_)
        cmd.add_argument("address")
        cmd.set_defaults(run=_allow_change, adding=name == "add")
    aload = asub.add_parser("load", help="approve every address in a file (one per line)")
    aload.add_argument("file", type=Path)
    aload.set_defaults(run=_allow_load)


def _store() -> Any:
    from streams.store import Store

    return Store.from_settings(StoreSettings())


async def with_store(action: Any) -> Any:
    store = _store()
    try:
        return await action(store)
    finally:
        await store.close()


def prepare_store(redis_url: str, ruleset: Any, allowlist: list[str]) -> None:
    """Before the worker starts: put a rule set in force and approve addresses."""
    if ruleset is None and not allowlist:
        return
    from streams.store import Store

    async def prepare() -> None:
        store = Store.from_url(redis_url, StoreSettings().key_prefix)
        try:
            if ruleset is not None:
                await store.put_ruleset(ruleset)
            for address in allowlist:
                await store.allow_address(address)
        finally:
            await store.close()

    asyncio.run(prepare())


def demo_allowlist() -> list[str]:
    """The approved incubator addresses of the demo city."""
    from streams.simulation import DEMO_PRESET, generate_city

    truth = generate_city(**DEMO_PRESET).truth
    return sorted(getattr(truth, "allowed_addresses", ()))


def _rules_show(args: argparse.Namespace) -> int:
    from rules.catalogue import ASPECTS
    from rules.ruleset import default_ruleset, load_rules_file

    if args.published:
        ruleset = asyncio.run(with_store(lambda s: s.get_ruleset())) or default_ruleset()
    else:
        ruleset = load_rules_file(args.file) if args.file else default_ruleset()
    rules = ruleset.describe()
    if args.json:
        print(json.dumps({"version": ruleset.version, "source": ruleset.source, "rules": rules},
                         ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    print(f"rule set {ruleset.version} ({ruleset.source}): {len(rules)} indicators")
    for aspect, (label, categories) in ASPECTS.items():
        print(f"\n{label}")
        for category, clabel in categories.items():
            members = [r for r in rules if r["aspect"] == aspect and r["category"] == category]
            if not members:
                continue
            print(f"  {clabel}")
            for r in members:
                state = "" if r["enabled"] else "  [disabled]"
                params = ", ".join(f"{k}={v}" for k, v in r["params"].items() if k != "industries")
                print(f"    {r['rule_id']:<25} {r['severity']:<6} -{r['deduction']:<3} "
                      f"{params}{state}")  # fmt: skip
    return 0


def _rules_check(args: argparse.Namespace) -> int:
    from rules.ruleset import load_rules_file

    ruleset = load_rules_file(args.file)
    changed = sum(len(v) for v in ruleset.overrides.values())
    print(f"{args.file}: rule set {ruleset.version}, {changed} setting(s) overridden: OK")
    return 0


def _rules_load(args: argparse.Namespace) -> int:
    from rules.ruleset import load_rules_file

    ruleset = load_rules_file(args.file)  # nothing is published unless it is valid
    previous = asyncio.run(with_store(lambda s: _publish(s, ruleset)))
    print(f"rule set {ruleset.version} published (was {previous}); running workers switch "
          "at their next batch")  # fmt: skip
    return 0


async def _publish(store: Any, ruleset: Any) -> str:
    current = await store.get_ruleset()
    await store.put_ruleset(ruleset)
    return current.version if current else "the built-in defaults"


def _allow_list(_args: argparse.Namespace) -> int:
    for address in asyncio.run(with_store(lambda s: s.allowed_addresses())):
        print(address)
    return 0


def _allow_change(args: argparse.Namespace) -> int:
    if not args.address.strip():
        raise ValueError("the address is empty")
    method = "allow_address" if args.adding else "disallow_address"
    changed = asyncio.run(with_store(lambda s: getattr(s, method)(args.address)))
    verb = "approved" if args.adding else "withdrawn"
    print(f"{verb}: {args.address}" if changed else f"no change: {args.address}")
    return 0


def read_addresses(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _allow_load(args: argparse.Namespace) -> int:
    addresses = read_addresses(args.file)

    async def load(store: Any) -> int:
        return sum([await store.allow_address(a) for a in addresses])

    added = asyncio.run(with_store(load))
    print(f"{added} new of {len(addresses)} addresses approved")
    return 0
