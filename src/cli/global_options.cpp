#include "ops/cli/global_options.hpp"

#include "ops/core/errors.hpp"
#include "ops/core/laravel_version.hpp"
#include "ops/core/text.hpp"
#include "ops/core/values.hpp"
#include "ops/output/logging.hpp"

namespace ops {

void add_global_options(CLI::App& app, GlobalArguments& arguments) {
    const std::string group = "Global options";
    app.add_option("--database-url", arguments.database_url,
                   "PostgreSQL URI or key=value conninfo (default: $DATABASE_URL, then --env-file)")
        ->group(group);
    app.add_option("--env-file", arguments.env_file,
                   "Laravel .env (read as Laravel does) for DB_*, DB_URL, APP_TIMEZONE, queue "
                   "settings (default: $OPS_ENV_FILE)")
        ->envname("OPS_ENV_FILE")
        ->group(group);
    app.add_option("--timezone", arguments.timezone,
                   "the application's timezone (default: APP_TIMEZONE, else UTC)")
        ->group(group);
    app.add_option("--laravel-version", arguments.laravel_version,
                   "the Laravel release the application runs, X.Y (8.0 to 13.x; default: "
                   "OPS_LARAVEL_VERSION of the env file, else detected or the Laravel 8 form)")
        ->group(group);
    app.add_option("--output", arguments.output, "summary format: text or json (default text)")
        ->group(group);
    app.add_option("--log-level", arguments.log_level,
                   "trace, debug, info, warn, error or off (default info)")
        ->group(group);
    app.add_option("--log-format", arguments.log_format, "stderr log format: text or json")
        ->group(group);
    app.add_option("--statement-timeout", arguments.statement_timeout,
                   "longest one SQL statement may run, e.g. 30s, 5m; 0 = none (default 5m)")
        ->group(group);
    app.add_option("--metrics-dir", arguments.metrics_dir,
                   "after each run, write ops_<group>_<command>.prom here (node_exporter textfile)")
        ->group(group);
    app.add_option("--lock-timeout", arguments.lock_timeout,
                   "longest wait for a row or table lock, e.g. 5s; 0 = none (default 5s)")
        ->group(group);
}

void validate_metrics_dir(const std::string& dir) {
    refuse_control_characters(dir, "--metrics-dir");
}

GlobalOptions validate_global_options(const GlobalArguments& arguments) {
    validate_metrics_dir(arguments.metrics_dir);
    GlobalOptions options;
    options.database_url = arguments.database_url;
    options.env_file = arguments.env_file;
    options.metrics_dir = arguments.metrics_dir;
    options.timezone = arguments.timezone;
    if (!arguments.laravel_version.empty()) {
        parse_laravel_version(arguments.laravel_version, "--laravel-version");
    }
    options.laravel_version = arguments.laravel_version;
    if (arguments.output != "text" && arguments.output != "json") {
        throw UsageError("--output: expected text or json, got '" + arguments.output + "'");
    }
    options.output = arguments.output == "json" ? OutputFormat::kJson : OutputFormat::kText;
    validate_log_level(arguments.log_level);
    options.log_level = arguments.log_level;
    if (arguments.log_format != "text" && arguments.log_format != "json") {
        throw UsageError("--log-format: expected text or json, got '" + arguments.log_format + "'");
    }
    options.log_format = arguments.log_format == "json" ? LogFormat::kJson : LogFormat::kText;
    options.statement_timeout =
        parse_duration(arguments.statement_timeout, "--statement-timeout", kMaxTimeout);
    options.lock_timeout = parse_duration(arguments.lock_timeout, "--lock-timeout", kMaxTimeout);
    return options;
}

}  // namespace ops
