"""Built-in vocabulary and profile makers for the synthetic city (streams/simulation).

Everything here draws from a `random.Random` handed in by the caller, so a city is
reproducible from its seed. Uniqueness that the planted patterns rely on is made by
construction: every person gets an ID number nobody else has (`People`) and every
ordinary address is a distinct mixed-radix number (`Addresses`), so no two enterprises
share a person or an address unless a pattern plants it.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from streams.contract.identifiers import make_id_number

# Shenzhen districts (GB/T 2260 codes): name, sub-district -> streets
DISTRICTS: dict[str, tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "440303": (
        "罗湖区",
        (
            ("东门街道", ("解放路", "东门中路", "湖贝路")),
            ("桂园街道", ("宝安南路", "红岭中路", "松园路")),
            ("南湖街道", ("人民南路", "建设路", "嘉宾路")),
        ),
    ),
    "440304": (
        "福田区",
        (
            ("福田街道", ("福华路", "金田路", "福华三路")),
            ("华强北街道", ("华强北路", "振兴路", "振华路")),
            ("沙头街道", ("深南大道", "泰然九路", "车公庙路")),
            ("莲花街道", ("红荔路", "景田路", "莲花路")),
        ),
    ),
    "440305": (
        "南山区",
        (
            ("粤海街道", ("科苑路", "高新南一道", "科技南十二路")),
            ("南头街道", ("南头街", "中山东街", "南新路")),
            ("西丽街道", ("留仙大道", "沙河西路", "茶光路")),
            ("招商街道", ("太子路", "望海路", "工业三路")),
        ),
    ),
    "440306": (
        "宝安区",
        (
            ("新安街道", ("宝民一路", "创业一路", "建安一路")),
            ("西乡街道", ("宝源路", "西乡大道", "航城大道")),
            ("沙井街道", ("新沙路", "沙井路", "南环路")),
        ),
    ),
    "440307": (
        "龙岗区",
        (
            ("龙城街道", ("龙城大道", "清林路", "龙翔大道")),
            ("坂田街道", ("五和大道", "坂雪岗大道", "吉华路")),
            ("布吉街道", ("布吉路", "罗岗路", "中兴路")),
        ),
    ),
}
DISTRICT_CODES = tuple(DISTRICTS)
DISTRICT_WEIGHTS = (8, 20, 26, 24, 22)
BUILDINGS = ("科技大厦", "创业中心", "商务中心", "国际大厦", "产业园", "孵化基地")

# Household-registration divisions used in ID numbers (where people come from).
ID_DIVISIONS = (
    "440303", "440304", "440305", "440306", "440307", "440106", "440104", "441302",
    "445202", "440513", "430102", "430424", "360102", "420102", "510104", "450102",
    "350102", "411302", "440882", "441481",
)  # fmt: skip

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许邓冯韩曹曾彭萧蔡潘田董袁于余叶蒋杜苏魏程吕丁沈"
    "任姚卢钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷黎史龙陶贺顾毛郝龚邵万钱覃武戴孔汤庞"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚华文斌辉鹏婷玲红波宁欣雪琳晨颖佳慧健峰凯龙飞鑫亮俊浩宇轩"
    "梓萱嘉怡子涵然志国建海燕晓东秀英桂兰玉梅春"
)
ZIHAO = (
    "华新创科达信源恒盛鑫宏博联通瑞丰泰安航智云汇金海德嘉天星辰"
    "优美锦鹏腾迅诚立和易正启弘昌润凯越睿明光远聚元中永兴隆发迈"
)

# GB/T 4754-2017 classes: code, name word, business scope, permit kind, weight, shop word
INDUSTRIES: tuple[tuple[str, str, str, str | None, int, str], ...] = (
    ("I6513", "软件科技", "计算机软件开发；信息技术咨询服务", None, 14, "软件工作室"),
    (
        "I6450",
        "网络科技",
        "互联网数据服务；数据处理和存储支持服务",
        "增值电信业务经营许可证",
        6,
        "网络工作室",
    ),
    ("F5212", "商贸", "日用百货、预包装食品销售", "食品经营许可证", 8, "百货商行"),
    ("F5213", "便利店", "便利店零售；预包装食品销售", "食品经营许可证", 7, "便利店"),
    ("H6210", "餐饮管理", "中餐服务；餐饮管理", "食品经营许可证", 8, "餐馆"),
    ("H6220", "餐饮", "快餐服务；外卖送餐服务", "食品经营许可证", 6, "快餐店"),
    ("E4710", "建筑工程", "房屋建筑工程施工；装饰装修", "建筑业企业资质证书", 5, "装修部"),
    ("K7010", "房地产开发", "房地产开发经营", None, 2, "房产中介"),
    ("K7020", "物业管理", "物业管理；停车场服务", None, 4, "物业服务部"),
    ("C3982", "电子", "电子电路制造；电子产品销售", "排污许可证", 8, "电子经营部"),
    ("C3990", "智能设备", "电子设备制造；智能硬件研发", None, 5, "电子经营部"),
    ("G5431", "物流", "普通货物道路运输；仓储服务", "道路运输经营许可证", 6, "货运部"),
    ("L7251", "文化传媒", "互联网广告服务；广告设计、制作", None, 6, "广告部"),
    ("L7212", "投资管理", "投资管理；企业管理咨询", None, 3, "咨询部"),
    ("F5123", "农产品", "水果、蔬菜批发", "食品经营许可证", 4, "果蔬批发部"),
    ("F5251", "医药", "西药零售；医疗器械销售", "药品经营许可证", 3, "药店"),
    ("M7320", "技术研究", "工程和技术研究和试验发展", None, 5, "技术服务部"),
)
INDUSTRY_WEIGHTS = tuple(row[4] for row in INDUSTRIES)
INDUSTRY_INDEX = {row[0]: n for n, row in enumerate(INDUSTRIES)}
PERMIT_INDUSTRIES = tuple(n for n, row in enumerate(INDUSTRIES) if row[3] is not None)
FREE_INDUSTRIES = tuple(n for n, row in enumerate(INDUSTRIES) if row[3] is None)
SHOP_INDUSTRIES = (2, 3, 4, 5, 9, 14)  # indexes fit for individual businesses (prefix 92)
CAPITALS = (100_000, 300_000, 500_000, 1_000_000, 2_000_000, 3_000_000, 5_000_000,
            10_000_000, 20_000_000, 50_000_000)  # fmt: skip
SPLITS = ((1.0,), (0.6, 0.4), (0.51, 0.49), (0.7, 0.3), (0.5, 0.3, 0.2), (0.4, 0.35, 0.25))
OFFICER_ROLES = ("监事", "财务负责人", "经理", "董事")

VIOLATIONS = ("虚假宣传", "销售不合格产品", "未取得许可从事经营", "价格违法", "商标侵权",
              "食品安全违法", "未按规定明码标价", "无照经营")  # fmt: skip
SIMPLE_VIOLATIONS = ("未按规定明码标价", "未亮照经营", "未公示食品经营许可证", "店外占道经营")
COMPLAINT_CHANNELS = ("12315热线", "全国12315平台", "信件", "来访", "市长热线")
COMPLAINT_CATEGORIES = ("商品质量", "价格收费", "合同纠纷", "虚假宣传", "售后服务", "食品安全")
FINDINGS = (
    "台账记录不全",
    "过期食品未下架",
    "未按规定公示证照",
    "消防通道堵塞",
    "从业人员健康证过期",
)
CAUSES = ("买卖合同纠纷", "借款合同纠纷", "劳动争议", "房屋租赁合同纠纷", "服务合同纠纷")
TAX_TYPES = ("增值税", "企业所得税", "个人所得税", "城市维护建设税")
COMMENDATIONS = (("守合同重信用企业", "provincial"), ("诚信示范企业", "municipal"),
                 ("质量信用AAA企业", "municipal"), ("全国文明诚信企业", "national"))  # fmt: skip
SERIOUS_REASONS = (
    "提交虚假材料取得登记被撤销",
    "列入经营异常名录届满3年仍未履行相关义务",
    "拒不履行行政处罚决定",
    "严重危害人民群众身体健康和生命安全的违法行为",
)


def district_name(code: str) -> str:
    return DISTRICTS[code][0]


def court_name(district: str) -> str:
    return f"深圳市{district_name(district)}人民法院"


def authority_name(district: str) -> str:
    return f"深圳市市场监督管理局{district_name(district)[:2]}监管局"


def person_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) if rng.random() < 0.3 else rng.choice(GIVEN) + rng.choice(GIVEN)
    return rng.choice(SURNAMES) + given


class People:
    """Makes persons with ID numbers no one else in the city has."""

    def __init__(self, rng: random.Random, used: set[str]) -> None:
        self.rng = rng
        self.used = used

    def born(self, birth: date, name: str | None = None) -> dict[str, str]:
        rng = self.rng
        while True:
            id_no = make_id_number(rng, birth, rng.choice(ID_DIVISIONS))
            if id_no not in self.used:
                self.used.add(id_no)
                return {"name": name or person_name(rng), "id_no": id_no}

    def aged(self, on: date, low: int, high: int) -> dict[str, str]:
        """Someone aged between `low` and `high` years (exclusive) on day `on`."""
        days = self.rng.randrange(low * 366, high * 365)
        return self.born(date.fromordinal(on.toordinal() - days))

    def adult(self, on: date) -> dict[str, str]:
        """An ordinary key person: 28 to 60 years old on `on` (an adult already when a
        firm established up to 10 years before `on` was founded)."""
        return self.aged(on, 28, 60)


class Addresses:
    """Distinct addresses per district: a counter mapped through a bijection of
    (street, number, floor, room), so two calls never return the same text."""

    _MODULUS = 200 * 30 * 40

    def __init__(self, rng: random.Random) -> None:
        self.counters = {code: rng.randrange(self._MODULUS) for code in DISTRICT_CODES}
        self.special = 0

    def copy(self) -> Addresses:
        other = Addresses.__new__(Addresses)
        other.counters = dict(self.counters)
        other.special = self.special
        return other

    def next(self, district: str) -> str:
        name, subs = DISTRICTS[district]
        streets = [(sub, street) for sub, names in subs for street in names]
        count = self.counters[district]
        self.counters[district] = count + 1
        street_no, rest = count % len(streets), count // len(streets)
        rest = (rest * 7919) % self._MODULUS + (rest // self._MODULUS) * self._MODULUS
        number, rest = rest % 200 + 1, rest // 200
        floor, room = rest % 30 + 1, rest // 30 + 1
        sub, street = streets[street_no]
        return f"广东省深圳市{name}{sub}{street}{number}号{floor}{room:02d}室"

    def shared(self, district: str, rng: random.Random) -> str:
        """A cluster address (a business centre), distinct from every `next` address."""
        self.special += 1
        name, subs = DISTRICTS[district]
        sub, streets = rng.choice(subs)
        building, floor = rng.choice(BUILDINGS), rng.randrange(2, 30)
        street = rng.choice(streets)
        return f"广东省深圳市{name}{sub}{street}{self.special}号{building}{floor}层"


class Phones:
    """Distinct Shenzhen fixed-line numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.count = rng.randrange(10_000_000)

    def next(self) -> str:
        self.count += 1
        return f"0755-{20_000_000 + (self.count * 7919) % 70_000_000}"


def enterprise_name(rng: random.Random, industry: int, *, shop_owner: str | None = None,
                    district: str = "440305") -> str:  # fmt: skip
    row = INDUSTRIES[industry]
    if shop_owner is not None:
        return f"深圳市{district_name(district)}{shop_owner}{row[5]}"
    zihao = rng.choice(ZIHAO) + rng.choice(ZIHAO)
    if rng.random() < 0.3:
        zihao += rng.choice(ZIHAO)
    return f"深圳市{zihao}{row[1]}有限公司"


def draw_industry(rng: random.Random, *, shop: bool) -> int:
    """An industry (index in INDUSTRIES) for a company, or for an individual business."""
    if shop:
        return rng.choice(SHOP_INDUSTRIES)
    return rng.choices(range(len(INDUSTRIES)), INDUSTRY_WEIGHTS)[0]


def company_profile(
    rng: random.Random,
    people: People,
    *,
    uscc: str,
    address: str,
    phone: str | None,
    established_on: date,
    rep: dict[str, str],
    ref: date,
    industry: int | None = None,
    corporate: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The payload of `enterprise.registered` for a company (USCC prefix 91) or, when
    the USCC says 92, an individual business run by `rep`. Key people other than `rep`
    are fresh adults (on day `ref`); `corporate` (name, uscc) may hold a share."""
    district = uscc[2:8]
    shop = uscc.startswith("92")
    if industry is None:
        industry = draw_industry(rng, shop=shop)
    payload: dict[str, Any] = {
        "name": enterprise_name(
            rng, industry, shop_owner=rep["name"] if shop else None, district=district
        ),
        "legal_rep": dict(rep),
        "address": address,
        "registered_capital": rng.choice(CAPITALS[:3]) // 10 if shop else rng.choice(CAPITALS),
        "industry": INDUSTRIES[industry][0],
        "district": district,
        "established_on": established_on.isoformat(),
    }
    if phone is not None:
        payload["phone"] = phone
    if shop:
        payload["shareholders"], payload["officers"] = [], []
        return payload
    split = rng.choice(SPLITS)
    holders: list[dict[str, Any]] = [{**rep, "ratio": split[0]}]
    for ratio in split[1:]:
        if corporate is not None and len(holders) == len(split) - 1:
            holders.append({"name": corporate[0], "uscc": corporate[1], "ratio": ratio})
        else:
            holders.append({**people.adult(ref), "ratio": ratio})
    officers = [{**rep, "role": "执行董事兼总经理"}, {**people.adult(ref), "role": "监事"}]
    if rng.random() < 0.3:
        officers.append({**people.adult(ref), "role": "财务负责人"})
    payload["shareholders"], payload["officers"] = holders, officers
    if industry in (0, 1, 10, 16) and rng.random() < 0.1:
        payload["tags"] = ["高新技术企业"]
    return payload
