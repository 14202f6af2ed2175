-- A subscription can be removed (flow.unsubscribe) while its deliveries stay as the cases'
-- history: a delivery names the URL it was for, no longer a row that must exist.
alter table webhook_deliveries drop constraint if exists webhook_deliveries_webhook_url_fkey;
