"""The rule catalogue of SPEC §5 (with §4's qualification rule and trademark
events) and the point nodes of §6.2, shipped as data. Compliance admins edit
them afterwards in the admin; nothing here is read by code as a constant."""

import datetime
from decimal import Decimal

from django.db import migrations

EFFECTIVE = datetime.date(2023, 1, 1)


def severity_tiers(cls):
    """SPEC §5 severity tiers (002)."""
    return [
        dict(code="general", name_zh="情节一般", name_en="General", violation_class=cls,
             points_default=3, points_min=3, points_max=3, deposit_amount=Decimal("2000"),
             warning=True, delist_products=True),
        dict(code="serious", name_zh="情节严重", name_en="Serious", violation_class=cls,
             points_default=6, points_min=4, points_max=10, deposit_amount=Decimal("5000"), suspend_days=7),
        dict(code="especially_serious", name_zh="情节特别严重", name_en="Especially serious",
             violation_class=cls, points_default=12, points_min=12, points_max=12, deposit_all=True,
             freeze_proceeds=True, clear_shop="always"),
    ]


RULES = [
    # General (A) violations with the appeal evidence hints of 002.
    dict(code="false_advertising", name_zh="虚假宣传", name_en="False advertising",
         evidence_hint_zh="第三方权威机构出具的产品质检报告等认证资料。",
         evidence_hint_en="A quality inspection report or other certification from an authoritative third party.",
         tiers=severity_tiers("A")),
    dict(code="price_mismatch", name_zh="商品价格与实际不符", name_en="Price does not match the actual price",
         evidence_hint_zh="商品发布前七日内在本平台成交的最低交易价格。",
         evidence_hint_en="The lowest transaction price on the platform in the 7 days before the product was listed.",
         tiers=severity_tiers("A")),
    dict(code="logistics_mismatch", name_zh="物流信息与实际不符", name_en="Logistics information does not match",
         evidence_hint_zh="真实的物流信息记录截图。", evidence_hint_en="Screenshots of the genuine logistics records.",
         tiers=severity_tiers("A")),
    # Fake shipment (002): ¥500 per confirmed order, at most ¥5,000 per shop per day.
    dict(code="fake_shipment", name_zh="虚假发货", name_en="Fake shipment",
         evidence_hint_zh="真实的发货及物流记录截图。", evidence_hint_en="Genuine shipping and logistics records.",
         tiers=[
             dict(code="per_order", name_zh="确认虚假发货订单", name_en="Confirmed fake-shipment orders",
                  violation_class="A", deposit_per_order=Decimal("500"), deposit_daily_cap=Decimal("5000")),
             dict(code="repeated", name_zh="多次判罚后仍未规范发货", name_en="Repeated after several penalties",
                  violation_class="A", delist_products=True),
             dict(code="severe", name_zh="情节严重", name_en="Severe", violation_class="A",
                  deposit_all=True, clear_shop="always"),
         ]),
    # Serious (B) violations named in 000; they count against alliance eligibility.
    *[
        dict(code=code, name_zh=zh, name_en=en, alliance_serious=True, evidence_hint_zh=hint_zh,
             evidence_hint_en=hint_en, tiers=severity_tiers("B"))
        for code, zh, en, hint_zh, hint_en in [
            ("counterfeit", "出售假冒/盗版商品", "Counterfeit or pirated goods",
             "品牌授权许可证书和进货发票；代购须提供购物小票及合法代购资质证明。",
             "Brand authorisation and purchase invoices; for 代购 purchases, the receipts and proof of "
             "legal purchasing."),
            ("prohibited", "发布违禁商品/信息", "Prohibited goods or information", "", ""),
            ("fake_transaction", "虚假交易", "Fake transactions", "", ""),
            ("improper_gain", "不当获利", "Improper gain", "", ""),
            ("disrupting_order", "扰乱平台秩序", "Disrupting platform order", "", ""),
            ("non_agreed_goods", "发布非约定商品", "Non-agreed goods", "", ""),
            ("endangering_consumers", "危及消费者权益", "Endangering consumers' rights", "", ""),
        ]
    ],
    # SPEC §4 (001): failure to submit qualification materials per the rules.
    dict(code="qualification_materials", name_zh="未按规则提交资质材料",
         name_en="Failure to submit qualification materials per the rules", is_qualification_rule=True,
         evidence_hint_zh="更新后的有效资质证书。", evidence_hint_en="The updated, valid certificate.",
         tiers=[
             dict(code="product_first_minor", name_zh="商品资质·首次且情节轻微", name_en="Product · first and minor",
                  violation_class="A", delist_products=True),
             dict(code="product", name_zh="商品资质·无消费者投诉", name_en="Product · no consumer complaint",
                  violation_class="A", points_default=8, points_min=8, points_max=8, delist_products=True),
             dict(code="product_complaint", name_zh="商品资质·有消费者投诉或对平台造成不良影响",
                  name_en="Product · consumer complaint or adverse impact on the platform",
                  violation_class="B", points_default=4, points_min=4, points_max=4, delist_products=True),
             dict(code="other", name_zh="主体/品牌/行业资质·一般", name_en="Subject, brand or industry · ordinary",
                  violation_class="A", points_default=12, points_min=12, points_max=12, delist_products=True),
             dict(code="other_especially_serious", name_zh="主体/品牌/行业资质·情节特别严重",
                  name_en="Subject, brand or industry · especially serious",
                  violation_class="B", points_default=12, points_min=12, points_max=12, delist_products=True),
         ]),
    # SPEC §4 (001): trademark events — the reviewer chooses the ban and the clearance.
    dict(code="trademark_event", name_zh="商标异常（受理通知书被驳回、注册商标被宣告无效、品牌授权被撤回）",
         name_en="Trademark event (application rejected, registration invalidated, authorisation withdrawn)",
         evidence_hint_zh="新的商标注册证或完整的品牌授权链路。",
         evidence_hint_en="A new registration certificate or a complete chain of brand authorisations.",
         tiers=[
             dict(code="brand_lapsed", name_zh="品牌资质失效", name_en="Brand qualification lapsed",
                  violation_class="A", ban_products="optional", clear_shop="optional"),
         ]),
]

# SPEC §6.2.
NODES = [
    dict(violation_class="B", threshold=12, clear_shop=True),
    dict(violation_class="A", threshold=12, suspend_days=3, deposit_amount=Decimal("2000")),
    dict(violation_class="A", threshold=24, suspend_days=7, deposit_amount=Decimal("5000")),
    dict(violation_class="A", threshold=36, clear_shop=True),
]


def forward(apps, schema_editor):
    Rule = apps.get_model("compliance", "Rule")
    RuleTier = apps.get_model("compliance", "RuleTier")
    PointNode = apps.get_model("compliance", "PointNode")
    for spec in RULES:
        spec = dict(spec)
        tiers = spec.pop("tiers")
        rule, created = Rule.objects.get_or_create(
            code=spec.pop("code"), version=1, defaults={**spec, "effective_from": EFFECTIVE}
        )
        if not created:
            continue
        for position, tier in enumerate(tiers):
            RuleTier.objects.create(rule=rule, position=position, **tier)
    for node in NODES:
        PointNode.objects.get_or_create(
            violation_class=node["violation_class"], threshold=node["threshold"], defaults=node
        )


class Migration(migrations.Migration):
    dependencies = [("compliance", "0004_penalty_engine")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
