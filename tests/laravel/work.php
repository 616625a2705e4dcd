<?php

/*
 * php tests/laravel/work.php [queue]
 *
 * The equivalent of `php artisan queue:work database --queue=<queue> --stop-when-empty`
 * (defaults: --tries=1 --backoff=0 --timeout=60 --memory=128), using the real
 * Illuminate\Queue\Worker. Processes jobs until the queue is empty, then exits.
 * Differences from artisan: --sleep is 0 (artisan sleeps 3s once before noticing
 * the queue is empty), no cache store (so no queue:restart signal / maxExceptions
 * counting), no maintenance mode. Failed jobs are logged to failed_jobs exactly
 * like WorkCommand::logFailedJob does.
 *
 * Env: OPS_TEST_PG* (see bootstrap.php); OPS_TEST_WORKER_TRIES (default 1).
 * Stdout: one line "processed=N failed=N released=N".
 * Exit: the worker's status (0), or 1 if something other than a job threw
 * (e.g. the database was unreachable while popping).
 */

use Illuminate\Contracts\Debug\ExceptionHandler;
use Illuminate\Queue\Events\JobExceptionOccurred;
use Illuminate\Queue\Events\JobFailed;
use Illuminate\Queue\Events\JobProcessed;
use Illuminate\Queue\Worker;
use Illuminate\Queue\WorkerOptions;

$app = require __DIR__ . '/bootstrap.php';

$queueName = $argv[1] ?? 'default';
$tries = (int) (getenv('OPS_TEST_WORKER_TRIES') ?: 1);

// Fail fast if the database is unreachable (the worker itself would swallow it).
$app['db']->connection()->statement(
    'CREATE TABLE IF NOT EXISTS test_job_runs (wa_message_id bigint, ran_at timestamptz DEFAULT now())'
);

$counts = ['processed' => 0, 'failed' => 0, 'released' => 0];
$jobExceptions = [];

$app['events']->listen(JobProcessed::class, function (JobProcessed $e) use (&$counts) {
    if (! $e->job->hasFailed()) {
        $counts['processed']++;
    }
});
$app['events']->listen(JobExceptionOccurred::class, function (JobExceptionOccurred $e) use (&$jobExceptions) {
    $jobExceptions[spl_object_id($e->exception)] = true;
});
$app['events']->listen(JobFailed::class, function (JobFailed $e) use ($app, &$counts) {
    $counts['failed']++;
    // Verbatim from Illuminate\Queue\Console\WorkCommand::logFailedJob.
    $app['queue.failer']->log(
        $e->connectionName, $e->job->getQueue(), $e->job->getRawBody(), $e->exception
    );
});

$worker = (new Worker(
    $app['queue'],
    $app['events'],
    $app[ExceptionHandler::class],
    function () { return false; }          // isDownForMaintenance
))->setName('default');

$options = new WorkerOptions(
    'default', // name
    0,         // backoff
    128,       // memory (MB)
    60,        // timeout (s)
    0,         // sleep (s) when the queue is empty
    $tries,    // maxTries
    false,     // force
    true,      // stopWhenEmpty
    0,         // maxJobs
    0,         // maxTime
    0          // rest
);

$status = $worker->daemon('database', $queueName, $options);

$counts['released'] = max(0, count($jobExceptions) - $counts['failed']);
printf("processed=%d failed=%d released=%d\n", $counts['processed'], $counts['failed'], $counts['released']);

$infraErrors = array_filter(
    $app[ExceptionHandler::class]->reported,
    function ($e) use ($jobExceptions) { return ! isset($jobExceptions[spl_object_id($e)]); }
);

exit($status !== 0 ? $status : ($infraErrors ? 1 : 0));
