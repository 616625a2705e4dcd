-- The rows the redrive case moves: transiently failed messages.
SELECT count(*) FROM wa_messages WHERE status = 'failed'
  AND error_code IN ('timeout', 'network_error', 'rate_limited', 'provider_unavailable', 'provider_error');
