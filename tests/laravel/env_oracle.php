<?php

/*
 * php tests/laravel/env_oracle.php FILE [NAME...]
 *
 * What a Laravel application reads from the env file FILE, using Debian's phpdotenv and
 * Laravel 8's Illuminate\Support\Env exactly as Illuminate\Foundation\Bootstrap\
 * LoadEnvironmentVariables does: Dotenv::create(Env::getRepository(), dir, file)->safeLoad(),
 * then Env::get(NAME) for every name the file mentions and every NAME given.
 *
 * Stdout, one line of JSON: {"ok":true,"values":{"NAME":"text"|null|true|false,...}}, or
 * {"ok":false,"error":"..."} when Laravel would stop with "The environment file is invalid!".
 * The process environment is the caller's (it wins over the file, as in Laravel).
 */

require_once 'Illuminate/autoload.php';           // /usr/share/php: Dotenv, PhpOption, ...

use Dotenv\Dotenv;
use Dotenv\Exception\InvalidFileException;
use Dotenv\Parser\Parser;
use Dotenv\Util\Str;
use Illuminate\Support\Env;

if (! isset($argv[1])) {
    fwrite(STDERR, "usage: php env_oracle.php FILE [NAME...]\n");
    exit(2);
}
$file = $argv[1];
$names = array_slice($argv, 2);

try {
    Dotenv::create(Env::getRepository(), dirname($file), basename($file))->safeLoad();
    // The names the file mentions (set or cleared), read the way the loader read them.
    $content = Str::utf8((string) file_get_contents($file))->success()->get();
    foreach ((new Parser())->parse($content) as $entry) {
        $names[] = $entry->getName();
    }
} catch (InvalidFileException $e) {
    echo json_encode(['ok' => false, 'error' => $e->getMessage()], JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    exit(0);
}

$values = new stdClass();
foreach (array_unique($names) as $name) {
    $values->{$name} = Env::get($name);
}
echo json_encode(['ok' => true, 'values' => $values], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
