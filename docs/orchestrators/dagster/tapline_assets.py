"""Tapline in Dagster: one asset per pipeline of tapline.yml, shelling out to `tapline run`, and
the unified model downstream. tapline's exit codes (docs/orchestrators/README.md):

  0 success                 -> materialized, with the --summary-json figures as metadata
  6 partial                 -> materialized, a warning logged and `partial: true` in the metadata
  4, 10, 11, 130            -> Failure, retried by the asset's RetryPolicy
  1, 2, 3                   -> Failure(allow_retries=False): a person must fix something

Needs Dagster 1.7+ and `tapline` on PATH (npm install --global @tapline/cli, or the image).
"""

from __future__ import annotations

import json
import subprocess

import dagster as dg

PROJECT_DIR = "/srv/tapline"  # holds tapline.yml and .env
RETRIED = {4, 10, 11, 130}
RETRY = dg.RetryPolicy(max_retries=3, delay=60, backoff=dg.Backoff.EXPONENTIAL)


def run_tapline(context: dg.AssetExecutionContext, *args: str) -> dg.MaterializeResult:
    done = subprocess.run(
        ["tapline", "run", *args, "--summary-json"], cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True, check=False
    )
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    if done.returncode not in (0, 6):
        message = f"tapline exited {done.returncode}: {summary.get('error')}"
        raise dg.Failure(description=message, allow_retries=done.returncode in RETRIED)
    if done.returncode == 6:
        context.log.warning(f"{summary.get('pipeline')} ended partial: committed, the next run carries on")
    rows = {s["stream"]: s.get("rows_loaded") for s in summary.get("streams", [])}
    return dg.MaterializeResult(
        metadata={"partial": done.returncode == 6, "seconds": summary.get("seconds"), "rows_loaded": rows}
    )


@dg.asset(group_name="tapline", retry_policy=RETRY)
def classmarker_results(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return run_tapline(context, "classmarker-to-warehouse")


@dg.asset(group_name="tapline", retry_policy=RETRY)
def testpress_attempts(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return run_tapline(context, "testpress-to-warehouse")


@dg.asset(group_name="tapline", deps=[classmarker_results, testpress_attempts])
def exam_results() -> None:
    """The unified views exam_results and exams over everything loaded."""
    subprocess.run(["tapline", "model", "--target", "warehouse"], cwd=PROJECT_DIR, check=True)


hourly = dg.ScheduleDefinition(
    name="tapline_hourly",
    target=dg.AssetSelection.groups("tapline"),
    cron_schedule="0 * * * *",
)
defs = dg.Definitions(assets=[classmarker_results, testpress_attempts, exam_results], schedules=[hourly])
