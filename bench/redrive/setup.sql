-- bench/redrive/setup.sql: wa_messages for `ops wa redrive-failed` against its plain-SQL
-- equivalent (plain.sql). Deterministic: the same sizes always give the same rows.
--   psql -v ON_ERROR_STOP=1 -f bench/redrive/setup.sql              (200,000 / 50,000)
--   psql -v messages=1000000 -v transient=250000 -f bench/redrive/setup.sql
-- Variables (defaults): messages 200000 in all; transient 50000 failed with a transient
-- reason (what gets redriven); permanent 12000 and unknown 3000 failed with a permanent,
-- unknown or NULL reason (left alone); tenants 40. The rest are queued/sending/sent/
-- delivered/read. Replaces wa_messages, jobs and failed_jobs; adds missing tenants.
\if :{?messages} \else \set messages 200000 \endif
\if :{?transient} \else \set transient 50000 \endif
\if :{?permanent} \else \set permanent 12000 \endif
\if :{?unknown} \else \set unknown 3000 \endif
\if :{?tenants} \else \set tenants 40 \endif

\set ON_ERROR_STOP 1
SET client_min_messages = warning;

SELECT :messages >= :transient + :permanent + :unknown AS sizes_fit \gset
\if :sizes_fit \else
  \warn 'setup.sql: messages must be at least transient + permanent + unknown'
  \quit
\endif

TRUNCATE wa_messages, jobs, failed_jobs RESTART IDENTITY;

INSERT INTO tenants (id, name, created_at, updated_at)
SELECT t, 'Tenant ' || t, timestamp '2024-01-01' + t * interval '3 days',
       timestamp '2024-01-01' + t * interval '3 days'
FROM generate_series(1, :tenants) AS t
ON CONFLICT (id) DO NOTHING;
SELECT setval(pg_get_serial_sequence('tenants', 'id'), greatest((SELECT max(id) FROM tenants), 1))
  AS tenant_sequence \gset

-- Row i lands in slot (i * 7919) mod messages, a permutation of 0..messages-1 when the size is
-- not a multiple of the prime 7919: slots below `transient` are transiently failed, the next
-- `permanent` permanently, the next `unknown` with an unknown or NULL reason, the rest not
-- failed. So the kinds are spread evenly over ids, like a real table's. A few big tenants own
-- most messages (skew by the square of a hash).
INSERT INTO wa_messages (tenant_id, order_id, recipient, template, payload, status, attempts,
                         error_code, error_message, provider_message_id, failed_at, sent_at,
                         created_at, updated_at)
SELECT tenant_id, NULL, '+62' || lpad(((i * 104729) % 1000000000)::text, 10, '8'),
       (ARRAY['order_created', 'order_paid', 'order_shipped', 'order_delivered'])[1 + i % 4],
       json_build_object('order_number', 'INV-' || lpad(i::text, 8, '0'), 'name', 'Customer ' || i % 977),
       status, attempts, error_code,
       CASE error_code
         WHEN 'timeout' THEN 'cURL error 28: Operation timed out after 30001 milliseconds'
         WHEN 'network_error' THEN 'cURL error 7: Failed to connect to graph.facebook.com port 443'
         WHEN 'rate_limited' THEN '(#130429) Rate limit hit'
         WHEN 'provider_unavailable' THEN 'HTTP 503 Service Unavailable'
         WHEN 'provider_error' THEN 'HTTP 500 (#131000) Something went wrong'
         WHEN 'invalid_recipient' THEN '(#131009) Parameter value is not valid'
         WHEN 'not_on_whatsapp' THEN '(#131026) Message undeliverable'
         WHEN 'blocked' THEN '(#131031) Business account has been locked'
         WHEN 'template_rejected' THEN '(#132001) Template name does not exist in the translation'
         WHEN 'auth_failed' THEN '(#190) Access token has expired'
         ELSE CASE WHEN status = 'failed' THEN 'Unexpected response from provider' END
       END,
       CASE WHEN status IN ('sent', 'delivered', 'read') THEN 'wamid.HBgN' || md5(i::text) END,
       CASE WHEN status = 'failed' THEN created_at + interval '2 minutes' END,
       CASE WHEN status IN ('sent', 'delivered', 'read') THEN created_at + interval '5 seconds' END,
       created_at, created_at + interval '2 minutes'
FROM (
  SELECT i, slot,
         1 + floor(:tenants * power(((i * 2654435761) % 1000003) / 1000003.0, 2))::int AS tenant_id,
         timestamp '2026-11-20 12:00:00' - ((:messages - i) * interval '3 seconds') AS created_at,
         CASE WHEN slot < :transient + :permanent + :unknown THEN 'failed'
              ELSE (ARRAY['read', 'read', 'delivered', 'delivered', 'sent', 'sent', 'sent',
                          'queued', 'sending', 'read'])[1 + slot % 10] END AS status,
         CASE WHEN slot < :transient + :permanent + :unknown THEN 1 + slot % 3 ELSE 1 END AS attempts,
         CASE
           WHEN slot < :transient THEN
             (ARRAY['rate_limited', 'rate_limited', 'rate_limited', 'rate_limited', 'timeout',
                    'timeout', 'network_error', 'provider_unavailable', 'provider_unavailable',
                    'provider_error'])[1 + slot % 10]
           WHEN slot < :transient + :permanent THEN
             (ARRAY['not_on_whatsapp', 'not_on_whatsapp', 'invalid_recipient', 'invalid_recipient',
                    'blocked', 'template_rejected', 'auth_failed', 'not_on_whatsapp'])[1 + slot % 8]
           WHEN slot < :transient + :permanent + :unknown THEN
             (ARRAY[NULL, NULL, 'TIMEOUT', 'webhook_lost', ' timeout'])[1 + slot % 5]
         END AS error_code
  FROM (SELECT i, (i * 7919) % :messages AS slot
        FROM generate_series(1::bigint, :messages) AS i) AS numbered
) AS rows
ORDER BY i;

ANALYZE tenants;
ANALYZE wa_messages;
ANALYZE jobs;

SELECT status, count(*) AS messages,
       count(*) FILTER (WHERE error_code IN ('timeout', 'network_error', 'rate_limited',
                                             'provider_unavailable', 'provider_error')) AS transient
FROM wa_messages GROUP BY status ORDER BY status;
