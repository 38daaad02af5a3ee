# One date and time format everywhere the product shows a time (Asia/Shanghai):
# 2026-11-22 20:49 in lists, pages and e-mails, in both languages.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
