# Every parser of untrusted text has a target: fuzz_<name>.cpp with corpus/<name>/.
set(OPS_FUZZ_TARGETS env_file archive_line manifest cron schedule_file values conninfo metrics_reader
  database_url queue_payload)
