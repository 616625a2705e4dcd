<?php

/*
 * php tests/laravel/schedule_events.php FILE routes|kernel
 *
 * Evaluates what `ops schedule laravel` printed with Laravel's own scheduler (Debian's
 * Illuminate\Console\Scheduling\Schedule, Laravel 8): `routes` requires FILE as
 * routes/console.php, whose Schedule facade (Laravel 11+) is a stand-in that forwards its
 * static calls to that Schedule; `kernel` runs FILE as the body of Kernel::schedule($schedule).
 * Stdout, one line of JSON: the events, each {expression, command, without_overlapping,
 * run_in_background, output, description}.
 */

namespace Illuminate\Support\Facades {
    // The Laravel 11+ facade, reduced to what it does: forward to the application's Schedule.
    class Schedule
    {
        public static $schedule;

        public static function __callStatic($method, $arguments)
        {
            return static::$schedule->$method(...$arguments);
        }
    }
}

namespace {
    require_once 'Illuminate/autoload.php';

    use Illuminate\Console\Scheduling\EventMutex;
    use Illuminate\Console\Scheduling\Schedule;
    use Illuminate\Console\Scheduling\SchedulingMutex;
    use Illuminate\Container\Container;

    // Mutexes that keep nothing (no cache store here); the events are only inspected.
    final class NoMutex implements EventMutex, SchedulingMutex
    {
        public function create($event, $time = null) { return true; }
        public function exists($event, $time = null) { return false; }
        public function forget($event) {}
    }

    [$file, $layout] = [$argv[1] ?? '', $argv[2] ?? ''];
    if ($file === '' || ! in_array($layout, ['routes', 'kernel'], true)) {
        fwrite(STDERR, "usage: php schedule_events.php FILE routes|kernel\n");
        exit(2);
    }
    $container = new Container();
    Container::setInstance($container);
    $container->instance(EventMutex::class, new NoMutex());
    $container->instance(SchedulingMutex::class, new NoMutex());
    $schedule = new Schedule('UTC');

    if ($layout === 'routes') {
        \Illuminate\Support\Facades\Schedule::$schedule = $schedule;
        require $file;
    } else {
        $body = file_get_contents($file);
        (function (Schedule $schedule) use ($body) {
            eval($body);
        })($schedule);
    }

    $events = [];
    foreach ($schedule->events() as $event) {
        $events[] = [
            'expression' => $event->expression,
            'command' => $event->command,
            'without_overlapping' => $event->withoutOverlapping,
            'run_in_background' => $event->runInBackground,
            'output' => $event->output,
            'description' => $event->description,
        ];
    }
    echo json_encode($events, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}
