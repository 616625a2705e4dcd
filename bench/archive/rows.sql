SELECT count(*) FROM audit_events WHERE created_at < (now() AT TIME ZONE 'UTC')::timestamp(0) - interval '90 days';
