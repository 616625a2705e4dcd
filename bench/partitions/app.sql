-- The application while ops works (pgbench -f, one transaction per line group): an order
-- created with the contract's quota rule in the same transaction, its audit event, and a
-- WhatsApp message status update.
\set tenant random(1, 200)
\set message random(1, 20000)
BEGIN;
INSERT INTO orders (tenant_id, number, status, total, created_at, updated_at)
  VALUES (:tenant, 'B-' || :client_id || '-' || :message, 'pending', 125.50, now(), now());
INSERT INTO quota_usages (tenant_id, period, used, created_at, updated_at)
  VALUES (:tenant, to_char(now(), 'YYYY-MM'), 1, now(), now())
  ON CONFLICT (tenant_id, period) DO UPDATE SET used = quota_usages.used + 1, updated_at = now();
INSERT INTO audit_events (tenant_id, channel, event, subject_type, created_at, updated_at)
  VALUES (:tenant, 'web', 'order.created', 'order', now(), now());
UPDATE wa_messages SET status = 'sent', sent_at = now(), updated_at = now() WHERE id = :message;
END;
