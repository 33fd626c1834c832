"""The console as people use it, in a real browser against the real stack (issue 13, "Prove")."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import CODE, Api, Shots
from tests.support import bearer, wait_until

LOOP_TOWNSHIP = "凤埔乡"
HAND_TOWNSHIP = "泮洋乡"


def order_by_api(api: Api, resident: str, **overrides: str) -> dict:
    body = {
        "category": "elder_care",
        "title": "帮忙买菜",
        "description": "腿脚不便，想请人帮忙买一周的菜",
        "township": LOOP_TOWNSHIP,
        "village": "溪口村",
        **overrides,
    }
    response = api.call("POST", "/api/v1/requests", bearer("resident", resident), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def resident_logs_in(person, phone: str, shots: Shots | None = None) -> Page:
    """Phone, code by 'SMS' (the development inbox, opened from the login page), log in."""
    page = person.open("login")
    if shots:
        shots.page(page, "login")
    page.get_by_label("手机号").fill(phone)
    page.get_by_role("button", name="获取验证码").click()
    with person.context.expect_page() as opened:
        page.get_by_role("link", name="打开开发收件箱查看验证码").click()
    inbox = opened.value
    expect(inbox.locator(".message-text").first).to_contain_text("验证码", timeout=20_000)
    if shots:
        shots.page(inbox, "dev-inbox")
    code = CODE.search(inbox.locator(".message-text").first.inner_text()).group(1)
    inbox.close()
    page.get_by_label("短信验证码（6 位）").fill(code)
    page.get_by_role("button", name="用验证码登录").click()
    expect(page.locator("html")).to_have_attribute("data-live", "on")
    return page


def card(page: Page, title: str):
    return page.locator("article.card", has=page.get_by_role("heading", name=title))


def test_a_resident_orders_a_volunteer_serves_the_resident_rates_and_both_screens_show_it_closed(
    api, people, shots
):
    api.station(LOOP_TOWNSHIP, "溪口村", "B01")
    volunteer_id = api.volunteer("林秀梅", LOOP_TOWNSHIP, ["elder_care"])
    api.account("browser.fengpu", "volunteer", "林秀梅", volunteer_id=volunteer_id)
    api.account("browser.centre", "admin", "县中心工作人员")
    neighbour = order_by_api(api, "browser-neighbour", title="帮邻居老人取药")

    staff = people("staff")
    staff.log_in("browser.centre")
    rates = staff.open("stats")
    counts = rates.locator("[data-counts=total]")
    expect(counts).to_be_visible()
    completed_before = int(counts.get_attribute("data-completed"))
    ratings_before = int(counts.get_attribute("data-ratings"))

    resident = people("resident")
    page = resident_logs_in(resident, "13900001234", shots)
    expect(page).to_have_url(re.compile(r"#/order$"))
    shots.page(page, "resident-order")
    page.locator("input[name=category][value=elder_care]").check()
    page.get_by_label("乡镇（街道）").select_option(LOOP_TOWNSHIP)
    page.get_by_label("村（社区）").fill("溪口村")
    similar = page.get_by_role("region", name="附近已有类似的需求")
    expect(similar).to_contain_text(neighbour["title"])
    shots.page(page, "resident-order-similar")
    page.get_by_label("一句话说明").fill("陪我去卫生院复查")
    page.get_by_label("详细情况").fill("周三上午，腿脚不便，需要有人陪同")
    page.get_by_label("联系电话（可选）").fill("13900001234")
    page.get_by_role("button", name="提交需求").click()
    expect(page).to_have_url(re.compile(r"#/requests/\w+"))
    request_id = page.url.rsplit("/", 1)[1]
    expect(page.get_by_role("heading", name="陪我去卫生院复查", level=1)).to_be_visible()
    shots.page(page, "resident-request")

    volunteer = people("volunteer")
    volunteer.log_in("browser.fengpu")
    tasks = volunteer.page
    expect(tasks).to_have_url(re.compile(r"#/tasks$"))
    offer = card(tasks, "陪我去卫生院复查")
    expect(offer.get_by_role("timer")).to_contain_text("回复剩余")
    shots.page(tasks, "volunteer-offers")
    offer.get_by_role("button", name="接单").click()

    # The resident's page hears of the acceptance by itself and shows the code to read out.
    digits = page.locator(".code-digits")
    expect(digits).to_have_text(re.compile(r"^\d{6}$"))
    expect(page.locator(".badge[data-status]").first).to_have_attribute("data-status", "accepted")
    shots.page(page, "resident-service-code")
    code = digits.inner_text()

    under_way = card(tasks, "陪我去卫生院复查")
    under_way.get_by_label("到达后请居民念服务码").fill(code)
    under_way.get_by_role("button", name="签到，开始服务").click()
    expect(under_way.get_by_label("离开时请居民念服务码")).to_be_visible()
    expect(page.locator(".badge[data-status]").first).to_have_attribute("data-status", "in_service")
    shots.page(tasks, "volunteer-in-service")
    under_way.get_by_label("离开时请居民念服务码").fill(code)
    under_way.get_by_role("button", name="签退，完成服务").click()

    rate = page.get_by_role("group", name="满意程度")
    expect(rate).to_be_visible()
    shots.page(page, "resident-rate")
    rate.locator("label").nth(4).click()
    page.get_by_label("想说的话（可选）").fill("很耐心，谢谢")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator(".badge[data-status]").first).to_have_attribute(
        "data-status", "closed", timeout=30_000
    )
    expect(page.locator(".badge[data-status]").first).to_have_text("已完成")
    expect(page.get_by_role("status").filter(has_text="您的评价")).to_contain_text("很耐心")
    shots.page(page, "resident-closed")

    # The volunteer's screen shows it closed with the stars, without reloading.
    closed = tasks.locator("article.card", has=tasks.get_by_role("heading", name="陪我去卫生院复查")).locator(
        "[data-closed=true]"
    )
    expect(closed).to_contain_text("已办结", timeout=30_000)
    expect(closed.get_by_role("img", name="5 星")).to_be_visible()
    shots.page(tasks, "volunteer-closed")
    hours = volunteer.open("hours")
    expect(hours.locator("table tbody tr").first).to_contain_text(LOOP_TOWNSHIP)
    expect(hours.locator(".figure-value").nth(1)).to_have_text("1")
    shots.page(hours, "volunteer-hours")

    mine = resident.open("requests")
    expect(mine.locator(f"[data-request='{request_id}'] .badge")).to_have_attribute("data-status", "closed")
    shots.page(mine, "resident-requests")

    # Staff watching the rates see them move as the loop closes.
    expect(counts).to_have_attribute("data-completed", str(completed_before + 1), timeout=30_000)
    expect(counts).to_have_attribute("data-ratings", str(ratings_before + 1), timeout=30_000)
    township_row = rates.locator(f"tr[data-township='{LOOP_TOWNSHIP}']")
    expect(township_row).to_contain_text("100%")
    shots.page(rates, "staff-rates")


def test_a_dispatcher_assigns_an_escalated_request_by_hand(api, people, shots):
    ordered = order_by_api(
        api,
        "browser-hand",
        category="repairs",
        title="屋顶漏雨要修",
        description="下雨天屋顶漏水，需要有人上去补瓦",
        township=HAND_TOWNSHIP,
        village="岭头村",
    )
    wait_until(
        lambda: api.call("GET", f"/api/v1/requests/{ordered['id']}").json()["status"] == "escalated",
        timeout=30,
        what="the request to wait for a dispatcher",
    )
    # A repairer joins after the request was escalated: only a person can now send them.
    repairer = api.volunteer("陈建国", HAND_TOWNSHIP, ["repairs"])
    api.account("browser.panyang", "dispatcher", "泮洋乡调度员", township=HAND_TOWNSHIP)

    dispatcher = people("dispatcher")
    dispatcher.log_in("browser.panyang")
    board = dispatcher.page
    expect(board).to_have_url(re.compile(r"#/board$"))
    waiting = board.locator(f"article[data-request='{ordered['id']}']")
    expect(waiting).to_contain_text("待指派")
    shots.page(board, "dispatcher-board")
    waiting.click()
    candidate = board.locator(f"article[data-candidate='{repairer}']")
    expect(candidate.locator(".score-parts")).to_contain_text("口碑")
    expect(candidate).to_contain_text("陈建国")
    shots.page(board, "dispatcher-job")
    candidate.get_by_role("button", name="指派 陈建国").click()
    expect(board.get_by_role("status").filter(has_text="已处理")).to_be_visible()
    expect(board.locator("ol.attempts")).to_contain_text(f"人工 → {repairer}")
    record = api.call("GET", f"/api/v1/dispatch/{ordered['id']}").json()
    assert record["attempts"][-1]["volunteer_id"] == repairer
    assert record["attempts"][-1]["level"] == "manual" and record["attempts"][-1]["by"]
    shots.page(board, "dispatcher-assigned")


def test_every_other_page_of_each_role_in_both_languages(api, people, shots):
    township = "卓洋乡"
    helper = api.volunteer("黄丽华", township, ["elder_care", "culture"])
    api.account("browser.zhuoyang", "volunteer", "黄丽华", volunteer_id=helper)
    api.account("browser.steward", "steward", "卓洋乡小巷管家", township=township)
    api.account("browser.admin", "admin", "县中心管理员")
    wish = {
        "beneficiary": {
            "name": "张秀英",
            "flags": ["living_alone", "elderly"],
            "township": township,
            "village": "前洋村",
        },
        "title": "想要一台收音机",
        "description": "独居老人，想听戏曲",
        "category": "culture",
    }
    assert api.call("POST", "/api/v1/wishes", json=wish).status_code == 201
    beneficiary = api.call(
        "POST",
        "/api/v1/beneficiaries",
        json={"name": "李阿婆", "township": township, "village": "前洋村", "flags": ["elderly"]},
    ).json()
    pairing = {
        "beneficiary_id": beneficiary["id"],
        "volunteer_ids": [helper],
        "every_days": 7,
        "first_visit_at": "2030-01-01T01:00:00Z",
        "note": "每周陪聊天、量血压",
    }
    assert api.call("POST", "/api/v1/pairings", json=pairing).status_code == 201
    # A request nobody near can take goes to the claim pool.
    order_by_api(
        api, "browser-pool", category="culture", title="教孩子们唱山歌", township="大甲镇", village="坑里村"
    )

    resident = people("resident")
    page = resident_logs_in(resident, "13900005678")
    wall = resident.open("wishes")
    expect(card(wall, "想要一台收音机")).to_contain_text("张*英")
    shots.page(wall, "resident-wishes")
    resident.open("settings")
    expect(page.get_by_role("heading", name="用什么方式通知我")).to_be_visible()
    shots.page(page, "settings")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name="Notice settings", level=1)).to_be_visible()
    resident.open("order")
    expect(page.get_by_role("heading", name="Order a service", level=1)).to_be_visible()
    shots.page(page, "resident-order-english")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("heading", name="我要点单", level=1)).to_be_visible()

    volunteer = people("volunteer")
    volunteer.log_in("browser.zhuoyang")
    pool = volunteer.open("pool")
    expect(pool.get_by_role("heading", name="教孩子们唱山歌")).to_be_visible(timeout=30_000)
    shots.page(pool, "volunteer-pool")
    hours = volunteer.open("hours")
    expect(hours.get_by_role("button", name="下载时长证明（PDF）")).to_be_visible()
    with hours.expect_download() as downloaded:
        hours.get_by_role("button", name="下载时长证明（PDF）").click()
    assert downloaded.value.suggested_filename.endswith(".pdf")
    assert Path(downloaded.value.path()).read_bytes()[:5] == b"%PDF-"
    visits = volunteer.open("visits")
    expect(visits.locator("article.card")).to_contain_text("每周陪聊天、量血压")
    shots.page(visits, "volunteer-visits")

    steward = people("steward")
    steward.log_in("browser.steward")
    report = steward.page
    expect(report).to_have_url(re.compile(r"#/patrol$"))
    report.get_by_label("村（社区）").fill("前洋村")
    report.get_by_label("具体位置（可选）").fill("村口桥头")
    report.get_by_label("发现了什么问题？").fill("桥头护栏松动")
    report.locator("input[name=tier][value=resolved_on_site]").check()
    report.get_by_label("怎么解决的？").fill("当场找村民加固了护栏")
    shots.page(report, "steward-patrol")
    report.get_by_role("button", name="上报").click()
    expect(report.get_by_role("status").filter(has_text="已上报")).to_be_visible()
    mine = steward.open("patrols")
    expect(mine.locator("article.card").first).to_contain_text("桥头护栏松动")
    shots.page(mine, "steward-reports")

    admin = people("admin")
    admin.log_in("browser.admin")
    for route, name, heading in (
        ("board", "admin-board", "调度台"),
        ("followups", "admin-followups", "待回访"),
        ("audit", "admin-audit", "审计记录"),
    ):
        shown = admin.open(route)
        expect(shown.get_by_role("heading", name=heading, level=1)).to_be_visible()
        shots.page(shown, name)
    # The trail answers now: its entries (the accounts the fixtures made), or an empty page; never
    # the card saying the audit service is not there yet.
    expect(admin.page.locator('[data-audit="entries"], [data-audit="empty"]')).to_be_visible()
    expect(admin.page.locator('[data-audit="pending"]')).to_have_count(0)


def test_a_volunteer_declines_with_a_reason_and_a_team_leader_names_who_serves(api, people, shots):
    township = "黄田镇"
    decliner = api.volunteer("郑美玲", township, ["repairs"])
    api.account("browser.huangtian", "volunteer", "郑美玲", volunteer_id=decliner)
    ordered = order_by_api(
        api,
        "browser-team",
        category="repairs",
        title="厨房水管漏水",
        description="厨房水管接头漏水，地上都是水",
        township=township,
        village="黄田村",
    )

    volunteer = people("decliner")
    volunteer.log_in("browser.huangtian")
    tasks = volunteer.page
    offer = card(tasks, "厨房水管漏水")
    expect(offer.get_by_role("timer")).to_contain_text("回复剩余", timeout=30_000)
    # The offer also arrived as a notice (the in-console channel), with the bell counting it.
    tasks.get_by_role("link", name=re.compile(r"^通知，[1-9]\d* 条未读$")).click()
    expect(tasks.locator("button.notice").first).to_contain_text("厨房水管漏水")
    shots.page(tasks, "volunteer-notices")
    volunteer.open("tasks")
    offer.get_by_role("button", name="婉拒").click()
    offer.get_by_label("婉拒原因（必填）").fill("这周在外地，赶不回来")
    shots.page(tasks, "volunteer-decline")
    offer.get_by_role("button", name="确认婉拒").click()
    expect(card(tasks, "厨房水管漏水")).to_have_count(0)
    wait_until(
        lambda: api.call("GET", f"/api/v1/requests/{ordered['id']}").json()["status"] == "escalated",
        timeout=30,
        what="the declined request to wait for a dispatcher",
    )
    first = api.call("GET", f"/api/v1/dispatch/{ordered['id']}").json()["attempts"][0]
    assert first["volunteer_id"] == decliner
    assert (first["status"], first["reason"]) == ("declined", "这周在外地，赶不回来")

    # A repair team forms; a dispatcher sends it the request, and its leader names who goes.
    leader = api.volunteer("吴志强", township, ["repairs"])
    member = api.volunteer("刘海燕", township, ["repairs"])
    api.account("browser.leader", "volunteer", "吴志强", volunteer_id=leader)
    api.account("browser.member", "volunteer", "刘海燕", volunteer_id=member)
    team = {
        "name": "古田县水电维修志愿服务队",
        "kind": "county_corps",
        "townships": [township],
        "categories": ["repairs"],
        "leader_id": leader,
    }
    created = api.call("POST", "/api/v1/teams", json=team)
    assert created.status_code == 201, created.text
    team_id = created.json()["id"]
    # Members join as an admin adds them (member_ids given at creation do not reach /members).
    joined = api.call("POST", f"/api/v1/teams/{team_id}/members", json={"volunteer_id": member})
    assert joined.status_code == 201, joined.text

    serving = people("member")
    serving.log_in("browser.member")
    member_tasks = serving.page
    expect(member_tasks.get_by_role("heading", name="进行中")).to_be_visible()
    expect(card(member_tasks, "厨房水管漏水")).to_have_count(0)

    wait_until(
        lambda: api.call("POST", f"/api/v1/dispatch/{ordered['id']}/assign", json={"team_id": team_id}).ok,
        timeout=30,
        what="dispatch to know the team and send it the request",
    )
    head = people("leader")
    head.log_in("browser.leader")
    inbox = head.page
    expect(inbox.get_by_role("heading", name="服务队的任务（队长）")).to_be_visible(timeout=30_000)
    team_offer = card(inbox, "厨房水管漏水")
    expect(team_offer.get_by_role("timer")).to_contain_text("回复剩余")
    team_offer.get_by_label("派谁去？").select_option(label="刘海燕")
    shots.page(inbox, "volunteer-team-offer")
    team_offer.get_by_role("button", name="代队接单").click()
    expect(card(inbox, "厨房水管漏水")).to_have_count(0)

    # The member's open page shows the task under way, ready for the resident's code, without reloading.
    under_way = card(member_tasks, "厨房水管漏水")
    expect(under_way.get_by_label("到达后请居民念服务码")).to_be_visible(timeout=30_000)
    task = api.call("GET", f"/api/v1/dispatch/{ordered['id']}").json()["attempts"][-1]
    assert (task["team_id"], task["status"]) == (team_id, "accepted")
    shots.page(member_tasks, "volunteer-team-task")
