"""``manage.py db_worker``: django-tasks-db's command with our worker
(compliance/worker.py: heartbeats, a killed worker's task run again) and
every queue and a 0.1 s poll by default. ``--batch`` drains the queue once
and exits."""

from django_tasks_db.management.commands import db_worker

from compliance import worker


class Command(db_worker.Command):
    def add_arguments(self, parser):
        super().add_arguments(parser)
        # Every queue; and an idle worker looks for work ten times a second
        # (an indexed probe): a task waits ~50 ms for it, not the library's ~500.
        parser.set_defaults(queue_name="*", interval=0.1)

    def handle(self, *args, **options):
        # The library's handle builds its Worker by name: ours stands in for it.
        original = db_worker.Worker
        db_worker.Worker = worker.Worker
        try:
            super().handle(*args, **options)
        finally:
            db_worker.Worker = original
