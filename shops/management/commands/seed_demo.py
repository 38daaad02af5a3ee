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
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from shops.identifiers import luhn_check_digit, resident_id_check_char, uscc_check_char
from shops.models import Controller, Product, Shop, ShopMember

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "demo-compliance-2026")

STAFF = [
    ("reviewer", "Reviewer", "审核员 小周"),
    ("appeals", "Appeal reviewer", "申诉审核员 小陈"),
    ("complianceadmin", "Compliance admin", "合规管理员 老王"),
]
MERCHANTS = [("merchant1", "商家 林女士"), ("merchant2", "商家 张先生")]


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
}

PRODUCTS = {
    "10000001": [("云织 真丝衬衫", "云织", "女装", "599.00"), ("云织 羊毛大衣", "云织", "女装", "1299.00"),
                 ("云织 针织开衫", "云织", "女装", "399.00")],
    "10000002": [("法式碎花连衣裙", "云织", "女装", "259.00"), ("高腰阔腿裤", "云织", "女装", "189.00")],
    "10000003": [("极光 X5 无线耳机", "极光", "数码", "499.00"), ("极光 65W 充电器", "极光", "数码", "129.00"),
                 ("极光 智能手表 S2", "极光", "数码", "899.00")],
    "10000004": [("手工陶瓷马克杯", "", "家居", "39.90"), ("棉麻桌布", "", "家居", "59.00")],
    "10000005": [("925银 耳钉", "", "饰品", "88.00"), ("手编 红绳手链", "", "饰品", "29.90")],
    "10000006": [("优品 洗衣液 3kg", "优品", "日化", "45.90"), ("优品 洗洁精", "优品", "日化", "12.90")],
    "10000007": [("赣南脐橙 5斤", "", "生鲜", "35.80")],
    "10000008": [("蜀香 火锅底料", "蜀香", "食品", "29.90"), ("蜀香 麻辣牛肉干", "蜀香", "食品", "49.90")],
}


class Command(BaseCommand):
    help = "Load the demo world and demo accounts (development only; idempotent)."

    def handle(self, *args, **options):
        if settings.PRODUCTION:
            raise CommandError("seed_demo refuses to run in production mode (DJANGO_DEBUG=false).")
        now = timezone.now()
        with transaction.atomic():
            controllers = {key: self._controller(*spec) for key, spec in CONTROLLERS.items()}
            shops = {no: self._shop(no, controllers[spec[0]], *spec[1:]) for no, spec in SHOPS.items()}
            self._standing(shops, controllers, now)
            for shop_no, products in PRODUCTS.items():
                for i, (title, brand, category, price) in enumerate(products, start=1):
                    Product.objects.get_or_create(
                        product_no=f"3{shop_no[1:]}{i:02d}",
                        defaults=dict(shop=shops[shop_no], title=title, brand=brand, category=category,
                                      price=Decimal(price)),
                    )
            self._accounts(shops)
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

    def _standing(self, shops, controllers, now):
        """The statuses the demo needs, set once, on first creation only. (The
        penalty engine writes these through its services; the demo world is
        history that happened before.)"""
        first_run = not Shop.objects.exclude(status=Shop.Status.OPEN).exists()
        if not first_run:
            return
        Shop.objects.filter(pk=shops["10000002"].pk).update(
            status=Shop.Status.SUSPENDED, suspended_until=now + datetime.timedelta(days=5)
        )
        Shop.objects.filter(pk=shops["10000006"].pk).update(
            status=Shop.Status.CLEARED, ended_at=now - datetime.timedelta(days=40)
        )
        Controller.objects.filter(pk=controllers["youpin"].pk).update(
            barred_at=now - datetime.timedelta(days=40), barred_reason="店铺因售假被清退（演示）"
        )
        Shop.objects.filter(pk=shops["10000007"].pk).update(
            status=Shop.Status.EXITED, exit_kind=Shop.ExitKind.TERM_END,
            ended_at=now - datetime.timedelta(days=60),
        )
        Shop.objects.filter(pk=shops["10000008"].pk).update(
            status=Shop.Status.CLOSED, ended_at=now - datetime.timedelta(days=15)
        )
        Product.objects.filter(shop=shops["10000006"]).update(status=Product.Status.DELISTED)

    def _accounts(self, shops):
        for username, group, full_name in STAFF:
            user = self._user(username, full_name, is_staff=True)
            user.groups.add(Group.objects.get(name=group))
        merchant1 = self._user("merchant1", MERCHANTS[0][1], is_staff=False)
        merchant2 = self._user("merchant2", MERCHANTS[1][1], is_staff=False)
        for user, shop_no in ((merchant1, "10000001"), (merchant1, "10000002"), (merchant2, "10000004")):
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
        lines.append("  merchant1        merchant of 云织官方旗舰店 and 云织女装专营店")
        lines.append("  merchant2        merchant of 张伟的小店")
        return "\n".join(lines) + "\n"


def _id_card_image(side: str) -> ContentFile:
    """A placeholder card image, clearly marked as a sample."""
    image = Image.new("RGB", (428, 270), (226, 236, 247))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, 419, 261), outline=(90, 120, 160), width=3)
    draw.text((24, 24), f"DEMO SAMPLE - ID CARD {side}", fill=(40, 60, 90))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return ContentFile(buffer.getvalue())
