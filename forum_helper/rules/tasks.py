from celery import shared_task

from forum_helper.rules import services


@shared_task(acks_late=True)
def backtest_run_task(backtest_id: int) -> None:
    # Idempotent: the service claims the backtest with a conditional UPDATE, failures are recorded on it.
    services.backtest_run(backtest_id=backtest_id)
