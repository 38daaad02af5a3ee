"""Django's own admin strings that read badly in its Chinese catalogue —
"以 状态", "选择 店铺 来修改", "29 条结果。", an ASCII colon after every
label — marked here so that ``make messages`` keeps our translations of
them in locale/zh_Hans (issue #23: the project's catalogue comes first).
Never imported: only read by makemessages."""

from django.utils.translation import gettext_noop, ngettext_lazy

STOCK = [
    gettext_noop(" By %(filter_title)s "),  # a list filter's title: "按状态"
    gettext_noop(":"),  # every form's label suffix: "违规单号："
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("Select %s"),
    gettext_noop("View %s"),
    gettext_noop("Change %s"),
    gettext_noop("Add %s"),
    gettext_noop("Add %(name)s"),  # the list's button: "添加店铺", not "增加 店铺"
    gettext_noop("%(name)s with ID “%(key)s” doesn’t exist. Perhaps it was deleted?"),
    gettext_noop("%(full_result_count)s total"),
    gettext_noop("Action:"),
    # The index's table heads, read by screen readers.
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # The role groups, made by the migrations with these names (Group.__str__ translates them).
    gettext_noop("Reviewer"),
    gettext_noop("Appeal reviewer"),
    gettext_noop("Compliance admin"),
]
RESULTS = ngettext_lazy("%(counter)s result", "%(counter)s results", "counter")
