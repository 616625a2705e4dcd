<?php

/*
 * Minimal Laravel 8 runtime for queue tests: container, events, DB capsule
 * (pgsql), queue manager with the `database` connector on table `jobs`,
 * bus dispatcher, failed-job provider (database-uuids on `failed_jobs`) and
 * an exception handler. Uses Debian's php-laravel-framework (8.83) as is.
 *
 * Environment: OPS_TEST_PGHOST (host name or socket directory), OPS_TEST_PGPORT,
 * OPS_TEST_PGDATABASE, OPS_TEST_PGUSER. No password (trust auth).
 *
 * Returns the container.
 */

require_once 'Illuminate/autoload.php';           // /usr/share/php (php include_path)
require_once __DIR__ . '/SendWaMessageJob.php';

use Illuminate\Bus\Dispatcher as BusDispatcher;
use Illuminate\Config\Repository as Config;
use Illuminate\Container\Container;
use Illuminate\Contracts\Bus\Dispatcher as BusDispatcherContract;
use Illuminate\Contracts\Bus\QueueingDispatcher;
use Illuminate\Contracts\Debug\ExceptionHandler;
use Illuminate\Contracts\Events\Dispatcher as EventsContract;
use Illuminate\Database\Capsule\Manager as DB;
use Illuminate\Events\Dispatcher as Events;
use Illuminate\Queue\Failed\DatabaseUuidFailedJobProvider;
use Illuminate\Queue\QueueManager;
use Illuminate\Queue\QueueServiceProvider;
use Illuminate\Support\Facades\Facade;

error_reporting(-1);
date_default_timezone_set('UTC');                  // config('app.timezone')

// Like Laravel's HandleExceptions: PHP warnings/notices become ErrorException
// (so e.g. a broken serialize() string fails the job instead of limping on);
// deprecations are ignored (Laravel only logs them).
set_error_handler(function ($level, $message, $file = '', $line = 0) {
    if ($level & (E_DEPRECATED | E_USER_DEPRECATED)) {
        return true;
    }
    if (error_reporting() & $level) {
        throw new ErrorException($message, 0, $level, $file, $line);
    }
    return false;
});

/** Reports to stderr, counts what it saw. */
final class StderrExceptionHandler implements ExceptionHandler
{
    /** @var Throwable[] */
    public array $reported = [];

    public function report(Throwable $e)
    {
        $this->reported[] = $e;
        fwrite(STDERR, '[report] ' . get_class($e) . ': ' . $e->getMessage() . "\n");
    }

    public function shouldReport(Throwable $e)
    {
        return true;
    }

    public function render($request, Throwable $e)
    {
        throw $e;
    }

    public function renderForConsole($output, Throwable $e)
    {
        fwrite(STDERR, (string) $e . "\n");
    }
}

$env = function (string $name, ?string $default = null): string {
    $value = getenv($name);
    if ($value === false || $value === '') {
        if ($default === null) {
            fwrite(STDERR, "missing environment variable $name\n");
            exit(2);
        }
        return $default;
    }
    return $value;
};

$app = new Container();
Container::setInstance($app);
Facade::setFacadeApplication($app);
$app->instance('app', $app);
$app->alias('app', Container::class);
$app->alias('app', Illuminate\Contracts\Container\Container::class);

$app->instance('config', new Config([
    'database' => [
        'default' => 'pgsql',
        'connections' => [],
    ],
    'queue' => [
        'default' => 'database',
        'connections' => [
            // As in Laravel 8's stock config/queue.php.
            'database' => [
                'driver' => 'database',
                'table' => 'jobs',
                'queue' => 'default',
                'retry_after' => 90,
                'after_commit' => false,
            ],
        ],
        'failed' => [
            'driver' => 'database-uuids',
            'database' => 'pgsql',
            'table' => 'failed_jobs',
        ],
    ],
]));

$events = new Events($app);
$app->instance('events', $events);
$app->alias('events', EventsContract::class);

$capsule = new DB($app);
$app['config']['database.default'] = 'pgsql';     // the capsule resets it to 'default'
$capsule->addConnection([
    'driver' => 'pgsql',
    'host' => $env('OPS_TEST_PGHOST', '127.0.0.1'),
    'port' => $env('OPS_TEST_PGPORT', '5432'),
    'database' => $env('OPS_TEST_PGDATABASE'),
    'username' => $env('OPS_TEST_PGUSER', 'postgres'),
    'password' => '',
    'charset' => 'utf8',
    'prefix' => '',
    'prefix_indexes' => true,
    'schema' => 'public',
    'sslmode' => 'prefer',
], 'pgsql');
$capsule->setEventDispatcher($events);
$capsule->setAsGlobal();
$app->instance('db', $capsule->getDatabaseManager());

$queue = new QueueManager($app);
(new QueueServiceProvider($app))->registerConnectors($queue);   // registers the 'database' connector
$app->instance('queue', $queue);

$app->singleton(BusDispatcher::class, function ($app) {
    return new BusDispatcher($app, function ($connection = null) use ($app) {
        return $app['queue']->connection($connection);
    });
});
$app->alias(BusDispatcher::class, BusDispatcherContract::class);
$app->alias(BusDispatcher::class, QueueingDispatcher::class);

$app->instance('queue.failer', new DatabaseUuidFailedJobProvider(
    $app['db'], $app['config']['queue.failed.database'], $app['config']['queue.failed.table']
));

$app->instance(ExceptionHandler::class, new StderrExceptionHandler());

return $app;
