"""The daily job's due-ticket index gets the shop as its last column: a shard's claim (status,
deadline, its range of shops) then reads only its own due tickets (bench/RESULTS.md). The new
index is built concurrently on PostgreSQL before the old one goes."""

from django.conf import settings
from django.db import migrations, models

from shops.migrations._ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False  # the index is created CONCURRENTLY on PostgreSQL

    dependencies = [
        ('compliance', '0054_journal_unchecked_references_ticket_key_constraint'),
        ('shops', '0009_product_changed_at'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name='ticket',
            index=models.Index(fields=['status', 'appeal_deadline', 'shop'], name='ticket_status_deadline_shop'),
        ),
        migrations.RemoveIndex(
            model_name='ticket',
            name='ticket_status_deadline',
        ),
    ]
