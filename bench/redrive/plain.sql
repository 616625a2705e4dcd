-- bench/redrive/plain.sql: the plain-SQL equivalent of `ops wa redrive-failed` (defaults:
-- the transient reasons, queue 'default'): one UPDATE ... RETURNING feeding one INSERT INTO
-- jobs, with the payload Laravel writes for SendWaMessageJob built in SQL from the template
-- in docs/QUEUE_PAYLOAD.md. One transaction, no batching, no audit events, no locking
-- beyond the UPDATE's own. Timestamps as ops writes them (application timezone UTC).
\set ON_ERROR_STOP 1
WITH redriven AS (
  UPDATE wa_messages
  SET status = 'queued', attempts = 0, error_code = NULL, error_message = NULL,
      failed_at = NULL, updated_at = (now() AT TIME ZONE 'UTC')::timestamp(0)
  WHERE status = 'failed'
    AND error_code IN ('timeout', 'network_error', 'rate_limited', 'provider_unavailable',
                       'provider_error')
  RETURNING id)
INSERT INTO jobs (queue, payload, attempts, reserved_at, available_at, created_at)
SELECT 'default',
       '{"uuid":"' || gen_random_uuid() || '","displayName":"App\\Jobs\\SendWaMessageJob","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"retryUntil":null,"data":{"commandName":"App\\Jobs\\SendWaMessageJob","command":"O:25:\"App\\Jobs\\SendWaMessageJob\":11:{s:11:\"waMessageId\";i:'
         || id
         || ';s:3:\"job\";N;s:10:\"connection\";N;s:5:\"queue\";N;s:15:\"chainConnection\";N;s:10:\"chainQueue\";N;s:19:\"chainCatchCallbacks\";N;s:5:\"delay\";N;s:11:\"afterCommit\";N;s:10:\"middleware\";a:0:{}s:7:\"chained\";a:0:{}}"}}',
       0, NULL, clock.epoch, clock.epoch
FROM redriven, (SELECT floor(extract(epoch FROM now()))::integer AS epoch) AS clock
ORDER BY id;
