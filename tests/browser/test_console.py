"""The console as its users meet it, in chromium: scope, the live workbench, the
profile's chart, the public page, no request off the origin, CSRF, labels and the
keyboard."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests import factories as f
from tests.browser.conftest import Stack, eventually

pytestmark = pytest.mark.integration
SHENZHEN, BEIJING = "440305", "110105"


def firm(stack: Stack, district: str, *more: Any, legal_rep: dict[str, str] | None = None) -> str:
    """A new enterprise of `district`, with a dishonest listing (a red warning): its
    USCC once the API shows the warning."""
    code = f.uscc()
    stack.produce(
        f.registered(code, legal_rep=legal_rep, district=district), f.dishonest_listed(code), *more
    )
    assert eventually(lambda: stack.api.get(f"/enterprises/{code}/warnings").json()), code
    return code


def test_a_department_sees_its_district_only_and_no_admin_page(stack: Stack, new_page) -> None:
    mine, theirs = firm(stack, SHENZHEN), firm(stack, BEIJING)
    account_id, key = stack.account("department", district="4403")
    page = new_page(key)
    assert page.get_by_role("link", name="管理").count() == 0
    page.goto(f"/console/enterprises/{mine}")
    assert page.get_by_text(mine).first.is_visible()
    response = page.goto(f"/console/enterprises/{theirs}")
    assert response.status == 404 and theirs in page.content()  # "no record of" it
    assert page.goto("/console/admin").status == 403
    page.goto("/console/inspections")  # blind spots: the district's only
    spots = page.locator("main a[href^='/console/enterprises/']").all_inner_texts()
    assert all(theirs not in text for text in spots)
    page.goto("/console/warnings")
    shown = page.locator("#rows tr[data-warning] td:nth-child(4)").all_inner_texts()
    assert mine in shown and theirs not in shown
    # masked as the API masks it for a department: no ID number
    page.goto(f"/console/enterprises/{mine}")
    assert not re.search(r"\d{17}[\dX]", page.locator("main").inner_text())
    # console views are in the access log like API reads
    log = stack.api.get("/admin/access-log", params={"account_id": account_id}).json()["items"]
    assert {"/console/warnings", f"/console/enterprises/{mine}"} <= {r["path"] for r in log}


def test_a_warning_produced_to_kafka_appears_in_the_open_workbench(stack: Stack, new_page) -> None:
    page = new_page(stack.admin_key)
    page.goto("/console/warnings")
    page.locator("#live-state.on").wait_for()
    code = f.uscc()
    started = time.monotonic()
    stack.produce(f.registered(code), f.dishonest_listed(code))
    # the firm may raise other warnings beside it (its annual report, by the wall clock):
    # the row looked for is the listing's, wherever it lands among them
    row = page.locator("#rows tr", has_text=code).filter(has_text="dishonest_enterprise")
    row.first.wait_for(timeout=5_000)
    assert time.monotonic() - started < 5
    assert page.url.endswith("/console/warnings")  # no reload, no navigation
    # filtered by the form (an htmx swap): the live feed follows the filter
    page.locator("#f-rule").select_option("dishonest_enterprise")
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"rule_id=dishonest_enterprise"))
    page.locator("#live-state.on").wait_for()
    other = f.uscc()
    stack.produce(f.registered(other), f.dishonest_listed(other))
    page.locator("#rows tr", has_text=other).first.wait_for(timeout=5_000)
    rules = page.locator("#rows tr[data-warning] td:nth-child(3)").all_inner_texts()
    assert set(rules) == {"dishonest_enterprise"}


def test_the_profile_chart_has_a_point_per_grade_change(stack: Stack, new_page) -> None:
    code = firm(stack, SHENZHEN)
    stack.produce(*(f.penalty(code, d) for d in ("2026-01-05", "2026-02-05", "2026-03-05")))
    changes = {"kind": "grade_change"}
    assert eventually(
        lambda: len(stack.api.get(f"/enterprises/{code}/history", params=changes).json()) >= 2
    )
    # a disposition in the history too: the chart plots the grade changes only
    warning = stack.api.get(f"/enterprises/{code}/warnings").json()[0]
    disposed = stack.api.put(
        f"/enterprises/{code}/warnings/{warning['warning_id']}/disposition",
        json={"disposition": "verified", "note": "核实"},
    )
    assert disposed.status_code == 200, disposed.text
    page = new_page(stack.admin_key)
    page.goto(f"/console/enterprises/{code}")
    chart = page.locator("#chart-history[data-points]")
    chart.locator("canvas").wait_for()
    history = stack.api.get(f"/enterprises/{code}/history", params=changes).json()
    assert {e["kind"] for e in history} == {"grade_change"}
    assert int(chart.get_attribute("data-points") or 0) == len(history)
    assert "核实" in page.locator("#dispositions").inner_text()


def test_the_public_page_shows_no_personal_data(stack: Stack, new_page) -> None:
    rep = f.person("欧阳明")
    code = firm(stack, SHENZHEN, legal_rep=rep)
    page = new_page()  # no sign-in
    page.goto("/console/public")
    page.get_by_label("按企业名称或统一社会信用代码查询").fill(code)
    page.get_by_role("button", name="查询").click()
    page.locator("#disclosure").wait_for()
    text = page.content()
    assert code in text and "失信被执行人" in text
    assert rep["name"] not in text and rep["id_no"] not in text and "欧阳" not in text
    assert not re.search(r"\d{6}(19|20)\d{2}[01]\d[0-3]\d\d{3}[\dX]", text)


def test_no_request_leaves_the_origin(stack: Stack, new_page) -> None:
    code = firm(stack, SHENZHEN)
    page = new_page(stack.admin_key)
    for path in (
        "/console/",
        "/console/warnings",
        "/console/enterprises",
        f"/console/enterprises/{code}",
        "/console/admin",
        "/console/rules",
        "/console/inspections",
        f"/console/public?uscc={code}",
        "/console/?lang=en",
    ):
        page.goto(path)
        if "warnings" not in path:  # the workbench's stream never idles
            page.wait_for_load_state("networkidle")
    assert len(page.requests_seen) > 10  # the pages, their scripts, styles and streams
    assert page.foreign == []
    csp = page.goto("/console/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe" not in csp


def test_a_form_without_its_csrf_token_is_refused(stack: Stack, new_page) -> None:
    _, key = stack.account("department")
    key_id = stack.api.get("/admin/keys").json()[-1]["key_id"]
    page = new_page(stack.admin_key)
    page.goto("/console/admin")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    # the session cookie goes along (same context); the token does not
    refused = page.request.post(f"/console/admin/keys/{key_id}/revoke", form={"x": "1"})
    assert refused.status == 403
    wrong = page.request.post(
        f"/console/admin/keys/{key_id}/revoke", form={"x": "1"}, headers={"X-CSRF-Token": "no"}
    )
    assert wrong.status == 403
    assert stack.api.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    # the same form with its token, from the page: the key is revoked
    page.locator(f"form[action='/console/admin/keys/{key_id}/revoke'] button").click()
    page.wait_for_url("**/console/admin")
    assert (
        token
        and stack.api.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    )


_UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.type !== 'hidden')
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map((el) => el.outerHTML)"""


def test_every_control_has_a_label_and_the_workbench_works_from_the_keyboard(
    stack: Stack, new_page
) -> None:
    code = firm(stack, SHENZHEN)
    page = new_page(stack.admin_key)
    for path in (
        "/console/",
        "/console/warnings",
        "/console/enterprises",
        "/console/admin",
        f"/console/enterprises/{code}",
        "/console/public",
        "/console/login",
        "/console/rules",
        "/console/inspections",
    ):
        page.goto(path)
        assert page.evaluate(_UNLABELLED) == [], path
    warnings = stack.api.get(f"/enterprises/{code}/warnings").json()
    warning = next(w for w in warnings if w["severity"] == "red")
    page.goto(f"/console/warnings/{code}/{warning['warning_id']}")
    assert page.evaluate(_UNLABELLED) == []
    # the filters and a warning, from the keyboard alone
    page.goto("/console/warnings")
    page.locator("#f-severity").focus()
    page.keyboard.press("ArrowDown")  # yellow
    page.keyboard.press("ArrowDown")  # orange
    page.keyboard.press("ArrowDown")  # red
    page.keyboard.press("Tab")  # the status
    page.keyboard.press("Tab")  # the button
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"severity=red"))
    rows = page.locator("#rows tr[data-warning]")
    rows.first.wait_for()
    assert set(page.locator("#rows tr[data-warning] td:nth-child(2)").all_inner_texts()) == {"red"}
    link = page.locator(f"#rows a[href='/console/warnings/{code}/{warning['warning_id']}']").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/warnings/{code}/{warning['warning_id']}")
    assert page.get_by_label("分派给(人员或单位)").is_visible()


def test_an_admin_moves_a_department_to_another_district_and_its_key_follows(
    stack: Stack, new_page
) -> None:
    here, there = firm(stack, SHENZHEN), firm(stack, BEIJING)
    account_id, key = stack.account("department", district=SHENZHEN)
    as_key = {"Authorization": f"Bearer {key}"}
    assert stack.api.get(f"/enterprises/{here}", headers=as_key).status_code == 200
    assert stack.api.get(f"/enterprises/{there}", headers=as_key).status_code == 404
    page = new_page(stack.admin_key)
    page.goto("/console/admin")
    assert page.evaluate(_UNLABELLED) == []
    # refused: without the form's token, or with a district that is no division code
    path = f"/console/admin/accounts/{account_id}"
    assert page.request.post(path, form={"role": "department"}).status == 403
    token = page.locator("input[name=csrf_token]").first.get_attribute("value") or ""
    bad = {"csrf_token": token, "role": "department", "district": "44x"}
    assert page.request.post(path, form=bad).status == 422
    assert stack.api.get(f"/admin/accounts/{account_id}").json()["district"] == SHENZHEN
    # the account's edit form, opened and sent from the keyboard
    page.locator(f"tr[data-account='{account_id}'] summary").focus()
    page.keyboard.press("Enter")
    district = page.get_by_label(f"辖区代码 {account_id}")
    assert district.input_value() == SHENZHEN
    assert page.get_by_label(f"角色 {account_id}").input_value() == "department"
    district.fill(BEIJING)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/admin?done=changed")
    assert page.get_by_role("status").inner_text().startswith("账户已修改")
    account = stack.api.get(f"/admin/accounts/{account_id}").json()
    assert (account["district"], account["role"], account["disabled"]) == (
        BEIJING,
        "department",
        False,
    )
    assert account["changed_at"] and account["rate_limit"] is None
    # its key sees the other district only, at its next request
    assert stack.api.get("/me", headers=as_key).json()["district"] == BEIJING
    assert stack.api.get(f"/enterprises/{there}", headers=as_key).status_code == 200
    assert stack.api.get(f"/enterprises/{here}", headers=as_key).status_code == 404
    theirs = new_page(key)
    assert theirs.goto(f"/console/enterprises/{there}").status == 200
    assert theirs.goto(f"/console/enterprises/{here}").status == 404


def test_an_admin_opens_an_account_and_its_key_in_the_browser(stack: Stack, new_page) -> None:
    page = new_page(stack.admin_key)
    page.goto("/console/admin")
    page.get_by_label("账户", exact=True).fill("futian-tax")
    page.get_by_label("名称", exact=True).fill("福田区税务局")
    page.get_by_label("部门", exact=True).fill("tax")
    page.get_by_label("辖区代码", exact=True).fill("440304")
    page.get_by_role("button", name="开设账户").click()
    page.wait_for_url("**/console/admin")
    page.get_by_role("button", name="新建密钥 futian-tax").click()
    key = page.locator("#new-key").inner_text()
    me = stack.api.get("/me", headers={"Authorization": f"Bearer {key}"}).json()
    assert (me["account_id"], me["role"], me["district"]) == ("futian-tax", "department", "440304")
    page.goto("/console/admin")  # shown once: not on the page again
    assert key not in page.content()
