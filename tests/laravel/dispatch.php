<?php

/*
 * php tests/laravel/dispatch.php <wa_message_id> [queue]
 *
 * Dispatches the job the way the application does:
 *   SendWaMessageJob::dispatch($id);                    // no queue argument
 *   SendWaMessageJob::dispatch($id)->onQueue($queue);   // queue argument given
 * (default queue connection `database`), then prints the inserted `jobs` row
 * as one line of JSON (payload is the exact text stored in jobs.payload).
 */

use App\Jobs\SendWaMessageJob;
use Illuminate\Queue\Events\JobQueued;

$app = require __DIR__ . '/bootstrap.php';

if (! isset($argv[1]) || ! ctype_digit($argv[1])) {
    fwrite(STDERR, "usage: php dispatch.php <wa_message_id> [queue]\n");
    exit(2);
}

$jobId = null;
$app['events']->listen(JobQueued::class, function (JobQueued $e) use (&$jobId) {
    $jobId = $e->id;
});

$pending = SendWaMessageJob::dispatch((int) $argv[1]);
if (isset($argv[2])) {
    $pending->onQueue($argv[2]);
}
unset($pending);                            // PendingDispatch dispatches on destruct

$row = $app['db']->connection()->table('jobs')->where('id', $jobId)->first();
if ($row === null) {
    fwrite(STDERR, "dispatched job not found in jobs\n");
    exit(1);
}

echo json_encode($row, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
