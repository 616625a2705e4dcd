-- Audit events for the restore benchmark: the archive benchmark's data (:events rows, :old
-- of them older than 90 days). bench/run.sh then archives the old rows with `ops audit
-- archive --days 90` into the file both sides restore, so the template holds the rest.
\ir ../archive/setup.sql
