"""Simulated officers for `make scale-test`: read lessons, autosave every ~20 s, submit finals.

Started by scale/run.py, which passes a plan (JSON, ``SCALE_PLAN``) naming the
officers, the lessons, the assessment's path and a form answering it. Every save
and submit the server acknowledges is appended to ``SCALE_ACKS`` (one JSON line
each), so the runner can reconcile them against the database afterwards. Only a
200 with the question listed as saved, or a 303 to the result page, counts as
acknowledged: a request cut by a killed server is an error, never an ack.
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import time

from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["SCALE_PLAN"], encoding="utf-8").read())
ACKS = open(os.environ["SCALE_ACKS"], "a", encoding="utf-8")  # noqa: SIM115 (one per process)
NUMBERS = itertools.count(1)
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
ATTEMPT = re.compile(r"/attempts/(\d+)/$")
TIMEOUT = 30  # seconds; a request never hangs the run


def acknowledge(record: dict) -> None:
    """One line per acknowledged write, flushed at once (the runner reads the file after)."""
    ACKS.write(json.dumps(record) + "\n")
    ACKS.flush()


@events.quitting.add_listener
def _close(**_kwargs) -> None:
    ACKS.close()


class Officer(HttpUser):
    """One officer: signs in once, then reads, autosaves and submits, again and again."""

    wait_time = between(2, 6)

    def on_start(self) -> None:
        number = next(NUMBERS)
        self.email = PLAN["officers"][(number - 1) % len(PLAN["officers"])]
        self.csrf = ""
        self.signed_in = False
        self.sign_in()

    def sign_in(self) -> None:
        page = self.client.get("/login", name="sign-in page", timeout=TIMEOUT)
        token = CSRF.search(page.text or "")
        if not token:
            return
        with self.client.post("/login", name="sign in", allow_redirects=False, timeout=TIMEOUT,
                              data={"csrf_token": html.unescape(token.group(1)),
                                    "email": self.email, "password": PLAN["password"],
                                    "next": ""}, catch_response=True) as reply:
            if reply.status_code == 302 and "/login" not in reply.headers.get("Location", ""):
                self.signed_in = True
            else:
                reply.failure(f"sign-in answered {reply.status_code}")

    @task
    def take_the_course(self) -> None:
        if not self.signed_in:
            self.sign_in()
            return
        for lesson in random.sample(PLAN["lessons"], k=min(3, len(PLAN["lessons"]))):
            self.client.get(lesson, name="read", timeout=TIMEOUT)
            self.wait()
        attempt_id = self.start_attempt()
        if attempt_id is None:
            return
        for _ in range(3):
            time.sleep(random.uniform(15, 25))  # gevent-patched: yields to other officers
            self.autosave(attempt_id)
        self.submit(attempt_id)

    def start_attempt(self) -> int | None:
        page = self.client.get(PLAN["start_path"], name="start page", timeout=TIMEOUT)
        token = CSRF.search(page.text or "")
        if page.status_code != 200 or not token:
            return None
        self.csrf = html.unescape(token.group(1))
        reply = self.client.post(PLAN["start_path"], name="start", allow_redirects=False,
                                 data={"csrf_token": self.csrf}, timeout=TIMEOUT)
        match = ATTEMPT.search(reply.headers.get("Location", ""))
        return int(match.group(1)) if reply.status_code in (302, 303) and match else None

    def autosave(self, attempt_id: int) -> None:
        question = PLAN["saved_question"]
        value = random.choice(["true", "false"])
        sequence = time.time_ns() // 1_000_000  # milliseconds, like the page's script
        with self.client.post(f"{PLAN['start_path']}attempts/{attempt_id}/save", name="save",
                              headers={"Accept": "application/json"}, timeout=TIMEOUT,
                              data={"sequence": str(sequence), "included": question,
                                    f"q-{question}": value, "csrf_token": self.csrf},
                              catch_response=True) as reply:
            saved = []
            if reply.status_code == 200:
                try:
                    saved = reply.json().get("saved", [])
                except ValueError:
                    reply.failure("autosave answered 200 without JSON")
                    return
            if question in saved:
                acknowledge({"kind": "save", "attempt": attempt_id, "question": question,
                             "sequence": sequence, "value": value == "true"})
            elif reply.status_code != 200:
                reply.failure(f"autosave answered {reply.status_code}")

    def submit(self, attempt_id: int) -> None:
        form = [("sequence", str(PLAN["submit_sequence"])), *PLAN["form"],
                ("csrf_token", self.csrf)]
        with self.client.post(f"{PLAN['start_path']}attempts/{attempt_id}/submit",
                              name="submit", data=form, allow_redirects=False,
                              timeout=TIMEOUT, catch_response=True) as reply:
            if reply.status_code == 303 and reply.headers.get("Location", "").endswith(
                    "/result"):
                acknowledge({"kind": "submit", "attempt": attempt_id})
            else:
                reply.failure(f"submit answered {reply.status_code}")
