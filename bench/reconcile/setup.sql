-- Benchmark data for `ops quota reconcile`: orders over tenants and several months, the
-- application's quota rows for every month, and drift in the benchmarked month.
-- Run with psql on a database that holds the application schema (schema/app-schema.sql);
-- it replaces tenants, orders, wa_messages and quota_usages. Deterministic (setseed).
--
--   psql -X -v ON_ERROR_STOP=1 -d bench -f bench/reconcile/setup.sql
--   psql ... -v orders=200000 -v tenants=500 -f bench/reconcile/setup.sql   (smaller)
--
-- Variables (defaults): orders 2000000, tenants 2000, months 6, first_month 2025-08
-- (so the months are 2025-08 .. 2026-01), period 2026-01 (the benchmarked month, whose
-- rows drift), seed 0.42.
\if :{?orders}
\else
\set orders 2000000
\endif
\if :{?tenants}
\else
\set tenants 2000
\endif
\if :{?months}
\else
\set months 6
\endif
\if :{?first_month}
\else
\set first_month 2025-08
\endif
\if :{?period}
\else
\set period 2026-01
\endif
\if :{?seed}
\else
\set seed 0.42
\endif

\echo setup: :orders orders, :tenants tenants, :months months from :first_month, drift in :period
SET client_min_messages = warning;
TRUNCATE quota_usages, wa_messages, orders, tenants RESTART IDENTITY CASCADE;
SELECT setseed(:seed);

INSERT INTO tenants (name, created_at, updated_at)
SELECT 'Tenant ' || i, timestamp '2024-01-01 00:00:00', timestamp '2024-01-01 00:00:00'
FROM generate_series(1, :tenants) AS i;

-- Orders in creation order (ids grow with created_at, as in production). Tenant sizes follow
-- a long tail: the square of a uniform number puts about half the orders on the first
-- quarter of the tenants. Statuses: 8% cancelled, 4% refunded, 13% pending, 30% paid, the
-- rest completed; 3% soft-deleted; 0.5% without created_at (imported legacy rows).
CREATE TEMP TABLE bench_span AS
SELECT (:'first_month' || '-01')::timestamp AS first_moment,
       (:'first_month' || '-01')::timestamp + make_interval(months => :months) AS end_moment;

INSERT INTO orders (tenant_id, number, status, total, created_at, updated_at, deleted_at)
SELECT g.tenant_id, 'ORD-' || lpad(g.i::text, 8, '0'),
       CASE WHEN g.r < 0.08 THEN 'cancelled' WHEN g.r < 0.12 THEN 'refunded'
            WHEN g.r < 0.25 THEN 'pending' WHEN g.r < 0.55 THEN 'paid' ELSE 'completed' END,
       g.total,
       CASE WHEN g.no_date THEN NULL ELSE g.created_at END,
       g.created_at,
       CASE WHEN g.deleted THEN g.created_at + interval '1 day' END
FROM (
    SELECT i,
           1 + least(:tenants - 1, floor(:tenants * power(random(), 2))::int) AS tenant_id,
           random() AS r,
           round((random() * 500)::numeric, 2) AS total,
           date_trunc('second', s.first_moment
                      + ((i - 1 + random()) / :orders) * (s.end_moment - s.first_moment)) AS created_at,
           random() < 0.03 AS deleted,
           random() < 0.005 AS no_date
    FROM bench_span s, generate_series(1, :orders) AS i
) AS g
ORDER BY g.i;

-- The application's rows: exact for every tenant and month with counted orders.
INSERT INTO quota_usages (tenant_id, period, used, quota_limit, created_at, updated_at)
SELECT o.tenant_id, to_char(o.created_at, 'YYYY-MM'), count(*),
       CASE WHEN o.tenant_id % 3 = 0 THEN 100 + (o.tenant_id * 37) % 2000 END,
       min(o.created_at), max(o.created_at)
FROM orders o
WHERE o.created_at IS NOT NULL AND o.deleted_at IS NULL AND o.status <> 'cancelled'
GROUP BY o.tenant_id, to_char(o.created_at, 'YYYY-MM');

-- Drift in the benchmarked month: 10% of the rows off by up to +-5, 5% missing, and rows
-- (used 1-3) for 20 tenants that have no counted order that month.
UPDATE quota_usages
SET used = greatest(0, used + (CASE WHEN random() < 0.5 THEN -1 ELSE 1 END) * (1 + floor(random() * 5))::int)
WHERE period = :'period' AND random() < 0.10;
DELETE FROM quota_usages WHERE period = :'period' AND random() < 0.05;
UPDATE orders SET status = 'cancelled'
WHERE tenant_id IN (SELECT id FROM tenants ORDER BY id DESC LIMIT 20)
  AND to_char(created_at, 'YYYY-MM') = :'period';
INSERT INTO quota_usages (tenant_id, period, used, created_at, updated_at)
SELECT id, :'period', 1 + (id % 3), timestamp '2026-01-01 00:00:00', timestamp '2026-01-01 00:00:00'
FROM tenants ORDER BY id DESC LIMIT 20
ON CONFLICT (tenant_id, period) DO UPDATE SET used = EXCLUDED.used;

VACUUM ANALYZE tenants;
VACUUM ANALYZE orders;
VACUUM ANALYZE quota_usages;

SELECT count(*) AS orders,
       count(*) FILTER (WHERE to_char(created_at, 'YYYY-MM') = :'period') AS orders_in_period,
       count(*) FILTER (WHERE to_char(created_at, 'YYYY-MM') = :'period' AND deleted_at IS NULL
                        AND status <> 'cancelled') AS counted_in_period,
       (SELECT count(*) FROM quota_usages WHERE period = :'period') AS rows_in_period
FROM orders;
