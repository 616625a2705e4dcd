-- Sample data for the demo: a small shop with a year of audit trail, a WhatsApp provider
-- outage behind it, and quota rows that have drifted. Deterministic (no random()).
-- Sizes: psql -v tenants=20 -v events=20000 -v messages=3000 -v orders=8000
\if :{?tenants}  \else \set tenants 20 \endif
\if :{?events}   \else \set events 20000 \endif
\if :{?messages} \else \set messages 3000 \endif
\if :{?orders}   \else \set orders 8000 \endif

BEGIN;
INSERT INTO tenants (name, created_at, updated_at)
SELECT 'Tenant ' || t, now()::timestamp(0) - interval '2 years', now()::timestamp(0)
FROM generate_series(1, :tenants) AS t;

-- Audit events over the last 365 days, newest last; some rows from before timestamps existed.
INSERT INTO audit_events (tenant_id, channel, event, actor_type, actor_id, subject_type, subject_id,
                          ip_address, user_agent, metadata, created_at, updated_at)
SELECT 1 + i % :tenants,
       (ARRAY['web', 'api', 'wa', 'billing', 'security', 'system'])[1 + i % 6],
       (ARRAY['order.created', 'order.paid', 'auth.login', 'auth.login_failed', 'wa.sent'])[1 + i % 5],
       'user', 1000 + i % 97, 'order', i,
       '10.1.' || (i % 200) || '.' || (i % 250),
       'Mozilla/5.0 (X11; Linux x86_64)',
       CASE WHEN i % 10 = 0 THEN E'{\n  "source": "import",\n  "rows": ' || i || E'\n}'
            ELSE json_build_object('order_id', i, 'total', (i % 500) * 1.25)::text END::json,
       ts, ts
FROM generate_series(1, :events) AS i,
     LATERAL (SELECT (now() AT TIME ZONE 'UTC')::timestamp(0)
                     - ((:events - i) * interval '365 days' / :events) AS ts) AS t;
INSERT INTO audit_events (channel, event, created_at) VALUES ('system', 'legacy.import', NULL);

-- Orders over this month and the previous two; quota rows as the application kept them.
INSERT INTO orders (tenant_id, number, status, total, created_at, updated_at, deleted_at)
SELECT 1 + i % :tenants, 'ORD-' || lpad(i::text, 8, '0'),
       (ARRAY['pending', 'paid', 'completed', 'completed', 'cancelled', 'refunded'])[1 + i % 6],
       (i % 900) + 0.99, ts, ts,
       CASE WHEN i % 41 = 0 THEN ts + interval '1 day' END
FROM generate_series(1, :orders) AS i,
     LATERAL (SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::timestamp(0)
                     - interval '2 months' + (i * interval '80 days' / :orders) AS ts) AS t;
INSERT INTO quota_usages (tenant_id, period, used, quota_limit, created_at, updated_at)
SELECT o.tenant_id, to_char(o.created_at, 'YYYY-MM'), count(*), 400, now()::timestamp(0), now()::timestamp(0)
FROM orders o WHERE o.deleted_at IS NULL AND o.status <> 'cancelled'
GROUP BY 1, 2;
-- Drift: a bug double-counted some tenants, one lost its row, one is over its limit.
UPDATE quota_usages SET used = used + 7 WHERE tenant_id % 5 = 0;
DELETE FROM quota_usages WHERE tenant_id = 3 AND period = to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM');
UPDATE quota_usages SET quota_limit = 10 WHERE tenant_id = 4;

-- WhatsApp messages: most sent, an outage left transient failures, some permanent ones.
INSERT INTO wa_messages (tenant_id, order_id, recipient, template, payload, status, attempts,
                         error_code, error_message, failed_at, sent_at, created_at, updated_at)
SELECT 1 + i % :tenants, NULL, '+62812' || lpad(i::text, 7, '0'), 'order_update',
       json_build_object('order', i),
       CASE WHEN i % 4 = 0 THEN 'failed' ELSE 'sent' END,
       CASE WHEN i % 4 = 0 THEN 3 ELSE 1 END,
       CASE WHEN i % 4 <> 0 THEN NULL
            ELSE (ARRAY['timeout', 'network_error', 'rate_limited', 'provider_unavailable',
                        'provider_error', 'invalid_recipient', 'not_on_whatsapp', 'blocked',
                        'timeout', 'rate_limited', NULL])[1 + (i / 4) % 11] END,
       CASE WHEN i % 4 = 0 THEN 'provider said no' END,
       CASE WHEN i % 4 = 0 THEN ts END,
       CASE WHEN i % 4 <> 0 THEN ts END,
       ts, ts
FROM generate_series(1, :messages) AS i,
     LATERAL (SELECT (now() AT TIME ZONE 'UTC')::timestamp(0) - ((:messages - i) * interval '20 hours' / :messages) AS ts) AS t;
COMMIT;
ANALYZE;
