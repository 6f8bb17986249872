"""The enterprise profile in chromium, against a real worker and API: its related
parties (for regulators, never a natural person's data elsewhere), and a false alarm
recorded in the browser that the worker feeds back into the grade the profile shows."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.browser.conftest import Stack, eventually
from tests.browser.test_console import SHENZHEN

pytestmark = pytest.mark.integration


def test_the_profile_shows_related_parties_to_regulators(stack: Stack, new_page) -> None:
    rep, place = f.unique_person("赵六"), f.address()
    firm, neighbour, sibling = f.uscc(), f.uscc(), f.uscc()
    stack.produce(
        f.registered(firm, legal_rep=rep, address=place, name="甲贸易有限公司"),
        f.registered(neighbour, address=place, name="乙咨询有限公司"),
        f.registered(sibling, legal_rep=rep, name="丙科技有限公司"),
    )
    assert eventually(
        lambda: (
            len(stack.api.get(f"/enterprises/{firm}/related").json().get("at_address", []))
            + len(stack.api.get(f"/enterprises/{firm}/related").json().get("legal_rep_firms", []))
            == 2
        )
    )
    _, key = stack.account("regulator", district="4403")
    page = new_page(key)
    page.goto(f"/console/enterprises/{firm}")
    address = page.locator("#related-address")
    assert "乙咨询有限公司" in address.inner_text() and neighbour in address.inner_text()
    rep_firms = page.locator("#related-rep")
    assert "丙科技有限公司" in rep_firms.inner_text() and "legal_rep" in rep_firms.inner_text()
    # no natural person's name or ID number among the related parties
    related = page.locator("#related").inner_text()
    assert rep["name"] not in related and rep["id_no"] not in related
    # a related firm opens its own profile
    rep_firms.get_by_role("link", name="丙科技有限公司").click()
    page.wait_for_url(f"**/console/enterprises/{sibling}")
    assert "甲贸易有限公司" in page.locator("#related-rep").inner_text()
    # a department's profile has no related parties; it does not see the person either
    _, department = stack.account("department", district="4403")
    other = new_page(department)
    other.goto(f"/console/enterprises/{firm}")
    assert other.locator("#related").count() == 0
    assert rep["id_no"] not in other.locator("main").inner_text()


def test_a_false_alarm_made_in_the_browser_changes_the_profile(stack: Stack, new_page) -> None:
    code = f.uscc()
    stack.produce(f.registered(code, district=SHENZHEN), f.dishonest_listed(code))
    found = eventually(lambda: stack.api.get(f"/enterprises/{code}/warnings").json())
    wid = next(w["warning_id"] for w in found if w["rule_id"] == "dishonest_enterprise")
    _, key = stack.account("regulator", district="4403")
    page = new_page(key)
    page.goto(f"/console/enterprises/{code}")
    assert page.locator("h1 .badge").inner_text() == "D"
    row = page.locator(f"tr[data-warning='{wid}']")
    assert "未关闭" in row.inner_text()
    assert "dishonest_enterprise" in page.locator("#contributions").inner_text()

    page.goto(f"/console/warnings/{code}/{wid}")
    page.locator("#d-outcome").select_option("false_alarm")
    page.locator("#d-note").fill("名称近似,非同一企业")
    page.get_by_role("button", name="提交").click()
    page.get_by_text("已记录处置结果。").wait_for()

    # the worker re-evaluates the firm as of the disposition: the profile follows
    def recovered() -> bool:
        page.goto(f"/console/enterprises/{code}")
        return page.locator("h1 .badge").inner_text() == "A"

    assert eventually(recovered, timeout=30)
    status = row.locator("td.status").inner_text()
    assert "已关闭" in status and "误报" in status
    assert "误报" in row.inner_text()  # its latest disposition
    contributions = page.locator("#contributions").inner_text()
    assert "dishonest_enterprise" not in contributions
    timeline = page.locator("main table.list").first.inner_text()
    assert f"disposition:{wid}" in timeline
    firm = stack.api.get(f"/enterprises/{code}").json()
    assert firm["grade"] == "A" and "dishonest_enterprise" not in firm["contributions"]
