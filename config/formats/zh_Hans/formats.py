# One date and time format everywhere the product shows a time (Asia/Shanghai):
# 2026-11-22 20:49 in lists, pages and e-mails, in both languages.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
# Date inputs are written, and read first, in the same form (Django's zh_Hans default writes 2026/11/29);
# what a reviewer may still type in the other common forms is read too.
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"]
DATETIME_INPUT_FORMATS = ["%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y/%m/%d %H:%M",
                          "%Y/%m/%d %H:%M:%S"]
