#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "ops/core/config.hpp"

namespace ops {

// The global options as typed on the command line, before validation.
struct GlobalArguments {
    std::string database_url;
    std::string env_file;
    std::string timezone;
    std::string output = "text";
    std::string log_level = "info";
    std::string log_format = "text";
    std::string statement_timeout = "5m";
    std::string lock_timeout = "5s";
    std::string metrics_dir;
    std::string laravel_version;
};

void add_global_options(CLI::App& app, GlobalArguments& arguments);

// --metrics-dir: a folder name without control characters (it also lands in generated crontab
// lines and units); empty means no metrics. Throws UsageError.
void validate_metrics_dir(const std::string& dir);

// Checks and converts every global option; throws UsageError naming the first bad one.
GlobalOptions validate_global_options(const GlobalArguments& arguments);

}  // namespace ops
