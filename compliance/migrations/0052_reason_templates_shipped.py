"""SPEC §14: the reason templates the product ships (compliance admins edit
them, add their own per rule, and retire them), and who edits them."""

from django.db import migrations

from ._grants import grant

SHIPPED = [
    ("appeal", "approve", "凭证充分，撤销违规单",
     "经复核，您提交的凭证能够证明该违规不成立，平台撤销本违规单，相应扣分、保证金扣除及处理措施一并撤回。"),
    ("appeal", "reject", "凭证不足，维持原判",
     "经复核，您提交的凭证不足以证明该违规不成立，维持原判。如有新的有效凭证，可在申诉期内再次申诉。"),
    ("appeal", "reject", "材料与违规事实无关",
     "您提交的材料与本次违规事实无关，无法作为申诉依据，维持原判。"),
    ("warning", "confirm", "核实属实",
     "经核实，预警所述情况属实，平台将按规则开具违规单。"),
    ("warning", "dismiss", "已完成整改",
     "经核实，您已按要求完成整改，本次预警不予处罚。"),
    ("warning", "dismiss", "检测误报",
     "经复核，该预警为检测误报，不予处罚，给您带来的不便敬请谅解。"),
    ("qualification", "approve", "材料齐全有效",
     "资质材料齐全、清晰且在有效期内，审核通过。"),
    ("qualification", "reject", "图片模糊或不完整",
     "上传的资质图片模糊或不完整，无法辨认关键信息，请重新上传清晰、完整的原件照片或扫描件。"),
    ("qualification", "reject", "主体与店铺不一致",
     "资质上的主体名称与店铺的开店主体不一致，请上传与开店主体一致的资质，或补充相应的授权文件。"),
    ("qualification", "reject", "资质已过期",
     "该资质已超过有效期，请上传在有效期内的资质。"),
    ("alliance", "approve", "符合准入条件",
     "店铺满足精选联盟准入条件，申请已通过，欢迎加入精选联盟。"),
    ("alliance", "reject", "暂不满足准入条件",
     "店铺当前不满足精选联盟准入条件（未满足的条件见资格页），暂不予通过；满足条件后可重新申请。"),
    ("provider_request", "approve", "符合要求",
     "经审核，申请符合要求，予以通过。"),
    ("provider_request", "reject", "材料不全",
     "申请材料不完整，请补齐后重新提交。"),
]


def forward(apps, schema_editor):
    ReasonTemplate = apps.get_model("compliance", "ReasonTemplate")
    for position, (queue, decision, title, text) in enumerate(SHIPPED):
        ReasonTemplate.objects.get_or_create(queue=queue, decision=decision, rule_code="", title=title,
                                             defaults={"text": text, "position": position})
    grant(apps, {"Compliance admin": ["compliance.view_reasontemplate", "compliance.add_reasontemplate",
                                      "compliance.change_reasontemplate"]})


class Migration(migrations.Migration):
    dependencies = [("compliance", "0051_reason_templates")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
