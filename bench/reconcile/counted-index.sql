-- bench/reconcile/counted-index.sql: an experiment, not part of bench/run.sh. A partial index
-- holding exactly the orders the counting rule counts, so that count(*) per tenant and month is
-- an index-only scan instead of one heap page per order. It would be the application's
-- migration, not ops's; both ops and the plain statement use it.
--   bench/profile.sh reconcile --modes time,stats --extra-sql bench/reconcile/counted-index.sql
CREATE INDEX orders_counted_tenant_id_created_at_index ON orders (tenant_id, created_at)
  WHERE deleted_at IS NULL AND status <> 'cancelled';
VACUUM ANALYZE orders;
