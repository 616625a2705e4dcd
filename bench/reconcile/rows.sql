SELECT count(*) FROM orders WHERE created_at >= '2026-01-01' AND created_at < '2026-02-01';
