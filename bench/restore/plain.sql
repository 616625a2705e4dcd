-- The plain-SQL equivalent of `ops audit restore FILE`: COPY the lines into a staging table
-- (CSV with a quote and delimiter that never occur, so each line arrives as it is), then one
-- INSERT ... SELECT from json_populate_record, skipping ids that exist, and the sequence
-- moved past the ids. It checks nothing (no manifest, no damage, no types, no references)
-- and gives json values with \u0000 or whole-value JSON null back wrong; it is here for timing.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE staging (line text);
-- (\copy does not expand variables itself, so the command is built first.)
\set copy_lines '\\copy staging FROM ' :'input' ' WITH (FORMAT csv, QUOTE E''\\x01'', DELIMITER E''\\x02'')'
:copy_lines
INSERT INTO audit_events
SELECT (json_populate_record(NULL::audit_events, line::json)).* FROM staging
ON CONFLICT (id) DO NOTHING;
SELECT setval('audit_events_id_seq', greatest((SELECT max(id) FROM audit_events),
                                              (SELECT last_value FROM audit_events_id_seq)));
COMMIT;
