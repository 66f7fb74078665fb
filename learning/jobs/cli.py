"""``flask jobs worker|list|retry|reminders``: run and inspect background jobs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from learning.extensions import db
from learning.jobs.models import Job
from learning.jobs.service import JobError, all_jobs, enqueue, new_token, retry, settle

jobs_cli = AppGroup("jobs", help="Run and inspect background jobs.")


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker_command(burst: bool):
    """Run an RQ worker for the jobs queue on REDIS_URL (jobs run in this process)."""
    from learning.jobs.worker import make_worker

    url = current_app.config.get("REDIS_URL")
    if not url:
        raise click.ClickException("REDIS_URL is not set: without Redis, jobs run in-process "
                                   "and no worker is needed.")
    make_worker(url, current_app.config).work(burst=burst, with_scheduler=False)


@jobs_cli.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def list_command(limit: int):
    """The most recent jobs: id, kind, state, progress, attempts and owner (a job the
    queue failed or lost is marked failed first)."""
    for job in map(settle, all_jobs(limit)):
        total = "?" if job.total is None else job.total
        click.echo(f"{job.id}\t{job.kind}\t{job.state}\t{job.done}/{total}\t"
                   f"attempts={job.attempts}\towner={job.owner_id}\t"
                   f"{job.created_at:%Y-%m-%d %H:%M}\t{job.error or ''}")


@jobs_cli.command("retry")
@click.argument("job_id", type=int)
def retry_command(job_id: int):
    """Start a failed or stuck job again; it resumes from its last committed chunk."""
    job = db.session.get(Job, job_id)
    if job is None:
        raise click.ClickException(f"No job {job_id}.")
    try:
        job = retry(job)
    except JobError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Job {job.id}: {job.state}.")


@jobs_cli.command("reminders")
def reminders_command():
    """Queue and send this week's reminder digests as a job (on the queue, or here)."""
    job, _created = enqueue("reminders", {}, None, new_token())
    click.echo(f"Job {job.id}: {job.state}.")
