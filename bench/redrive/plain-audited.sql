-- bench/redrive/plain-audited.sql: plain.sql plus the writes ops adds, for telling apart "ops does
-- more" from "ops is slower at the same work" (bench/profile.sh redrive --plain-sql THIS_FILE).
-- Not used by bench/run.sh. Like ops: the failed rows are locked first (FOR NO KEY UPDATE, here
-- without SKIP LOCKED), and every requeued message gets one `wa.message.redriven` audit event
-- holding the history the UPDATE clears (error_code, error_message, attempts, failed_at).
-- Still one transaction, no batching. (A data-modifying CTE runs whether or not it is read.)
\set ON_ERROR_STOP 1
WITH locked AS (
  SELECT id, error_code, error_message, attempts, failed_at FROM wa_messages
  WHERE status = 'failed'
    AND error_code IN ('timeout', 'network_error', 'rate_limited', 'provider_unavailable',
                       'provider_error')
  ORDER BY id
  FOR NO KEY UPDATE),
clock AS (
  SELECT (now() AT TIME ZONE 'UTC')::timestamp(0) AS wall, floor(extract(epoch FROM now()))::integer AS epoch),
redriven AS (
  UPDATE wa_messages m
  SET status = 'queued', attempts = 0, error_code = NULL, error_message = NULL,
      failed_at = NULL, updated_at = clock.wall
  FROM locked, clock
  WHERE m.id = locked.id AND m.status = 'failed'
  RETURNING m.id),
jobs_inserted AS (
  INSERT INTO jobs (queue, payload, attempts, reserved_at, available_at, created_at)
  SELECT 'default',
         '{"uuid":"' || gen_random_uuid() || '","displayName":"App\\Jobs\\SendWaMessageJob","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"retryUntil":null,"data":{"commandName":"App\\Jobs\\SendWaMessageJob","command":"O:25:\"App\\Jobs\\SendWaMessageJob\":11:{s:11:\"waMessageId\";i:'
           || r.id
           || ';s:3:\"job\";N;s:10:\"connection\";N;s:5:\"queue\";N;s:15:\"chainConnection\";N;s:10:\"chainQueue\";N;s:19:\"chainCatchCallbacks\";N;s:5:\"delay\";N;s:11:\"afterCommit\";N;s:10:\"middleware\";a:0:{}s:7:\"chained\";a:0:{}}"}}',
         0, NULL, clock.epoch, clock.epoch
  FROM redriven r, clock
  ORDER BY r.id
  RETURNING 1)
INSERT INTO audit_events (channel, event, actor_type, subject_type, subject_id, metadata,
                          created_at, updated_at)
SELECT 'ops', 'wa.message.redriven', 'cli', 'wa_message', l.id,
       json_build_object('error_code', l.error_code, 'error_message', l.error_message,
                         'attempts', l.attempts,
                         'failed_at', to_char(l.failed_at, 'YYYY-MM-DD HH24:MI:SS'),
                         'run_id', 'plain'),
       clock.wall, clock.wall
FROM locked l JOIN redriven r USING (id), clock
ORDER BY l.id;
