"""Test data builders: real-shaped identifiers that pass their checksums."""

import datetime
import io
import itertools
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from shops.identifiers import luhn_check_digit, resident_id_check_char, uscc_check_char
from shops.models import Controller, Product, Shop, ShopMember

_seq = itertools.count(1)


def uscc(n: int | None = None) -> str:
    body = f"91330100MA{(n or next(_seq)):07d}"
    return body + uscc_check_char(body)


def resident_id(n: int | None = None) -> str:
    body = f"33010219880101{(n or next(_seq)) % 1000:03d}"
    return body + resident_id_check_char(body)


def bank_card(n: int | None = None) -> str:
    body = f"622202{(n or next(_seq)):012d}"
    return body + luhn_check_digit(body)


def make_staff(username: str, group: str) -> User:
    user = User.objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def make_merchant(username: str, *shops: Shop) -> User:
    user = User.objects.create_user(username, password="pw")
    for shop in shops:
        ShopMember.objects.create(user=user, shop=shop)
    return user


def make_controller(**fields) -> Controller:
    n = next(_seq)
    if fields.get("kind", "company") == "person":
        defaults = dict(name=f"自然人{n}", kind="person", id_number=resident_id(n))
    else:
        defaults = dict(name=f"测试公司{n}", kind="company", uscc=uscc(n))
    controller = Controller(**{**defaults, **fields})
    controller.full_clean()
    controller.save()
    return controller


def make_shop(controller: Controller | None = None, **fields) -> Shop:
    n = next(_seq)
    controller = controller or make_controller()
    defaults = dict(
        shop_no=f"2{n:07d}", name=f"测试店铺{n}", controller=controller,
        entity_type="enterprise", shop_type="ordinary", experience_score=Decimal("80"),
        company_name=controller.name, uscc=uscc(n), business_term_start=datetime.date(2020, 1, 1),
        business_address="浙江省杭州市西湖区文三路 1 号",
    )
    if fields.get("entity_type") == "individual":
        defaults.update(company_name="", uscc="", id_card_number=resident_id(n), bank_card_number=bank_card(n),
                        business_term_start=None, business_address="")
    shop = Shop(**{**defaults, **fields})
    shop.full_clean()
    shop.save()
    return shop


def make_product(shop: Shop, **fields) -> Product:
    n = next(_seq)
    return Product.objects.create(
        **{"shop": shop, "product_no": f"4{n:07d}", "title": f"商品{n}", "price": Decimal("9.90"), **fields}
    )


def png_upload(name="card.png", size=(40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf_bytes(**catalog_extra) -> bytes:
    """A real one-page PDF; ``catalog_extra`` adds entries to its catalogue."""
    from pypdf import PdfWriter
    from pypdf.generic import NameObject

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    for key, value in catalog_extra.items():
        writer._root_object[NameObject(key)] = writer._add_object(value)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_upload(name="doc.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(), content_type="application/pdf")


def tier(rule_code: str, tier_code: str):
    from compliance.models import RuleTier

    return RuleTier.objects.select_related("rule").get(rule__code=rule_code, rule__version=1, code=tier_code)


def fund(shop: Shop, amount) -> Shop:
    from compliance.services.deposits import deposit_top_up

    deposit_top_up(shop=shop, amount=Decimal(str(amount)), actor=None, note="test")
    shop.refresh_from_db()
    return shop


def issue(shop: Shop, rule_code: str, tier_code: str, actor, **kwargs):
    import datetime

    from django.utils import timezone

    from compliance.services.tickets import ticket_issue

    now = kwargs.get("now") or timezone.now()
    kwargs.setdefault("description", "测试违规描述")
    kwargs.setdefault("occurred_at", now - datetime.timedelta(hours=1))
    return ticket_issue(shop=shop, tier=tier(rule_code, tier_code), actor=actor, **kwargs)


def qualification_type(code: str):
    from compliance.models import QualificationType

    return QualificationType.objects.get(code=code)


def submit_certificate(shop: Shop, type_code: str, actor, *, expires_on=None, brand="", products=(), renews=None,
                       issued_on=None, now=None, number=None):
    """A certificate submitted through the service (status: under review)."""
    import datetime

    from compliance.services.qualifications import qualification_submit

    return qualification_submit(
        shop=shop, qualification_type=qualification_type(type_code), number=number or f"ZZ{next(_seq):08d}",
        holder=shop.company_name or shop.name, authority="市场监督管理局",
        issued_on=issued_on or datetime.date(2020, 1, 1), expires_on=expires_on, brand=brand, products=products,
        files=[pdf_upload("licence.pdf")], actor=actor, renews=renews, now=now,
    )


def approved_certificate(shop: Shop, type_code: str, reviewer, *, merchant=None, now=None, **kwargs):
    from compliance.services.qualifications import qualification_review

    if merchant is None:
        member = shop.members.select_related("user").first()
        merchant = member.user if member else reviewer
    q = submit_certificate(shop, type_code, merchant, now=now, **kwargs)
    return qualification_review(qualification=q, approve=True, reason="", actor=reviewer, now=now)


def make_integration(name: str = "detector", scopes=None, **fields):
    """An integration and its key (the key is shown once, like in the admin)."""
    from compliance.models import Scope
    from compliance.services.integrations import integration_create

    creator = fields.pop("created_by", None) or make_staff(f"creator-{name}", "Compliance admin")
    return integration_create(name=name, actor=creator, scopes=list(Scope.values) if scopes is None else scopes,
                              **fields)


def warning_row(target: Shop, report_id: str, *, now=None, **fields) -> dict:
    import datetime

    from django.utils import timezone

    row = dict(report_id=report_id, shop=target.shop_no, rule="fake_shipment", tier="per_order",
               summary="疑似虚假发货", order_nos=["6900000000000000001", "6900000000000000002"], product_nos=[],
               evidence={"物流单号": ["YT1", "YT2"], "揽收记录": "无"},
               detected_at=(now or timezone.now()) - datetime.timedelta(hours=1))
    row.update(fields)
    return row


def receive_warning(integration, shop: Shop, report_id: str = "r-1", *, now=None, **fields):
    """One warning through the service, as the API would hand it over."""
    from compliance.services.warnings import warnings_receive

    row = warning_row(shop, report_id, now=now, **fields)
    [result] = warnings_receive(integration=integration, rows=[row], now=now)
    assert result.outcome in ("created", "duplicate"), result.errors
    return result.warning
