"""Tapline in Airflow on Kubernetes: each pipeline in its own pod from Tapline's image (the
repository's Dockerfile), configured from a ConfigMap (tapline.yml) and a Secret (the `${ENV}`
values), as in docs/orchestrators/kubernetes/. Needs apache-airflow-providers-cncf-kubernetes.

Exit codes: 6 (partial) leaves the task "skipped"; every other non-zero code fails it and is
retried. To stop retrying configuration errors (1, 2, 3), use tapline_dag.py's run_tapline in a
@task.kubernetes task, or alert on the summary line (the pod's last stdout line).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow import DAG
from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
from kubernetes.client import models as k8s

IMAGE = "registry.example.com/tapline:0.1.0"  # docker build -t ... . at the repository root

project = k8s.V1Volume(name="project", config_map=k8s.V1ConfigMapVolumeSource(name="tapline-project"))
mount = k8s.V1VolumeMount(name="project", mount_path="/work/tapline.yml", sub_path="tapline.yml", read_only=True)
secrets = [k8s.V1EnvFromSource(secret_ref=k8s.V1SecretEnvSource(name="tapline-secrets"))]

with DAG(
    dag_id="tapline_on_kubernetes",
    schedule="0 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2), "retry_exponential_backoff": True},
    tags=["tapline"],
):
    for pipeline in ["classmarker-to-warehouse", "testpress-to-warehouse"]:
        KubernetesPodOperator(
            task_id=pipeline.replace("-", "_"),
            name=f"tapline-{pipeline}",
            image=IMAGE,
            arguments=["run", pipeline, "--summary-json", "--log-format", "json"],  # the entrypoint is tapline
            env_from=secrets,
            volumes=[project],
            volume_mounts=[mount],
            skip_on_exit_code=6,
            termination_grace_period=60,  # SIGTERM: tapline stops both sides and commits what is durable
            on_finish_action="delete_succeeded_pod",
        )
