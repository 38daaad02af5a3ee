"""A believable demo world: controllers, shops of every type and status,
products, and one account per staff role plus two merchants.

Idempotent: every row is found by its natural key first, so a second run
changes nothing (passwords included). Refuses to run in production mode.
"""

import datetime
import io
import os
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw

from compliance.models import (
    EVENT_TYPES, AllianceMembership, Claim, DepositEntry, Integration, Message, ProviderRequest, Qualification, QualificationType,
    RenewalCampaign, RenewalResult, RuleTier, Scope, Ticket, ViolationWarning, WebhookSubscription,
)
from compliance.services.alliance import alliance_apply, alliance_close, alliance_decide
from compliance.services.appeals import appeal_decide, appeal_submit
from compliance.services.claims import claim_take
from compliance.services.daily import STEPS
from compliance.services.deposits import deposit_top_up
from compliance.services.integrations import integration_create
from compliance.services.providers import provider_request, renewal_confirm, renewals_assess
from compliance.services.qualifications import qualification_review, qualification_submit, qualification_withdraw
from compliance.services.tickets import ticket_issue, ticket_revoke
from compliance.services.warnings import warning_answer, warning_decide, warnings_receive
from compliance.services.webhooks import webhook_subscribe
from shops.identifiers import luhn_check_digit, resident_id_check_char, uscc_check_char
from shops.models import (
    Controller, Product, ProviderBinding, ServiceProvider, Shop, ShopDailyOrders, ShopMember, ShopScore,
)

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-compliance-2026")
# The demo detector's API key: known, because the demo is for trying the API.
DEMO_API_KEY = os.environ.get("DEMO_API_KEY", "ck_demo_detector_key_for_local_use_only_2026")
# The demo receiver `make run` starts (manage.py webhook_receiver).
DEMO_RECEIVER = "http://127.0.0.1:8025/webhooks/"

# Warnings from the demo detector, one in every status (SPEC §11):
# key, shop, rule, tier, hours ago received, orders, what happened next.
WARNINGS = [
    ("w-open", "10000001", "fake_shipment", "per_order", 6, ["6937481520394817263", "6937481520394817264",
                                                              "6937481520394817265"], None),
    ("w-closing", "10000004", "fake_shipment", "per_order", 30, ["6937482200013578841"], None),
    ("w-answered", "10000001", "logistics_mismatch", "general", 20, [], "answer"),
    ("w-put-right", "10000002", "fake_shipment", "per_order", 26, ["6937479912045566102"], "put_right"),
    ("w-expired", "10000003", "fake_shipment", "per_order", 80, ["6937470011122233344", "6937470011122233345"],
     None),
    ("w-confirmed", "10000001", "fake_shipment", "per_order", 150, ["6937460099887766550", "6937460099887766551"],
     "confirm"),
    ("w-dismissed", "10000004", "logistics_mismatch", "general", 140, [], "dismiss"),
]

STAFF = [
    ("reviewer", "Reviewer", "审核员 小周"),
    ("appeals", "Appeal reviewer", "申诉审核员 小陈"),
    ("complianceadmin", "Compliance admin", "合规管理员 老王"),
]
MERCHANTS = [("merchant1", "商家 林女士"), ("merchant2", "商家 张先生"), ("merchant3", "商家 刘经理")]


# Appeals: (ticket key, submitted days ago, decision or None, decided days ago, reason).
APPEALS = [
    ("yz-2", 2.9, None, None, "划线价有历史成交记录"),           # pending
    ("zw-1", 4.9, None, None, "资质已在有效期内补交"),           # pending, overdue (2 working days passed)
    ("zw-4", 3.9, "approve", 3, "商品资质证书齐全"),            # approved: ticket revoked
    ("zw-2", 0.9, "reject", 0.8, "价格标注无误"),               # rejected, can appeal again
    ("zw-2", 0.5, None, None, "补充近七日成交记录"),             # second appeal, pending
    ("yzn-1", 1.9, "reject", 1.5, "材质说明与实物一致"),         # rejected
]
DECISIONS = {"approve": "经复核，商家提供的凭证成立，撤销处罚。", "reject": "经复核，凭证不足以推翻处罚。"}

DESCRIPTIONS = {
    "false_advertising": "商品详情页宣称的材质与实物不符。",
    "price_mismatch": "划线价高于发布前七日内的最低成交价。",
    "logistics_mismatch": "上传的物流单号与实际物流轨迹不符。",
    "fake_shipment": "订单标记发货后 48 小时内无揽收记录。",
    "counterfeit": "品牌方投诉并经鉴定为假冒商品。",
    "qualification_materials": "商品资质到期后未在整改期限内补交。",
}


def product_no(shop_no: str, i: int) -> str:
    return f"3{shop_no[1:]}{i:02d}"


def uscc(body17: str) -> str:
    return body17 + uscc_check_char(body17)


def resident_id(body17: str) -> str:
    return body17 + resident_id_check_char(body17)


def bank_card(body: str) -> str:
    return body + luhn_check_digit(body)


# Controllers: key → (name, kind, identifier). Identifiers are real-shaped and
# pass their checksums, but belong to nobody.
CONTROLLERS = {
    "yunzhi": ("杭州云织服饰有限公司", "company", uscc("91330106MA2CDE7K1")),
    "jiguang": ("深圳市极光数码科技有限公司", "company", uscc("91440300MA5FGH2L3")),
    "zhangwei": ("张伟", "person", resident_id("33010219850612123")),
    "lina": ("李娜", "person", resident_id("33078219900308224")),
    "youpin": ("广州市白云区优品日化商行", "company", uscc("91440111MA9JKL4M5")),
    "wangqiang": ("王强", "person", resident_id("51010719780920331")),
    "shuxiang": ("成都蜀香食品有限公司", "company", uscc("91510100MA6NPQ8R7")),
}

# Shops: shop_no → (controller key, name, entity type, shop type, score, required deposit).
SHOPS = {
    "10000001": ("yunzhi", "云织官方旗舰店", "enterprise", "flagship", "92.40", "50000"),
    "10000002": ("yunzhi", "云织女装专营店", "enterprise", "specialty", "78.10", "20000"),
    "10000003": ("jiguang", "极光数码专卖店", "enterprise", "exclusive", "88.00", "30000"),
    "10000004": ("zhangwei", "张伟的小店", "individual", "ordinary", "71.50", "2000"),
    "10000005": ("lina", "李娜手作饰品", "individual_business", "ordinary", "65.30", "5000"),
    "10000006": ("youpin", "优品日化专营店", "enterprise", "specialty", "58.20", "20000"),
    "10000007": ("wangqiang", "王强生鲜", "individual", "ordinary", "80.00", "2000"),
    "10000008": ("shuxiang", "蜀香食品旗舰店", "enterprise", "flagship", "84.70", "50000"),
    "10000009": ("jiguang", "极光潮玩专营店", "enterprise", "specialty", "69.90", "20000"),
    "10000010": ("yunzhi", "云织童装专卖店", "enterprise", "exclusive", "74.20", "30000"),
    # Clean shops for the Selected Alliance: eligible, a member, an application, a rejection.
    "10000011": ("yunzhi", "云织家居生活馆", "enterprise", "ordinary", "86.50", "20000"),
    "10000012": ("yunzhi", "云织配饰小铺", "enterprise", "ordinary", "90.10", "20000"),
    "10000013": ("yunzhi", "云织床品家纺店", "enterprise", "ordinary", "82.30", "20000"),
    "10000014": ("yunzhi", "云织箱包小店", "enterprise", "ordinary", "77.80", "20000"),
}

PRODUCTS = {
    "10000001": [("云织 真丝衬衫", "云织", "女装", "599.00"), ("云织 羊毛大衣", "云织", "女装", "1299.00"),
                 ("云织 针织开衫", "云织", "女装", "399.00")],
    "10000002": [("法式碎花连衣裙", "云织", "女装", "259.00"), ("高腰阔腿裤", "云织", "女装", "189.00")],
    "10000003": [("极光 X5 无线耳机", "极光", "数码", "499.00"), ("极光 65W 充电器", "极光", "数码", "129.00"),
                 ("极光 智能手表 S2", "极光", "数码", "899.00"), ("极光 移动电源 20000mAh", "极光", "数码", "149.00")],
    "10000004": [("手工陶瓷马克杯", "", "家居", "39.90"), ("棉麻桌布", "", "家居", "59.00")],
    "10000005": [("925银 耳钉", "", "饰品", "88.00"), ("手编 红绳手链", "", "饰品", "29.90")],
    "10000006": [("优品 洗衣液 3kg", "优品", "日化", "45.90"), ("优品 洗洁精", "优品", "日化", "12.90")],
    "10000007": [("赣南脐橙 5斤", "", "生鲜", "35.80")],
    "10000008": [("蜀香 火锅底料", "蜀香", "食品", "29.90"), ("蜀香 麻辣牛肉干", "蜀香", "食品", "49.90")],
    "10000009": [("极光 盲盒 第一弹", "极光", "潮玩", "59.00"), ("极光 手办 限定款", "极光", "潮玩", "299.00"),
                 ("极光 积木 城堡", "极光", "潮玩", "199.00"), ("极光 拼图 1000片", "极光", "潮玩", "69.00")],
    "10000010": [("云织 儿童羽绒服", "云织", "童装", "399.00"), ("云织 儿童卫衣", "云织", "童装", "129.00")],
    "10000011": [("亚麻抱枕套", "", "家居", "49.00"), ("北欧陶瓷花瓶", "", "家居", "89.00")],
    "10000012": [("珍珠发夹", "", "饰品", "19.90")],
    "10000013": [("纯棉四件套", "", "家纺", "299.00")],
    "10000014": [("帆布托特包", "", "箱包", "69.00")],
}

# The demo's penalty history: (key, shop, rule, tier, days ago, options). Issued
# through the real services; the key makes a second run return the same ticket.
# Shops end up near and past each point node, with tickets in every status.
TICKETS = [
    # 云织官方旗舰店: A 9, near the A12 node; one final, one revoked, one open to appeal.
    ("yz-1", "10000001", "false_advertising", "general", 30, {"product": 1}),
    ("yz-2", "10000001", "price_mismatch", "general", 3, {"product": 2}),
    ("yz-3", "10000001", "logistics_mismatch", "general", 1, {"product": 3}),
    ("yz-4", "10000001", "logistics_mismatch", "general", 12, {"product": 3, "revoke": "物流记录核实无误"}),
    # 云织女装专营店: suspended for 7 days two days ago; fake shipment capped at ¥5,000.
    ("yzn-1", "10000002", "false_advertising", "serious", 2, {}),
    ("yzn-2", "10000002", "fake_shipment", "per_order", 2, {"orders": 11}),
    ("yzn-3", "10000002", "fake_shipment", "repeated", 1, {"product": 1}),
    # 极光数码专卖店: crossed A12 ten days ago (3-day suspension, ended); one B ticket.
    ("jg-1", "10000003", "price_mismatch", "serious", 10, {"points": 10}),
    ("jg-2", "10000003", "logistics_mismatch", "general", 10, {"product": 1}),
    ("jg-3", "10000003", "counterfeit", "general", 4, {"product": 2}),
    # 张伟的小店: a qualification ticket and a deposit shortfall.
    ("zw-1", "10000004", "qualification_materials", "product", 5, {"product": 1}),
    ("zw-2", "10000004", "price_mismatch", "general", 1, {"product": 2}),
    ("zw-3", "10000004", "qualification_materials", "product_first_minor", 50, {"product": 2}),
    ("zw-4", "10000004", "qualification_materials", "product_complaint", 4, {"product": 1}),
    # 极光数码专卖店 also misses a brand certificate: A 13 → 25, past A24, suspended for 7 days.
    ("jg-4", "10000003", "qualification_materials", "other", 1, {"product": 3}),
    # 李娜手作饰品: B 9, near clearance; a trademark event with a ban.
    ("ln-1", "10000005", "counterfeit", "general", 25, {"product": 1}),
    ("ln-2", "10000005", "non_agreed_goods", "general", 6, {"product": 2}),
    ("ln-3", "10000005", "counterfeit", "general", 2, {"product": 1}),
    ("ln-4", "10000005", "trademark_event", "brand_lapsed", 3, {"product": 2, "ban": True}),
    # 优品日化专营店: cleared for an especially serious violation; controller barred.
    ("yp-1", "10000006", "counterfeit", "especially_serious", 40, {}),
    # 极光潮玩专营店: B reached 12 — cleared by the node.
    ("jgc-1", "10000009", "prohibited", "general", 9, {"product": 1}),
    ("jgc-2", "10000009", "fake_transaction", "general", 8, {"product": 2}),
    ("jgc-3", "10000009", "improper_gain", "general", 7, {"product": 3}),
    ("jgc-4", "10000009", "disrupting_order", "general", 6, {"product": 4}),
    # 云织童装专卖店: crossed A24 (7-day suspension, ended).
    ("yzt-1", "10000010", "false_advertising", "serious", 45, {"points": 10}),
    ("yzt-2", "10000010", "price_mismatch", "serious", 30, {"points": 10}),
    ("yzt-3", "10000010", "logistics_mismatch", "serious", 20, {"points": 4}),
]


# Certificates (SPEC §4): (key, shop, type, brand, product indexes, issued days ago,
# valid for days from today or None for permanent, what happens, the key it renews).
# The daily job at the end expires what has run out: 云织女装专营店's authorisation
# gets an open notice; 极光数码's watch CCC ran out long ago, so its notice has
# become a ticket and the watch is delisted until the renewal under review is approved.
CERTIFICATES = [
    ("yz-bl-old", "10000001", "business_licence", "", [], 1500, 200, "approve", None),
    ("yz-bl", "10000001", "business_licence", "", [], 30, None, "approve", "yz-bl-old"),
    ("yz-tm", "10000001", "trademark_registration", "云织", [], 3000, 20, "approve", None),
    ("yzn-ba", "10000002", "brand_authorisation", "云织", [], 400, -3, "approve", None),
    ("yzn-bl", "10000002", "business_licence", "", [], 2, None, "submit", None),
    ("jg-ba", "10000003", "brand_authorisation", "极光", [], 200, 500, "approve", None),
    ("jg-ccc2", "10000003", "ccc", "", [2], 300, 1000, "approve", None),
    ("jg-ccc3", "10000003", "ccc", "", [3], 1200, -20, "approve", None),
    ("jg-ccc3-new", "10000003", "ccc", "", [3], 4, 1800, "submit", "jg-ccc3"),
    ("jg-ccc1", "10000003", "ccc", "", [1], 3, 1500, "reject", None),
    ("zw-id", "10000004", "resident_id", "", [], 2000, None, "approve", None),
    ("zw-bank", "10000004", "bank_account", "", [], 5, None, "reject", None),
    ("ln-bl", "10000005", "business_licence", "", [], 900, None, "revoke", None),
    ("yzt-tm", "10000010", "trademark_registration", "云织", [], 800, 1000, "invalidate", None),
    ("sx-food", "10000008", "food_business_licence", "", [], 700, 400, "approve", None),
]
CERTIFICATE_AUTHORITY = {"subject": "杭州市市场监督管理局", "brand": "国家知识产权局商标局",
                         "industry": "成都市市场监督管理局", "product": "中国质量认证中心"}
REJECTIONS = {"zw-bank": "开户许可证照片不清晰，账号无法辨认，请重新拍摄上传。",
              "jg-ccc1": "证书上的产品型号与商品不一致，请提交对应型号的 CCC 证书。"}


class Command(BaseCommand):
    help = "Load the demo world and demo accounts (development only; idempotent)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production mode (DJANGO_DEBUG=false).")
        now = timezone.now()
        # The demo history would e-mail its merchants dozens of times; it is
        # history, so nothing is sent while it is written.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
            controllers = {key: self._controller(*spec) for key, spec in CONTROLLERS.items()}
            shops = {no: self._shop(no, controllers[spec[0]], *spec[1:]) for no, spec in SHOPS.items()}
            for shop_no, products in PRODUCTS.items():
                for i, (title, brand, category, price) in enumerate(products, start=1):
                    Product.objects.get_or_create(
                        product_no=product_no(shop_no, i),
                        defaults=dict(shop=shops[shop_no], title=title, brand=brand, category=category,
                                      price=Decimal(price)),
                    )
            self._accounts(shops)
            self._deposits(shops)
            self._tickets(shops, now)
            self._appeals(now)
            self._certificates(now)
            self._scores(now)
            self._alliance(now)
            self._providers(now)
            self._warnings(now)
            self._claims(now)
            self._messages(now)
            self._history(shops, now)
            # What the daily job would have done since: suspensions that ran out
            # ended, appeal windows that closed made their tickets final,
            # certificates expired, the missing-certificate queue was checked.
            for _name, step in STEPS:
                step(now)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(self._accounts_text())

    def _controller(self, name, kind, identifier):
        field = "id_number" if kind == "person" else "uscc"
        controller, _ = Controller.objects.get_or_create(**{field: identifier}, defaults={"name": name, "kind": kind})
        return controller

    def _shop(self, shop_no, controller, name, entity_type, shop_type, score, deposit):
        defaults = dict(
            controller=controller, name=name, entity_type=entity_type, shop_type=shop_type,
            experience_score=Decimal(score), required_deposit=Decimal(deposit),
        )
        if entity_type == "individual":
            defaults.update(id_card_number=controller.id_number,
                            bank_card_number=bank_card("622202" + shop_no + "123"))
        elif controller.kind == "company":
            defaults.update(company_name=controller.name, uscc=controller.uscc,
                            business_term_start=datetime.date(2018, 3, 1), business_address="见营业执照")
        else:  # an individual business of a person: its own licence and code
            defaults.update(company_name=f"义乌市{name}店", uscc=uscc("92330782MA2T" + shop_no[-5:]),
                            business_term_start=datetime.date(2020, 6, 1), business_address="浙江省义乌市")
        shop, created = Shop.objects.get_or_create(shop_no=shop_no, defaults=defaults)
        if created and entity_type == "individual":
            shop.id_card_front.save("front.png", _id_card_image("FRONT"), save=False)
            shop.id_card_back.save("back.png", _id_card_image("BACK"), save=False)
            shop.save(update_fields=["id_card_front", "id_card_back"])
        return shop

    def _deposits(self, shops):
        """Each shop paid its required deposit — except 张伟的小店, which paid
        half and will show a shortfall."""
        for shop_no, shop in shops.items():
            if DepositEntry.objects.filter(shop=shop).exists():
                continue
            amount = shop.required_deposit / 2 if shop_no == "10000004" else shop.required_deposit
            deposit_top_up(shop=shop, amount=amount, actor=None, note="开店缴纳（演示）")

    def _tickets(self, shops, now):
        reviewer = User.objects.get(username="reviewer")
        for key, shop_no, rule, tier_code, days_ago, options in TICKETS:
            issued_at = now - datetime.timedelta(days=days_ago, hours=2)
            shop = Shop.objects.get(shop_no=shop_no)
            product = options.get("product")
            ticket = ticket_issue(
                shop=shop,
                tier=RuleTier.objects.get(rule__code=rule, rule__version=1, code=tier_code),
                actor=reviewer,
                points=options.get("points"),
                products=[Product.objects.get(product_no=product_no(shop_no, product))] if product else [],
                order_count=options.get("orders"),
                ban_chosen=options.get("ban", False),
                description=f"演示违规单：{DESCRIPTIONS.get(rule, '经平台巡检核实存在违规行为。')}",
                occurred_at=issued_at - datetime.timedelta(days=1),
                idempotency_key=f"demo-{key}",
                evidence=[_sample_file("商品详情页截图.png", "PRODUCT PAGE"), _sample_file("巡检记录.pdf", "INSPECTION")],
                now=issued_at,
            )
            if options.get("revoke") and ticket.status != Ticket.Status.REVOKED:
                ticket_revoke(ticket=ticket, actor=reviewer, reason=options["revoke"],
                              now=issued_at + datetime.timedelta(days=2))

    def _appeals(self, now):
        """Appeals in every state; the decisions are the appeal reviewer's."""
        merchants = {m.shop.shop_no: m.user for m in ShopMember.objects.select_related("shop", "user")}
        decider = User.objects.get(username="appeals")
        seen: dict[str, int] = {}
        for key, submitted_days_ago, decision, decided_days_ago, reason in APPEALS:
            ticket = Ticket.objects.get(idempotency_key=f"demo-{key}")
            seen[key] = attempt = seen.get(key, 0) + 1
            if ticket.appeals.filter(attempt=attempt).exists():
                continue  # seeded before
            at = now - datetime.timedelta(days=submitted_days_ago)
            appeal = appeal_submit(ticket=ticket, actor=merchants[ticket.shop.shop_no], reason=reason,
                                   statement=f"{reason}。相关凭证见附件，请复核。", now=at,
                                   files=[_sample_file("情况说明.pdf", "STATEMENT"),
                                          _sample_file("凭证截图.png", "RECEIPT")])
            if decision:
                appeal_decide(appeal=appeal, approve=decision == "approve", actor=decider,
                              reason=DECISIONS[decision], now=now - datetime.timedelta(days=decided_days_ago))

    def _certificates(self, now):
        """Certificates of every kind and status, submitted and decided
        through the services; found again by their number on a second run."""
        reviewer = User.objects.get(username="reviewer")
        merchants = {m.shop.shop_no: m.user for m in ShopMember.objects.select_related("shop", "user")}
        made = {}
        for key, shop_no, type_code, brand, indexes, issued_days, valid_days, plan, renews in CERTIFICATES:
            shop = Shop.objects.get(shop_no=shop_no)
            number = f"DEMO-{shop_no[-2:]}-{key.upper()}"
            existing = Qualification.objects.filter(shop=shop, number=number).first()
            if existing:
                made[key] = existing
                continue
            qtype = QualificationType.objects.get(code=type_code)
            submitted = now - datetime.timedelta(days=min(issued_days, 60) if valid_days is None or valid_days > 0
                                                 else issued_days - 1, hours=3)
            today = timezone.localtime(now).date()
            q = qualification_submit(
                shop=shop, qualification_type=qtype, number=number,
                holder=shop.company_name or shop.controller.name,
                authority=CERTIFICATE_AUTHORITY.get(qtype.kind, "浙江省市场监督管理局"),
                # Never after the day it was submitted: in the three hours after midnight in Shanghai
                # the submission (3 hours earlier) is still on the day before (CI runs at 16:00 UTC).
                issued_on=min(today - datetime.timedelta(days=issued_days), timezone.localtime(submitted).date()),
                expires_on=None if valid_days is None else today + datetime.timedelta(days=valid_days),
                brand=brand, products=[Product.objects.get(product_no=product_no(shop_no, i)) for i in indexes],
                files=[_certificate_file(number)], actor=merchants.get(shop_no, reviewer),
                renews=Qualification.objects.get(pk=made[renews].pk) if renews else None, now=submitted,
            )
            made[key] = q
            if plan == "submit":
                continue
            decided = submitted + datetime.timedelta(hours=20)
            q = qualification_review(qualification=q, approve=plan != "reject", reason=REJECTIONS.get(key, ""),
                                     actor=reviewer, now=decided)
            if plan in ("revoke", "invalidate"):
                qualification_withdraw(
                    qualification=q, status="revoked" if plan == "revoke" else "invalidated", actor=reviewer,
                    reason="发证机关已吊销该营业执照。" if plan == "revoke" else "商标注册已被宣告无效，原证书失效。",
                    now=now - datetime.timedelta(days=2))

    def _scores(self, now):
        """30 days of experience scores ending at each shop's current score,
        as the scoring system would have sent them (the history the portal's
        trend line draws)."""
        today = timezone.localdate()
        if ShopScore.objects.exists():
            return
        rows = []
        for shop in Shop.objects.exclude(experience_score=None):
            for back in range(30):
                wobble = Decimal((back * 37 + int(shop.shop_no[-2:]) * 11) % 9 - 4) / 10
                drift = Decimal(back) / 10 if shop.experience_score < 75 else -Decimal(back) / 20
                score = min(max(shop.experience_score + drift + wobble, Decimal(0)), Decimal(100))
                rows.append(ShopScore(shop=shop, day=today - datetime.timedelta(days=back),
                                      score=shop.experience_score if back == 0 else score.quantize(Decimal("0.01"))))
        ShopScore.objects.bulk_create(rows)

    def _alliance(self, now):
        """Memberships in every status (SPEC §8): 云织家居生活馆 (merchant1) is
        eligible and has not applied; 张伟的小店 (merchant2) fails criteria.
        Decisions and closures go through the services; a membership's past
        activations before the demo starts are written as history."""
        if AllianceMembership.objects.filter(shop__shop_no="10000011").exists():
            return  # seeded before
        reviewer = User.objects.get(username="reviewer")
        members = {m.shop.shop_no: m.user for m in ShopMember.objects.select_related("shop", "user")}
        shop = {no: Shop.objects.get(shop_no=no) for no in ("10000009", "10000010", "10000011", "10000012",
                                                            "10000013", "10000014")}
        AllianceMembership.objects.create(shop=shop["10000011"])  # eligible, not applied
        joined = alliance_apply(shop=shop["10000012"], actor=members["10000012"], now=now - datetime.timedelta(days=40))
        alliance_decide(membership=joined, approve=True, reason="", actor=reviewer,
                        now=now - datetime.timedelta(days=35))
        alliance_apply(shop=shop["10000013"], actor=members["10000013"], now=now - datetime.timedelta(days=12))
        rejected = alliance_apply(shop=shop["10000014"], actor=members["10000014"],
                                  now=now - datetime.timedelta(days=20))
        alliance_decide(membership=rejected, approve=False, reason="店铺近 90 天动销商品过少，暂不适合推广，请丰富商品后再申请。",
                        actor=reviewer, now=now - datetime.timedelta(days=15))
        # History: 云织童装 was a member until a reviewer closed it; 极光潮玩 was closed by
        # each of its four B-class tickets in turn, the last time for good.
        history = now - datetime.timedelta(days=200)
        for no in ("10000010", "10000009"):
            AllianceMembership.objects.create(shop=shop[no], status=AllianceMembership.Status.ACTIVE,
                                              applied_at=history, decided_at=history, activated_at=history,
                                              decided_by=reviewer, due_at=history)
        alliance_close(shop=shop["10000010"], cause=AllianceMembership.Cause.UNSUITABLE, actor=reviewer,
                       reason="近期商品描述多次被投诉，暂不适合推广。", now=now - datetime.timedelta(days=60))
        for ticket in Ticket.objects.filter(shop=shop["10000009"]).order_by("issued_at"):
            AllianceMembership.objects.filter(shop=shop["10000009"]).update(status=AllianceMembership.Status.ACTIVE)
            alliance_close(shop=shop["10000009"], cause=AllianceMembership.Cause.B_TICKET, ticket=ticket,
                           reason=f"违规单 {ticket.number}", now=ticket.issued_at)

    def _providers(self, now):
        """Industry-belt service providers (SPEC §9): bindings, five months of
        daily orders around the 2024 assessment period, the assessment, and
        one failure confirmed — a revoked provider with its public notice."""
        if ServiceProvider.objects.exists():
            return
        d = datetime.date
        providers = {}
        for key, name, certified, deposit, paid_on in [
            ("sjq", "杭州四季青女装产业带服务商", d(2023, 3, 1), "100000", d(2023, 10, 15)),
            ("yw", "义乌小商品产业带服务商", d(2023, 5, 1), "60000", None),
            ("hqb", "深圳华强北数码产业带服务商", d(2023, 8, 1), "100000", d(2024, 3, 5)),
            ("by", "广州白云日化产业带服务商", d(2024, 1, 15), "100000", d(2024, 1, 20)),
        ]:
            providers[key] = ServiceProvider.objects.create(
                name=name, certified_on=certified, converted_on=certified, deposit_paid=Decimal(deposit),
                deposit_paid_on=paid_on)
        bindings = [("sjq", "10000001", d(2023, 6, 1), None), ("sjq", "10000002", d(2024, 1, 10), None),
                    ("yw", "10000005", d(2023, 7, 1), None), ("hqb", "10000003", d(2023, 9, 1), d(2024, 1, 31)),
                    ("by", "10000006", d(2024, 2, 1), None)]
        for key, shop_no, start, end in bindings:
            ProviderBinding.objects.create(provider=providers[key], shop=Shop.objects.get(shop_no=shop_no),
                                           starts_on=start, ends_on=end)
        rows = []
        for _key, shop_no, _start, _end in bindings:
            shop = Shop.objects.get(shop_no=shop_no)
            day = d(2023, 11, 1)
            while day <= d(2024, 3, 31):
                paid = 20 + (day.day * 7 + int(shop_no[-2:]) * 13) % 40
                rows.append(ShopDailyOrders(shop=shop, day=day, paid_orders=paid, gift_orders=paid // 10))
                day += datetime.timedelta(days=1)
        ShopDailyOrders.objects.bulk_create(rows, ignore_conflicts=True)
        campaign = RenewalCampaign.objects.get(name="2024年产业带服务商续牌考核")
        renewals_assess(campaign=campaign, now=now - datetime.timedelta(days=260))
        failed = RenewalResult.objects.get(campaign=campaign, provider=providers["yw"])
        renewal_confirm(result=failed, actor=User.objects.get(username="reviewer"),
                        now=now - datetime.timedelta(days=255))
        # One request waits in the queue (SPEC §14): the Huaqiangbei provider, with no shop bound any
        # more, asks to exit and have its deposit back.
        provider_request(provider=providers["hqb"], kind=ProviderRequest.Kind.EXIT,
                         actor=User.objects.get(username="complianceadmin"),
                         note="该服务商名下已无绑定店铺，申请退出并退还保证金。", now=now - datetime.timedelta(days=2))

    def _warnings(self, now):
        """The demo detector and its warnings: the merchants answer some, the
        reviewer decides those whose time has come."""
        integration = Integration.objects.filter(name="风控检测系统（演示）").first() or integration_create(
            name="风控检测系统（演示）", description="演示用检测系统：虚假发货、物流信息异常", scopes=Scope.values,
            actor=User.objects.get(username="complianceadmin"), key=DEMO_API_KEY)[0]
        if not WebhookSubscription.objects.filter(integration=integration).exists():
            # The platform's enforcement services would subscribe to every event (SPEC §13); here
            # the demo receiver `make run` starts on this machine (loopback only: seed_demo refuses
            # production). Its worker publishes the demo's events and delivers them there.
            webhook_subscribe(integration=integration, url=DEMO_RECEIVER, events=EVENT_TYPES,
                              actor=User.objects.get(username="complianceadmin"), now=now)
        reviewer = User.objects.get(username="reviewer")
        merchants = {m.shop.shop_no: m.user for m in ShopMember.objects.select_related("shop", "user")}
        for key, shop_no, rule, tier, hours_ago, orders, then in WARNINGS:
            if ViolationWarning.objects.filter(integration=integration, report_id=f"demo-{key}").exists():
                continue
            received = now - datetime.timedelta(hours=hours_ago)
            summary = (f"系统识别到 {len(orders)} 笔订单疑似虚假发货：物流单号无揽收记录" if orders
                       else "商品详情页承诺的发货物流与实际使用的快递不一致")
            evidence = ({"物流单号": [f"YT{o[-10:]}" for o in orders], "揽收记录": "无", "承诺发货时效": "48小时",
                         "检测规则": "虚假发货-无揽收轨迹"} if orders
                        else {"页面承诺": "顺丰包邮", "实际快递": "中通快递", "抽检订单数": 5})
            [result] = warnings_receive(integration=integration, now=received, rows=[dict(
                report_id=f"demo-{key}", shop=shop_no, rule=rule, tier=tier, summary=summary,
                detected_at=received - datetime.timedelta(hours=1), order_nos=orders, product_nos=[],
                evidence=evidence)])
            warning = result.warning
            if then in ("answer", "put_right", "confirm", "dismiss"):
                warning_answer(warning=warning, actor=merchants[shop_no], put_right=then == "put_right",
                               text="已核实：相关订单已重新发货并更新物流单号。" if then == "put_right"
                               else "订单均已真实发货，快递公司揽收延迟，附快递公司说明。",
                               now=received + datetime.timedelta(hours=3))
            if then == "confirm":
                warning_decide(warning=warning, actor=reviewer, confirm=True, reason="物流轨迹核实无揽收记录，确认虚假发货。",
                               now=received + datetime.timedelta(hours=50))
            elif then == "dismiss":
                warning_decide(warning=warning, actor=reviewer, confirm=False,
                               reason="经核实，商家已按承诺使用顺丰发货，检测数据有误。",
                               now=received + datetime.timedelta(hours=50))

    def _claims(self, now):
        """Work in hand (SPEC §14): the compliance admin holds a warning the
        merchant says is put right and a certificate under review; the
        reviewer sees who does."""
        holder = User.objects.get(username="complianceadmin")
        warning = ViolationWarning.objects.filter(status=ViolationWarning.Status.PUT_RIGHT).order_by("pk").first()
        certificate = Qualification.objects.filter(status=Qualification.Status.SUBMITTED, renews=None).order_by(
            "-pk").first()
        for item in filter(None, [warning, certificate]):
            if not Claim.objects.filter(subject=item.EVENT_SUBJECT, subject_id=item.pk).exists():  # seeded before
                claim_take(subject=item.EVENT_SUBJECT, subject_id=item.pk, actor=holder, now=now)

    def _messages(self, now):
        """The demo's notices were written as messages while it was made;
        each merchant has read all but the newest three."""
        if Message.objects.filter(read_at__isnull=False).exists():
            return
        for user_id in Message.objects.values_list("user", flat=True).distinct():
            newest = Message.objects.filter(user_id=user_id).order_by("-created_at", "-id").values_list("pk", flat=True)[:3]
            Message.objects.filter(user_id=user_id).exclude(pk__in=list(newest)).update(read_at=now)

    def _history(self, shops, now):
        """Shops that left before the demo starts: one by the end of its term,
        one closed. (No ticket caused these; they are the merchants' doing.)"""
        Shop.objects.filter(pk=shops["10000007"].pk, status=Shop.Status.OPEN).update(
            status=Shop.Status.EXITED, exit_kind=Shop.ExitKind.TERM_END,
            ended_at=now - datetime.timedelta(days=60),
        )
        Shop.objects.filter(pk=shops["10000008"].pk, status=Shop.Status.OPEN).update(
            status=Shop.Status.CLOSED, ended_at=now - datetime.timedelta(days=15)
        )

    def _accounts(self, shops):
        for username, group, full_name in STAFF:
            user = self._user(username, full_name, is_staff=True)
            user.groups.add(Group.objects.get(name=group))
        merchant1 = self._user("merchant1", MERCHANTS[0][1], is_staff=False)
        merchant2 = self._user("merchant2", MERCHANTS[1][1], is_staff=False)
        merchant3 = self._user("merchant3", MERCHANTS[2][1], is_staff=False)
        for user, shop_no in ((merchant1, "10000001"), (merchant1, "10000002"), (merchant1, "10000011"),
                              (merchant2, "10000004"), (merchant3, "10000003"), (merchant3, "10000005"),
                              (merchant3, "10000010"), (merchant3, "10000008"), (merchant3, "10000009"),
                              (merchant3, "10000012"), (merchant3, "10000013"), (merchant3, "10000014")):
            ShopMember.objects.get_or_create(user=user, shop=shops[shop_no])

    def _user(self, username, full_name, *, is_staff):
        user, created = User.objects.get_or_create(
            username=username,
            defaults=dict(first_name=full_name, is_staff=is_staff, email=f"{username}@example.com"),
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _accounts_text(self):
        lines = ["", "Demo accounts (password for all: %s)" % DEMO_PASSWORD]
        for username, group, _ in STAFF:
            lines.append(f"  {username:<16} staff, group {group}  → http://127.0.0.1:8000/admin/")
        lines.append("  merchant1        merchant of 云织官方旗舰店, 云织女装专营店 and 云织家居生活馆 (eligible for the alliance)"
                     " → http://127.0.0.1:8000/portal/")
        lines.append("  merchant2        merchant of 张伟的小店 → http://127.0.0.1:8000/portal/")
        lines.append("  merchant3        merchant of 极光数码专卖店, 李娜手作饰品, 蜀香食品旗舰店, 云织童装专卖店, 极光潮玩专营店"
                     " and the alliance demo shops 10000012–14 → http://127.0.0.1:8000/portal/")
        lines += ["", "Demo detector (integration API, every scope):",
                  f"  curl -H 'Authorization: Bearer {DEMO_API_KEY}' "
                  "http://127.0.0.1:8000/api/v1/shops/10000001/standing/",
                  "  API documentation → http://127.0.0.1:8000/api/v1/docs/"]
        return "\n".join(lines) + "\n"


def _certificate_file(number: str):
    """A placeholder certificate scan, clearly marked as a sample."""
    image = Image.new("RGB", (600, 420), (250, 246, 236))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 589, 409), outline=(170, 130, 60), width=4)
    draw.text((40, 40), "DEMO SAMPLE - CERTIFICATE", fill=(120, 80, 20))
    draw.text((40, 80), number, fill=(60, 60, 60))
    return _upload(image, f"{number}.png")


def _sample_file(name: str, heading: str) -> SimpleUploadedFile:
    """Evidence for the demo: a page marked as a sample, as PNG or (drawn the
    same way, one page) PDF — what reviewers and merchants attach."""
    image = Image.new("RGB", (595, 420), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, 584, 409), outline=(120, 130, 140), width=2)
    draw.text((30, 30), f"DEMO SAMPLE - {heading}", fill=(30, 40, 50))
    for row in range(8):
        draw.line((30, 80 + row * 36, 560 - (row % 3) * 70, 80 + row * 36), fill=(190, 196, 204), width=6)
    return _upload(image, name)


def _upload(image, name: str) -> SimpleUploadedFile:
    """A drawn placeholder as the upload a person would send: PNG, or a one-page PDF by its name."""
    buffer = io.BytesIO()
    pdf = name.endswith(".pdf")
    image.save(buffer, format="PDF" if pdf else "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf" if pdf else "image/png")


def _id_card_image(side: str) -> ContentFile:
    """A placeholder card image, clearly marked as a sample."""
    image = Image.new("RGB", (428, 270), (226, 236, 247))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 419, 261), outline=(90, 120, 160), width=3)
    draw.text((24, 24), f"DEMO SAMPLE - ID CARD {side}", fill=(40, 60, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue())
