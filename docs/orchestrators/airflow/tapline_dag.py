"""Tapline in Airflow: one DAG, every pipeline of tapline.yml, tapline's exit codes mapped to
Airflow's task states (docs/orchestrators/README.md has the table):

  0 success                       -> success
  6 partial (committed, more next run) -> success with a warning (or "skipped": see the bash variant)
  4 transient, 10/11 a side failed, 130 interrupted -> failure, retried (retries, retry_delay)
  1 bug, 2 bad command line, 3 configuration to fix -> failure, not retried (AirflowFailException)

Needs Airflow 2.7+ (or 3.x) and `tapline` on the worker's PATH (npm install --global @tapline/cli),
or the KubernetesPodOperator variant below with the image built from the repository's Dockerfile.
"""

from __future__ import annotations

import json
import logging
import subprocess
from datetime import timedelta

import pendulum
from airflow.exceptions import AirflowException, AirflowFailException

try:  # Airflow 3 (BashOperator from apache-airflow-providers-standard)
    from airflow.providers.standard.operators.bash import BashOperator
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task
    from airflow.operators.bash import BashOperator

PROJECT_DIR = "/srv/tapline"  # holds tapline.yml and .env (the `${ENV}` secrets)
RETRIED = {4, 10, 11, 130}
log = logging.getLogger(__name__)


def run_tapline(*args: str) -> dict:
    """Runs `tapline run ... --summary-json` and returns its summary, or raises by exit code."""
    done = subprocess.run(
        ["tapline", "run", *args, "--summary-json"],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )  # stderr (tapline's log) goes to the task log as it is
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    if done.returncode == 0:
        return summary
    if done.returncode == 6:
        log.warning("tapline ended partial: committed, the next run carries on: %s", summary)
        return summary
    message = f"tapline exited {done.returncode}: {summary.get('error') or summary.get('total')}"
    if done.returncode in RETRIED:
        raise AirflowException(message)  # counted against `retries`
    raise AirflowFailException(message)  # a person must fix something: no retry


@dag(
    schedule="*/30 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # never two runs of one pipeline at once
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True},
    tags=["tapline"],
)
def tapline_pipelines():
    @task
    def classmarker_to_warehouse() -> dict:
        return run_tapline("classmarker-to-warehouse")  # a pipeline named in tapline.yml

    @task
    def testpress_to_warehouse() -> dict:
        return run_tapline("testpress-to-warehouse")

    # The simplest form: BashOperator. Exit 6 leaves the task "skipped" (a visible warning that
    # does not fail the DAG run); every other non-zero code fails it and is retried, 3 included.
    cbthost = BashOperator(
        task_id="cbthost_to_warehouse",
        bash_command=f"cd {PROJECT_DIR} && tapline run cbthost-to-warehouse --summary-json",
        skip_on_exit_code=6,
        do_xcom_push=True,  # the last stdout line, the summary, becomes the task's XCom
    )

    # Then the unified model over everything loaded.
    model = BashOperator(task_id="model", bash_command=f"cd {PROJECT_DIR} && tapline model --target warehouse")
    [classmarker_to_warehouse(), testpress_to_warehouse(), cbthost] >> model


tapline_pipelines()
