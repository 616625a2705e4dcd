<?php

/*
 * php tests/redis/work.php [queue]
 *
 * tests/laravel/work.php on the `redis` connection: the real Laravel 8 Worker, RedisQueue and
 * phpredis (Debian's php-redis), configured as the stock config/database.php and
 * config/queue.php do. Processes jobs until the queue is empty (delayed jobs not yet due stay),
 * then exits.
 *
 * Env: OPS_TEST_PG* (see tests/laravel/bootstrap.php), OPS_TEST_REDIS_PORT (required),
 * OPS_TEST_REDIS_PREFIX (default laravel_database_), OPS_TEST_REDIS_DB (default 0).
 * Stdout: one line "processed=N failed=N released=N".
 */

use Illuminate\Contracts\Debug\ExceptionHandler;
use Illuminate\Queue\Events\JobExceptionOccurred;
use Illuminate\Queue\Events\JobFailed;
use Illuminate\Queue\Events\JobProcessed;
use Illuminate\Queue\Worker;
use Illuminate\Queue\WorkerOptions;
use Illuminate\Redis\RedisManager;

$app = require __DIR__ . '/../laravel/bootstrap.php';

$port = getenv('OPS_TEST_REDIS_PORT');
if ($port === false || $port === '') {
    fwrite(STDERR, "missing environment variable OPS_TEST_REDIS_PORT\n");
    exit(2);
}
$prefix = getenv('OPS_TEST_REDIS_PREFIX');
$app['config']['database.redis'] = [
    'client' => 'phpredis',
    'options' => ['cluster' => 'redis', 'prefix' => $prefix === false ? 'laravel_database_' : $prefix],
    'default' => [
        'url' => null, 'host' => '127.0.0.1', 'password' => null, 'port' => $port,
        'database' => getenv('OPS_TEST_REDIS_DB') ?: '0',
    ],
];
$app['config']['queue.connections.redis'] = [
    'driver' => 'redis', 'connection' => 'default', 'queue' => 'default',
    'retry_after' => 90, 'block_for' => null, 'after_commit' => false,
];
$app->singleton('redis', function ($app) {
    return new RedisManager($app, 'phpredis', $app['config']['database.redis']);
});

$queueName = $argv[1] ?? 'default';
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
    $app['queue.failer']->log(
        $e->connectionName, $e->job->getQueue(), $e->job->getRawBody(), $e->exception
    );
});

$worker = (new Worker(
    $app['queue'], $app['events'], $app[ExceptionHandler::class], function () { return false; }
))->setName('default');
$options = new WorkerOptions('default', 0, 128, 60, 0, 1, false, true, 0, 0, 0);
$status = $worker->daemon('redis', $queueName, $options);

$counts['released'] = max(0, count($jobExceptions) - $counts['failed']);
printf("processed=%d failed=%d released=%d\n", $counts['processed'], $counts['failed'], $counts['released']);
$infraErrors = array_filter(
    $app[ExceptionHandler::class]->reported,
    function ($e) use ($jobExceptions) { return ! isset($jobExceptions[spl_object_id($e)]); }
);
exit($status !== 0 ? $status : ($infraErrors ? 1 : 0));
