<?php

/*
 * php tests/redis/dispatch.php <wa_message_id> [queue]
 *
 * SendWaMessageJob::dispatch($id) (->onQueue($queue) if given) on the `redis` connection, as
 * the application does; prints the payload Laravel 8 pushed (LRANGE of the queue's list, the
 * last entry). Env as tests/redis/work.php (no database is used).
 */

use App\Jobs\SendWaMessageJob;

$app = require __DIR__ . '/../laravel/bootstrap.php';
$prefix = getenv('OPS_TEST_REDIS_PREFIX');
$app['config']['database.redis'] = [
    'client' => 'phpredis',
    'options' => ['cluster' => 'redis', 'prefix' => $prefix === false ? 'laravel_database_' : $prefix],
    'default' => ['url' => null, 'host' => '127.0.0.1', 'password' => null,
                  'port' => getenv('OPS_TEST_REDIS_PORT'), 'database' => '0'],
];
$app['config']['queue.default'] = 'redis';
$app['config']['queue.connections.redis'] = [
    'driver' => 'redis', 'connection' => 'default', 'queue' => 'default',
    'retry_after' => 90, 'block_for' => null, 'after_commit' => false,
];
$app->singleton('redis', function ($app) {
    return new Illuminate\Redis\RedisManager($app, 'phpredis', $app['config']['database.redis']);
});

$id = (int) $argv[1];
$queue = $argv[2] ?? null;
$pending = SendWaMessageJob::dispatch($id);
if ($queue !== null) {
    $pending->onQueue($queue);
}
unset($pending);   // PendingDispatch pushes when destroyed

$list = $app['redis']->connection()->lrange('queues:' . ($queue ?? 'default'), -1, -1);
echo $list[0], "\n";
