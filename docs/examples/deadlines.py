"""Deadlines on a licence application (docs/timers.md): a reminder after 7 days of silence,
withdrawal when 40 days pass without a decision, and both cancelled once it is decided."""

from datetime import timedelta

from taskflow_core import HookEvent, Taskflow

REMIND_AFTER = timedelta(days=7)
DECIDE_WITHIN = timedelta(days=40)
FINAL = ("approved", "rejected", "withdrawn")


def configure(flow: Taskflow) -> Taskflow:
    @flow.hook("status:*:submitted")
    def start_the_clocks(event: HookEvent) -> None:
        event.set_timer("reminder", REMIND_AFTER)
        event.set_timer("deadline", DECIDE_WITHIN)

    @flow.hook("comment")
    def silence_is_broken(event: HookEvent) -> None:
        if event.status == "submitted":
            event.set_timer("reminder", REMIND_AFTER)  # setting it again moves it

    @flow.hook("timer:reminder")
    def remind(event: HookEvent) -> None:
        sent = (event.data or {}).get("reminders", 0)
        event.patch({"reminders": sent + 1})
        event.set_timer("reminder", REMIND_AFTER)  # and again next week, until decided

    @flow.hook("timer:deadline")
    def withdraw(event: HookEvent) -> None:
        event.set_status("withdrawn")

    for status in FINAL:
        flow.hook(f"status:*:{status}", stop_the_clocks)
    return flow


def stop_the_clocks(event: HookEvent) -> None:
    event.cancel_timer("reminder")
    event.cancel_timer("deadline")
