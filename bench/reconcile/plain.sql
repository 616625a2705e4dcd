-- The plain-SQL equivalent of `ops quota reconcile 2026-01` (see ops-args.txt): one
-- INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE over the whole month, in one
-- transaction, with the same counting rule and the same writes (rows of tenants without
-- orders set to 0, reconciled_at on every row, updated_at where used changed). It is what
-- ops is measured against; unlike ops it is not exact under concurrent order traffic (its
-- snapshot predates the row locks it takes) and it locks every row of the month at once.
--
--   psql -X -v ON_ERROR_STOP=1 -d bench [-v period=2026-01] -f bench/reconcile/plain.sql
\if :{?period}
\else
\set period 2026-01
\endif
\timing on
INSERT INTO quota_usages AS q (tenant_id, period, used, reconciled_at, created_at, updated_at)
SELECT c.tenant_id, :'period', sum(c.n)::integer, now.t, now.t, now.t
FROM (SELECT (now() AT TIME ZONE 'UTC')::timestamp(0) AS t) AS now,
     (SELECT o.tenant_id, 1 AS n
      FROM orders o
      WHERE o.created_at >= (:'period' || '-01')::timestamp
        AND o.created_at < (:'period' || '-01')::timestamp + interval '1 month'
        AND o.deleted_at IS NULL AND o.status <> 'cancelled'
      UNION ALL
      SELECT u.tenant_id, 0 FROM quota_usages u WHERE u.period = :'period') AS c
GROUP BY c.tenant_id, now.t
ON CONFLICT (tenant_id, period) DO UPDATE
SET used = EXCLUDED.used,
    reconciled_at = EXCLUDED.reconciled_at,
    updated_at = CASE WHEN q.used <> EXCLUDED.used THEN EXCLUDED.updated_at ELSE q.updated_at END;
