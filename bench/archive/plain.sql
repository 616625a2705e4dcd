-- The plain-SQL equivalent of `ops audit archive --days 90`: one COPY of row_to_json to a
-- file, then one DELETE of the same rows. (COPY's text format escapes backslashes, so this
-- file is not valid JSONL when a value holds one; it is here for timing.)
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE cutoff AS SELECT (now() AT TIME ZONE 'UTC')::timestamp(0) - interval '90 days' AS t;
COPY (SELECT row_to_json(a) FROM audit_events a, cutoff WHERE a.created_at < cutoff.t ORDER BY a.id) TO STDOUT \g :out
DELETE FROM audit_events a USING cutoff WHERE a.created_at < cutoff.t;
COMMIT;
