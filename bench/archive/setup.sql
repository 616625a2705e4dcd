-- Audit events for the archive benchmark: :events rows (default 1,500,000), of which
-- :old (default 1,000,000) are older than 90 days. Realistic shapes: several channels, user
-- agents, JSON metadata (some pretty-printed). Deterministic.
\if :{?events} \else \set events 1500000 \endif
\if :{?old}    \else \set old 1000000 \endif
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
VACUUM ANALYZE audit_events;
