"""The rules, inspections and admin screens in chromium, against a real worker and
API: a candidate rule set uploaded, backtested (its difference seen) and published; an
inspection plan drawn after its counts are previewed, and a result entered; an account
disabled, then its key refused."""

from __future__ import annotations

import re

import pytest

from tests import factories as f
from tests.browser.conftest import Stack, eventually
from tests.browser.test_console import _UNLABELLED

pytestmark = pytest.mark.integration
#: a district no other test's firms are in, so the counts are this test's own
DISTRICT = "445381"
POOL = "ZF-101, 张执法, samr, 440305\nZF-102, 李执法, tax, 440304\nZF-103, 王执法, customs"


def listed_firm(stack: Stack, district: str) -> str:
    """A new enterprise listed as a dishonest debtor (grade D, a red warning)."""
    code = f.uscc()
    stack.produce(f.registered(code, district=district), f.dishonest_listed(code))
    assert eventually(lambda: stack.api.get(f"/enterprises/{code}/warnings").json()), code
    return code


def test_a_plan_is_drawn_after_its_counts_are_previewed_and_a_result_entered(
    stack: Stack, new_page
) -> None:
    firms = {listed_firm(stack, DISTRICT) for _ in range(3)}
    plain = f.uscc()
    stack.produce(f.registered(plain, district=DISTRICT))
    assert eventually(lambda: stack.api.get(f"/enterprises/{plain}").status_code == 200)
    page = new_page(stack.admin_key)
    page.goto("/console/inspections")
    page.get_by_label("计划名称").fill("浏览器抽查")
    page.get_by_label("辖区代码(可多个)").fill(DISTRICT)
    page.get_by_label("执法人员名录").fill(POOL)
    page.get_by_role("button", name="预览抽取数量").click()
    counts = page.locator("#preview-counts")
    counts.wait_for()
    # the counts shown are the API's preview of the same draw, and nothing is drawn yet
    body = {"name": "x", "population": {"districts": [DISTRICT]}}
    expected = stack.api.post("/inspections/plans/preview", json=body).json()["counts"]
    assert expected["D"]["population"] == 3 and expected["A"]["population"] == 1
    shown = {g: int(counts.locator(f"tr[data-grade='{g}'] td.drawn").inner_text()) for g in "ABCD"}
    assert shown == {g: expected[g]["drawn"] for g in "ABCD"}
    total = int(page.locator("#preview-total").inner_text())
    assert total == sum(shown.values()) == 4  # every D, and ceil(0.02 x 1) of A
    before = len(stack.api.get("/inspections/plans").json())

    page.get_by_role("button", name="按此抽取").click()
    page.wait_for_url(re.compile(r"/console/inspections/plans/P"))
    plan_id = page.url.rsplit("/", 1)[1]
    assert len(stack.api.get("/inspections/plans").json()) == before + 1
    rows = page.locator("#targets tr[data-uscc]")
    assert rows.count() == total
    assert firms <= set(rows.evaluate_all("rows => rows.map(r => r.dataset.uscc)"))
    assert page.locator("#public-link").get_attribute("href") == (
        f"/public/inspections/plans/{plan_id}"
    )

    assert page.evaluate(_UNLABELLED) == []
    target, other = sorted(firms)[:2]
    page.get_by_label(f"检查结果 {target}").select_option("issues_found")
    page.get_by_label(f"检查发现(每行一条) {target}").fill("台账不全")
    page.get_by_role("button", name=f"保存 {target}").click()
    row = page.locator(f"#target-{target}")
    row.get_by_text("已保存").wait_for()
    assert "发现问题" in row.locator("td.result").inner_text()
    # another target's result from the keyboard alone: the result, the findings, save
    page.get_by_label(f"检查结果 {other}").focus()
    page.keyboard.press("ArrowDown")  # from "choose a result" to passed
    page.keyboard.press("Tab")
    page.keyboard.type("无")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.locator(f"#target-{other}").get_by_text("已保存").wait_for()
    plan = stack.api.get(f"/inspections/plans/{plan_id}").json()
    entered = {t["uscc"]: t for t in plan["targets"]}
    assert (entered[target]["result"], entered[target]["findings"]) == (
        "issues_found",
        ["台账不全"],
    )
    assert (entered[other]["result"], entered[other]["findings"]) == ("passed", ["无"])
    assert plan["progress"]["issues_found"] == 1 and plan["progress"]["passed"] == 1


def test_a_disabled_account_is_refused_at_once_in_the_api_and_the_console(
    stack: Stack, new_page
) -> None:
    account_id, key = stack.account("regulator")
    bearer = {"Authorization": f"Bearer {key}"}
    assert stack.api.get("/me", headers=bearer).status_code == 200
    theirs = new_page(key)  # signed in before it is disabled
    admin = new_page(stack.admin_key)
    admin.goto("/console/admin")
    row = admin.locator(f"tr[data-account='{account_id}']")
    assert "启用中" in row.locator("td.account-status").inner_text()
    admin.get_by_role("button", name=f"停用 {account_id}").click()
    admin.wait_for_url("**/console/admin?done=disabled")
    assert (
        "已停用" in admin.locator(f"tr[data-account='{account_id}'] td.account-status").inner_text()
    )
    assert stack.api.get("/me", headers=bearer).status_code == 401
    assert stack.api.get(f"/admin/accounts/{account_id}").json()["disabled"] is True
    theirs.goto("/console/warnings")
    assert theirs.url.endswith("/console/login")  # the session's key is refused too
    # enabled again, the same key works
    admin.get_by_role("button", name=f"启用 {account_id}").click()
    admin.wait_for_url("**/console/admin?done=enabled")
    assert stack.api.get("/me", headers=bearer).status_code == 200


CANDIDATE = b"""version = "browser-candidate"

[rules.dishonest_enterprise]
enabled = false
"""


def test_a_candidate_is_uploaded_backtested_and_published(stack: Stack, new_page) -> None:
    """Last in this module: it puts another rule set in force."""
    code = listed_firm(stack, "440305")
    in_force = stack.api.get("/rules").json()["version"]
    page = new_page(stack.admin_key)
    page.goto("/console/rules")
    page.get_by_label("规则文件", exact=True).set_input_files(
        files=[{"name": "candidate.toml", "mimeType": "text/plain", "buffer": CANDIDATE}]
    )
    page.get_by_role("button", name="上传并校验").click()
    page.wait_for_url(re.compile(r"/console/rules/candidates/C"))
    candidate_id = page.url.rsplit("/", 1)[1]
    changes = page.locator("#changes").inner_text()
    assert "dishonest_enterprise" in changes and "enabled" in changes
    assert stack.api.get("/rules").json()["version"] == in_force  # stored, not in force
    assert page.evaluate(_UNLABELLED) == []
    # publishing without the session's CSRF token is refused, and nothing changes
    refused = page.request.post(f"/console/rules/candidates/{candidate_id}/publish", form={})
    assert refused.status == 403
    assert stack.api.get("/rules").json()["version"] == in_force

    page.get_by_role("button", name="开始回测").click()
    page.wait_for_url(re.compile(r"/console/rules/backtests/B"))
    page.locator("#backtest[data-status='done']").wait_for(timeout=60_000)  # polled by htmx
    job = stack.api.get(f"/rules/backtests/{page.url.rsplit('/', 1)[1]}").json()
    assert job["status"] == "done" and job["done"] == job["total"] >= 1
    warned = page.locator("#bt-warnings tr[data-rule='dishonest_enterprise'] td").all_inner_texts()
    figures = job["figures"]["warnings"]["dishonest_enterprise"]
    assert warned[1:3] == [str(figures["in_force"]), str(figures["candidate"])]
    assert figures["in_force"] >= 1 and figures["candidate"] == 0
    changed = page.locator("#bt-changed").inner_text()
    assert code in changed  # its grade D would change
    grades = page.locator("#bt-grades tr[data-grade='D'] td").all_inner_texts()
    assert int(grades[2]) < int(grades[1])
    for run in ("in-force", "candidate"):  # the distributions drawn, a bar per grade
        chart = page.locator(f"#chart-bt-{run}")
        chart.locator("canvas").wait_for()
        assert chart.get_attribute("data-points") == str(len(job["figures"]["grades"]))
    assert page.evaluate(_UNLABELLED) == []

    page.get_by_role("button", name="发布候选规则集 browser-candidate").click()
    page.wait_for_url("**/console/rules?published=1")
    assert stack.api.get("/rules").json()["version"] == "browser-candidate"
    versions = page.locator("#versions").inner_text()
    assert "browser-candidate" in versions and candidate_id in versions
    history = stack.api.get("/rules/history").json()
    assert (history[0]["version"], history[0]["candidate_id"]) == (
        "browser-candidate",
        candidate_id,
    )
