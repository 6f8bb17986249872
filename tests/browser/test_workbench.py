"""The warning workbench's actions in chromium: made in the browser, seen through the
API, its audit and the profile; the "assigned to me" filter, the overdue list and the
false-alarm rate per rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from rules.calendar import local_time
from tests import factories as f
from tests.browser.conftest import Stack, eventually
from tests.browser.test_console import SHENZHEN, firm

pytestmark = pytest.mark.integration


def _red_warning(stack: Stack, code: str) -> str:
    warnings = stack.api.get(f"/enterprises/{code}/warnings").json()
    return str(next(w for w in warnings if w["severity"] == "red")["warning_id"])


def test_a_disposition_made_in_the_browser_is_in_the_api_and_the_audit(
    stack: Stack, new_page
) -> None:
    code = firm(stack, SHENZHEN)
    wid = _red_warning(stack, code)
    account_id, key = stack.account("regulator", district="4403")
    page = new_page(key)
    url = f"/console/warnings/{code}/{wid}"
    page.goto(url)
    # refused by the API's own check, shown in its words in the swapped part
    page.locator("#d-outcome").select_option("referred")
    page.locator("#d-note").fill("涉税线索")
    page.get_by_role("button", name="提交").click()
    refusal = page.locator("#handling .error")
    refusal.wait_for()
    assert "department is required" in refusal.inner_text()
    page.locator("#d-outcome").select_option("false_alarm")
    page.locator("#d-note").fill("现场核查无此情况")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("已记录处置结果。").wait_for()
    assert "误报" in page.locator("#disposition-now").inner_text()
    assert page.url.endswith(url)  # an htmx swap: no navigation
    handling = stack.api.get(f"/enterprises/{code}/warnings/{wid}/handling").json()
    disposition = handling["disposition"]
    assert (disposition["disposition"], disposition["by"]) == ("false_alarm", account_id)
    assert disposition["note"] == "现场核查无此情况" and handling["due_at"] is None
    audit = stack.api.get("/warnings/handling/audit", params={"uscc": code}).json()
    assert [(a["action"], a["warning_id"], a["by"]) for a in audit] == [
        ("dispose", wid, account_id)
    ]
    # assigned to this account: the workbench's "assigned to me" shows it
    page.locator("#a-kind").select_option("account")
    page.locator("#a-assignee").fill(account_id)
    page.get_by_role("button", name="分派", exact=True).click()
    page.get_by_text("已分派。").wait_for()
    page.goto("/console/warnings")
    page.get_by_label("仅看分派给我的").check()
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url("**mine=1**")
    page.locator("#rows tr").first.wait_for()
    mine = page.locator("#rows tr[data-warning]")
    assert [mine.nth(i).get_attribute("data-warning") for i in range(mine.count())] == [wid]
    # the false-alarm rate per rule: the API's summary on the rules screen
    page.goto("/console/rules")
    rate = page.locator("#false-alarms tr[data-rule='dishonest_enterprise']")
    summary = stack.api.get("/warnings/dispositions/summary").json()
    expected = next(r for r in summary if r["rule_id"] == "dishonest_enterprise")
    assert f"{expected['false_alarm_rate'] * 100:.1f}%" in rate.inner_text()


def test_a_snooze_made_in_the_browser_shows_on_the_profile(stack: Stack, new_page) -> None:
    code = firm(stack, SHENZHEN)
    wid = _red_warning(stack, code)
    page = new_page(stack.admin_key)
    url = f"/console/warnings/{code}/{wid}"
    page.goto(url)
    until = (date.today() + timedelta(days=30)).isoformat()
    page.locator("#s-until").fill(until)
    page.locator("#s-reason").fill("已立案调查,处置期间暂缓提醒")
    page.get_by_role("button", name="暂缓此规则").click()
    page.get_by_text("已暂缓此规则。").wait_for()
    snoozes = stack.api.get(f"/enterprises/{code}/snoozes").json()
    assert [(s["rule_id"], s["until"]) for s in snoozes] == [("dishonest_enterprise", until)]
    page.goto(f"/console/enterprises/{code}")
    shown = page.locator("#snoozes").inner_text()
    assert "已立案调查" in shown and until in shown and "生效中" in shown
    assert "暂缓" in page.locator("#handling-audit").inner_text()
    # lifted from the warning's page; the profile says so
    page.goto(url)
    page.locator("#l-reason").fill("调查结束")
    page.get_by_role("button", name="解除暂缓").click()
    page.get_by_text("已解除暂缓。").wait_for()
    assert stack.api.get(f"/enterprises/{code}/snoozes").json() == []
    page.goto(f"/console/enterprises/{code}")
    assert "已解除" in page.locator("#snoozes").inner_text()


def test_a_department_reads_the_handling_and_may_not_act(stack: Stack, new_page) -> None:
    code = firm(stack, SHENZHEN)
    wid = _red_warning(stack, code)
    _, key = stack.account("department", district="4403")
    page = new_page(key)
    page.goto(f"/console/warnings/{code}/{wid}")
    assert page.locator("#handling form").count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    refused = page.request.post(
        f"/console/warnings/{code}/{wid}/disposition",
        form={"csrf_token": token, "disposition": "verified", "note": "x"},
    )
    assert refused.status == 403
    assert (
        stack.api.get(f"/enterprises/{code}/warnings/{wid}/handling").json()["disposition"] is None
    )


def test_the_overdue_view_lists_the_apis_overdue_warnings(stack: Stack, new_page) -> None:
    page = new_page(stack.admin_key)
    assert page.goto("/console/warnings/overdue?district=4403").status == 200
    expected = stack.api.get("/warnings/overdue", params={"district": "4403"}).json()
    shown = page.locator("#overdue tr[data-warning]")
    assert shown.count() == len(expected)
    assert [shown.nth(i).get_attribute("data-warning") for i in range(shown.count())] == [
        w["warning_id"] for w in expected
    ]


def test_a_closed_warning_shows_once_as_closed(stack: Stack, new_page) -> None:
    code = firm(stack, SHENZHEN)
    wid = _red_warning(stack, code)
    warnings = stack.api.get(f"/enterprises/{code}/warnings").json()
    raised = next(w["raised_at"] for w in warnings if w["warning_id"] == wid)
    page = new_page(stack.admin_key)
    page.goto("/console/warnings")
    page.locator("#live-state.on").wait_for()
    rows = page.locator(f"#rows tr[data-warning='{wid}']")
    assert rows.count() == 1 and "未关闭" in rows.inner_text()
    assert local_time(raised) in rows.inner_text()  # China time, to the second
    case = {"case_no": "(2026)粤03执1号"}  # the listing's case, as firm() lists it
    stack.produce(f.event("court.dishonest_removed", code, case, day="2026-05-01", source="court"))
    # live: the close record updates the row shown rather than adding one
    assert eventually(lambda: "已关闭" in rows.inner_text(), timeout=10)
    assert rows.count() == 1
    records = stack.api.get(f"/enterprises/{code}/warnings").json()
    statuses = [w["status"] for w in records if w["warning_id"] == wid]
    assert statuses == ["closed", "open"]  # the API answers both records
    page.reload()
    assert rows.count() == 1 and "已关闭" in rows.inner_text()
    page.goto(f"/console/enterprises/{code}")
    row = page.locator(f"main tr:has(a[href='/console/warnings/{code}/{wid}'])")
    assert row.count() == 1 and "已关闭" in row.inner_text()


def test_assigned_to_me_shows_more_than_a_page_in_place(stack: Stack, new_page) -> None:
    """51 warnings assigned to one account: "assigned to me" shows 50, and its "more"
    row (htmx, no navigation) brings the 51st in its place."""
    codes = [f.uscc() for _ in range(51)]
    stack.produce(
        *(e for c in codes for e in (f.registered(c, district=SHENZHEN), f.dishonest_listed(c)))
    )
    assert eventually(
        lambda: all(stack.api.get(f"/enterprises/{c}/warnings").json() for c in codes)
    )
    account_id, key = stack.account("regulator", district="4403")
    wids = set()
    for code in codes:
        wid = _red_warning(stack, code)
        path = f"/enterprises/{code}/warnings/{wid}/assignment"
        assert stack.api.put(path, json={"account_id": account_id}).status_code == 200
        wids.add(wid)
    page = new_page(key)
    page.goto("/console/warnings?mine=1")
    rows = page.locator("#rows tr[data-warning]")
    assert rows.count() == 50
    url = page.url
    more = page.get_by_role("link", name="加载更多")
    more.focus()
    page.keyboard.press("Enter")
    page.locator("#rows tr.more").wait_for(state="detached")
    assert rows.count() == 51 and page.url == url  # appended in place
    shown = {rows.nth(i).get_attribute("data-warning") for i in range(51)}
    assert shown == wids
