"""`creditwatch screenshots`: the console's screenshots for docs/console.md, shot in
chromium from the demo stack (`up --demo` on free ports, in a throwaway directory),
never by hand. Needs the dev extra (playwright) and Debian's chromium."""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from streams.stack.processes import free_port

#: (file name, path, what it shows); `{uscc}`, `{warning}`, `{plan}`, `{candidate}` and
#: `{backtest}` are filled from the demo
SCREENS = (
    ("login", "/console/login", "sign-in with an API key"),
    ("overview", "/console/", "总览: grades, warnings per day and rule, open warnings, pipeline"),
    ("workbench", "/console/warnings", "预警: the live feed with its filters"),
    ("warning", "/console/warnings/{uscc}/{warning}", "a warning: why, evidence, handling"),
    ("overdue", "/console/warnings/overdue", "warnings overdue for handling"),
    ("directory", "/console/enterprises?grade=C", "企业: the directory, filtered, with CSV export"),
    ("profile", "/console/enterprises/{uscc}", "a profile: grade, history, handling"),
    ("inspections", "/console/inspections", "双随机: inspection plans and blind spots"),
    ("plan", "/console/inspections/plans/{plan}", "a plan: targets, inspectors, results"),
    ("rules", "/console/rules", "规则: the rule set in force, false alarms per rule"),
    ("candidate", "/console/rules/candidates/{candidate}", "a candidate rule set"),
    ("backtest", "/console/rules/backtests/{backtest}", "a candidate's backtest"),
    ("admin", "/console/admin", "Admin: accounts, keys, the access log"),
    ("public", "/console/public?uscc={uscc}", "公示: the public disclosure page"),
    ("overview-en", "/console/?lang=en", "the overview in English (the switch top right)"),
)


#: an inspection plan drawn from the demo city, so that the inspections screen has one
_DEMO_PLAN = {
    "name": "2026年第二季度双随机抽查",
    "inspectors": [
        {
            "inspector_id": f"i{n}",
            "name": f"检查员{n}",
            "department": "samr",
            "district": f"44030{3 + n % 5}",
        }
        for n in range(12)
    ],
    "seed": "demo",
}
#: a candidate rule set, stricter about repeated penalties and crowded addresses
_DEMO_CANDIDATE = {
    "version": "2026.2-draft",
    "rules": {
        "penalty_frequency": {"threshold": 2},
        "address_cluster": {"active_threshold": 4},
    },
}


def _rules_and_plan(api: Any) -> dict[str, str]:
    """An inspection plan with a result entered, and a candidate rule set backtested:
    their ids, for the screens that show them."""
    plan = api.post("/inspections/plans", json=_DEMO_PLAN)
    plan.raise_for_status()
    plan_id, targets = plan.json()["plan_id"], plan.json()["targets"]
    for target, result in zip(targets, ("passed", "issues_found"), strict=False):
        entry = {"result": result, "findings": [] if result == "passed" else ["台账不全"]}
        path = f"/inspections/plans/{plan_id}/targets/{target['uscc']}/result"
        api.put(path, json=entry).raise_for_status()
    candidate = api.post("/rules/candidates", json=_DEMO_CANDIDATE)
    candidate.raise_for_status()
    candidate_id = candidate.json()["candidate_id"]
    job = api.post(f"/rules/candidates/{candidate_id}/backtests", json={})
    job.raise_for_status()
    job_id = job.json()["job_id"]
    _wait(
        lambda: api.get(f"/rules/backtests/{job_id}").json()["status"] != "running",
        300,
        "the backtest",
    )
    return {"plan": plan_id, "candidate": candidate_id, "backtest": job_id}


def add_commands(sub: Any) -> None:
    shots = sub.add_parser("screenshots", help="shoot the console's screens from the demo")
    shots.add_argument("--out", type=Path, default=Path("docs/console"))
    shots.add_argument("--wait", type=float, default=45.0, help="seconds of demo data first")
    shots.add_argument("--chromium", default="/usr/bin/chromium")
    shots.set_defaults(run=screenshots)


def _wait(probe: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise RuntimeError(f"timed out waiting for {what}")


def _answers(api: Any, path: str) -> bool:
    import httpx

    try:
        return bool(api.get(path).status_code == 200)
    except httpx.HTTPError:
        return False


def _subject(api: Any) -> tuple[str, str]:
    """A firm with a red or orange warning and the longest grade history seen."""
    items = api.get("/warnings", params={"status": "open", "limit": 200}).json()["items"]
    ranked = sorted(items, key=lambda w: w["severity"] != "red")[:30]
    changes = {"kind": "grade_change"}
    best = max(
        ranked,
        key=lambda w: len(api.get(f"/enterprises/{w['uscc']}/history", params=changes).json()),
    )
    return best["uscc"], best["warning_id"]


def _handle(api: Any, uscc: str, warning: str) -> None:
    """Some of the workbench's records: the subject's warning assigned and its rule
    snoozed, a few others disposed (the rules screen's false-alarm rates)."""
    base = f"/enterprises/{uscc}/warnings/{warning}"
    assigned = {"unit": "南山区粤海街道网格3", "note": "请于三日内核查"}
    api.put(f"{base}/assignment", json=assigned).raise_for_status()
    rule = api.get(f"{base}/handling").json()["rule_id"]
    until = (date.today() + timedelta(days=30)).isoformat()
    snooze = {"until": until, "reason": "已立案调查,处置期间暂缓提醒"}
    api.put(f"/enterprises/{uscc}/snoozes/{rule}", json=snooze).raise_for_status()
    items = api.get("/warnings", params={"status": "open", "limit": 40}).json()["items"]
    others = [w for w in items if w["uscc"] != uscc][:8]
    # one of the subject's other warnings too, for its profile's dispositions
    mine = api.get(f"/enterprises/{uscc}/warnings").json()
    others += [w for w in mine if w["warning_id"] != warning][:1]
    outcomes = (
        {"disposition": "verified", "note": "现场核查属实,已责令整改"},
        {"disposition": "false_alarm", "note": "核查无此情况"},
        {"disposition": "referred", "note": "涉税线索", "department": "区税务局"},
        {"disposition": "verified", "note": "核查属实"},
    )
    for n, w in enumerate(others):
        path = f"/enterprises/{w['uscc']}/warnings/{w['warning_id']}/disposition"
        api.put(path, json=outcomes[n % len(outcomes)]).raise_for_status()


def screenshots(args: argparse.Namespace) -> int:
    import httpx  # loaded when the command runs, as every command's imports
    from playwright.sync_api import sync_playwright  # the dev extra

    port, key = free_port(), secrets.token_urlsafe(24)
    base = f"http://127.0.0.1:{port}"
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cw-shots-") as state:
        env = {**os.environ, "CREDITWATCH_ADMIN_KEY": key, "CREDITWATCH_API_PORT": str(port)}
        env["CREDITWATCH_STATE_DIR"] = state
        argv = [sys.executable, "-m", "streams.cli", "--log-level", "warning", "up", "--demo"]
        log = Path(state) / "up.log"
        with log.open("wb") as out:
            stack = subprocess.Popen([*argv, "--no-prometheus"], env=env, stdout=out, stderr=out)
        try:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}) as api:
                _wait(lambda: _answers(api, "/healthz"), 120, "the API")
                time.sleep(args.wait)  # the demo's patterns and clocks fire meanwhile
                uscc, warning = _subject(api)
                _handle(api, uscc, warning)
                account = {"account_id": "nanshan-samr", "name": "南山区市场监管局"}
                account |= {"department": "samr", "role": "department", "district": "440305"}
                api.post("/admin/accounts", json=account)
                api.post("/admin/accounts/nanshan-samr/keys", params={"label": "console"})
                ids = _rules_and_plan(api)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=args.chromium)
                # a browser set to Chinese, as the regulators' are (the browser tests' too)
                page = browser.new_page(
                    base_url=base, viewport={"width": 1360, "height": 900}, locale="zh-CN"
                )
                page.goto("/console/login")
                page.screenshot(path=str(args.out / "login.png"))
                page.get_by_label("API 密钥").fill(key)
                page.get_by_role("button", name="登录").click()
                page.wait_for_url("**/console/")
                for name, path, _ in SCREENS[1:]:
                    page.goto(path.format(uscc=uscc, warning=warning, **ids))
                    page.wait_for_timeout(1500)  # charts drawn, the live feed connected
                    page.screenshot(path=str(args.out / f"{name}.png"), full_page=True)
                    print(f"{args.out / name}.png", flush=True)
                browser.close()
        finally:
            stack.send_signal(signal.SIGINT)
            try:
                stack.wait(60)
            except subprocess.TimeoutExpired:
                stack.kill()
    return 0
