-- A webhook URL with credentials (a user, a password, a query) is no longer its own key:
-- url holds it without them (and a one-way hash of the whole URL, taskflow_core/domain/
-- webhooks.py's subscription_key), and target the whole URL, sealed with TASKFLOW_SECRET_KEY
-- when one is set. Null when url is where messages go. Rows from before are moved by
-- `taskflow migrate` with a key set, or when a process registers their URL again.
alter table webhooks add column if not exists target text;
