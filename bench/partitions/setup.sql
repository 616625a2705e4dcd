-- audit_events range-partitioned by month by pg_partman 4.7 (with its DEFAULT partition and a
-- unique key (id, created_at)), holding :events rows of which :old are older than 90 days,
-- the same shapes as bench/archive/setup.sql. Plus what the application workload touches:
-- 200 tenants and :messages WhatsApp messages. Deterministic.
\if :{?events} \else \set events 1500000 \endif
\if :{?old}    \else \set old 1000000 \endif
\if :{?messages} \else \set messages 20000 \endif
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
DROP TABLE audit_events;
CREATE TABLE audit_events (
    id bigserial, tenant_id bigint REFERENCES tenants (id) ON DELETE SET NULL,
    channel varchar(32) NOT NULL, event varchar(128) NOT NULL, actor_type varchar(64),
    actor_id bigint, subject_type varchar(128), subject_id bigint, ip_address varchar(45),
    user_agent text, metadata json, created_at timestamp(0) without time zone,
    updated_at timestamp(0) without time zone, UNIQUE (id, created_at)
) PARTITION BY RANGE (created_at);
CREATE INDEX audit_events_created_at_index ON audit_events (created_at);
CREATE INDEX audit_events_channel_created_at_index ON audit_events (channel, created_at);
SELECT partman.create_parent('public.audit_events', 'created_at', 'native', 'monthly',
                             p_start_partition := '2024-06-01', p_premake := 2) \gset
INSERT INTO tenants (name) SELECT 'tenant ' || t FROM generate_series(1, 200) AS t;
INSERT INTO audit_events (tenant_id, channel, event, actor_type, actor_id, subject_type, subject_id,
                          ip_address, user_agent, metadata, created_at, updated_at)
SELECT 1 + i % 200,
       (ARRAY['web', 'api', 'wa', 'billing', 'security', 'system'])[1 + i % 6],
       (ARRAY['order.created', 'order.paid', 'auth.login', 'auth.login_failed', 'wa.sent',
              'invoice.issued'])[1 + i % 6],
       'user', 10000 + i % 5000, 'order', i,
       '10.' || (i % 250) || '.' || (i % 199) || '.' || (i % 241),
       'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36',
       CASE WHEN i % 20 = 0 THEN E'{\n  "import": true,\n  "batch": ' || i || E',\n  "note": "line\\nbreak"\n}'
            ELSE '{"order_id": ' || i || ', "total": ' || (i % 1000) || '.50, "currency": "IDR", "items": ['
                 || (i % 7) || ', ' || (i % 11) || ']}' END::json,
       ts, ts
FROM generate_series(1, :events) AS i,
     LATERAL (SELECT CASE WHEN i <= :old
                          THEN timestamp '2024-06-01' + i * (interval '700 days' / :old)
                          ELSE (now() AT TIME ZONE 'UTC')::timestamp(0) - (:events - i) * interval '2 seconds'
                     END::timestamp(0) AS ts) AS t;
INSERT INTO wa_messages (tenant_id, recipient, template, status, created_at, updated_at)
SELECT 1 + i % 200, '+62812' || lpad(i::text, 7, '0'), 'order_update', 'queued', now(), now()
FROM generate_series(1, :messages) AS i;
VACUUM ANALYZE;
