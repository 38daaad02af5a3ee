"""SPEC §4's certificate types and a believable default requirement matrix
(《招商入驻标准及资质要求》), shipped as data; compliance admins edit both in
the admin afterwards. Also the reviewers' and admins' permissions."""

from django.db import migrations

from ._grants import grant

TYPES = [
    # (code, kind, Chinese, English)
    ("business_licence", "subject", "营业执照", "Business licence"),
    ("resident_id", "subject", "居民身份证", "Resident ID card"),
    ("bank_account", "subject", "银行账户信息", "Bank account information"),
    ("trademark_registration", "brand", "商标注册证", "Trademark registration certificate"),
    ("trademark_acceptance", "brand", "商标受理通知书", "Trademark application acceptance notice"),
    ("brand_authorisation", "brand", "品牌授权书", "Brand authorisation"),
    ("food_business_licence", "industry", "食品经营许可证", "Food business licence"),
    ("food_production_licence", "industry", "食品生产许可证", "Food production licence"),
    ("cosmetics_production_licence", "industry", "化妆品生产许可证", "Cosmetics production licence"),
    ("ccc", "product", "强制性产品认证证书（CCC）", "Compulsory product certificate (CCC)"),
    ("cosmetics_filing", "product", "化妆品备案凭证", "Cosmetics filing"),
]

BRAND = ["trademark_registration", "trademark_acceptance", "brand_authorisation"]
REQUIREMENTS = [
    # (category, shop type, accepted types, per brand, note)
    ("食品", "", ["food_business_licence", "food_production_licence"], False, "预包装食品、散装食品"),
    ("零食", "", ["food_business_licence", "food_production_licence"], False, ""),
    ("生鲜", "", ["food_business_licence"], False, "食用农产品"),
    ("美妆", "", ["cosmetics_filing"], False, "每个商品一份备案"),
    ("化妆品", "", ["cosmetics_filing"], False, "每个商品一份备案"),
    ("家电", "", ["ccc"], False, "列入强制性认证目录的电器"),
    ("数码", "", ["ccc"], False, "充电器、移动电源等"),
    ("", "flagship", BRAND, True, "旗舰店：经营的每个品牌"),
    ("", "exclusive", BRAND, True, "专卖店：经营的每个品牌"),
    ("", "specialty", BRAND, True, "专营店：经营的每个品牌"),
]

READ = ["compliance.view_qualification", "compliance.view_qualificationdocument",
        "compliance.view_rectificationnotice", "compliance.view_qualificationrequirement",
        "compliance.view_qualificationtype"]
REVIEW = ["compliance.review_qualification", "compliance.view_missingqualification"]
EDIT = ["compliance.add_qualificationrequirement", "compliance.change_qualificationrequirement",
        "compliance.add_qualificationtype", "compliance.change_qualificationtype"]
ROLES = {
    "Reviewer": READ + REVIEW,
    "Appeal reviewer": READ,
    "Compliance admin": READ + REVIEW + EDIT,
}


def forward(apps, schema_editor):
    QualificationType = apps.get_model("compliance", "QualificationType")
    QualificationRequirement = apps.get_model("compliance", "QualificationRequirement")
    types = {}
    for position, (code, kind, zh, en) in enumerate(TYPES):
        types[code], _ = QualificationType.objects.get_or_create(
            code=code, defaults=dict(kind=kind, name_zh=zh, name_en=en, position=position))
    if not QualificationRequirement.objects.exists():
        for category, shop_type, accepted, per_brand, note in REQUIREMENTS:
            requirement = QualificationRequirement.objects.create(category=category, shop_type=shop_type,
                                                                  per_brand=per_brand, note=note)
            requirement.accepted_types.set([types[code] for code in accepted])
    grant(apps, ROLES)


class Migration(migrations.Migration):
    dependencies = [("compliance", "0019_qualifications")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
