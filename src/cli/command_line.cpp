#include "ops/cli/command_line.hpp"

#include <map>
#include <sstream>

#include "ops/core/errors.hpp"
#include "ops/core/summary_data.hpp"
#include "ops/core/version.hpp"
#include "ops/output/summary.hpp"

namespace ops {
namespace {

constexpr const char* kExitCodes =
    "Exit codes:\n"
    "  0   success\n"
    "  1   failure at run time (lost connection, disk full, ...); the summary says what was done\n"
    "  2   usage error: a bad option or value\n"
    "  3   drift found (checks such as quota reconcile --fail-on-drift)\n"
    "  69  database unreachable or authentication failed\n"
    "  75  try again later: another run of the command holds its lock (the summary's outcome\n"
    "      is lock_held), or replica lag stopped it (outcome replica_lag)\n"
    "  78  configuration error (unreadable or invalid env file, no database settings, a\n"
    "      DB_CONNECTION or QUEUE_CONNECTION ops cannot serve, job settings unlike the app's,\n"
    "      a standby, a role without pg_monitor for --max-lag*, a replication preflight refusal)\n"
    "  130/143  interrupted by SIGINT/SIGTERM after finishing or rolling back the batch in flight\n"
    "\n"
    "Connection: --database-url, else $OPS_DATABASE_URL, else $DATABASE_URL, else --env-file\n"
    "(its OPS_DATABASE_URL, else the DB_* of a Laravel .env), else libpq defaults and PG*\n"
    "variables. Keep passwords out of the command line.";

std::string group_description(const std::string& group) {
    if (group == "audit") return "The audit_events trail: archive, verify, restore";
    if (group == "wa") return "WhatsApp messages: redrive failed sends";
    if (group == "quota") return "Monthly quota usage: reconcile from orders";
    if (group == "schedule")
        return "The baseline schedule: list it, print a crontab, write systemd units, Laravel code";
    return "";
}

CLI::App* group_app(CLI::App& app, std::map<std::string, CLI::App*>& groups,
                    const std::string& group) {
    if (group.empty()) return &app;
    CLI::App*& sub = groups[group];
    if (sub == nullptr) {
        sub = app.add_subcommand(group, group_description(group));
        sub->require_subcommand(1);
    }
    return sub;
}

}  // namespace

std::string version_text() {
    return "ops " + std::string(tool_version()) + " (commit " + std::string(git_commit()) + ", " +
           std::string(build_type()) + " build)";
}

CommandLine::CommandLine(CLI::App& app, GlobalArguments& globals) {
    app.footer(kExitCodes);
    app.set_version_flag("--version", version_text());
    app.require_subcommand(1);
    app.fallthrough();
    add_global_options(app, globals);
    std::map<std::string, CLI::App*> groups;
    for (const CommandSpec& spec : command_table()) {
        CLI::App* leaf =
            group_app(app, groups, spec.group)->add_subcommand(spec.name, spec.description);
        leaf->footer("Examples:\n" + spec.examples);
        commands_.push_back(spec.attach(*leaf));
        leaves_.emplace_back(leaf, &spec);
    }
}

std::pair<const CommandSpec*, std::unique_ptr<Command>> CommandLine::take_selected() {
    for (std::size_t i = 0; i < leaves_.size(); ++i) {
        if (leaves_[i].first->parsed()) return {leaves_[i].second, std::move(commands_[i])};
    }
    return {nullptr, nullptr};
}

int print_help_or_version(const CLI::App& app, const CLI::ParseError& request, bool json,
                          std::ostream& out, std::ostream& err) {
    if (!json) return app.exit(request, out, err);
    std::ostringstream text;
    const int code = app.exit(request, text, err);
    Summary product;
    product["command"] = nullptr;
    product["status"] = "completed";
    product["exit_code"] = code;
    if (request.get_name() == "CallForVersion") {
        product["version"] = std::string(tool_version());
        product["commit"] = std::string(git_commit());
        product["build_type"] = std::string(build_type());
    } else {
        product["help"] = text.str();
    }
    render(product, OutputFormat::kJson, out);
    return code;
}

void check_command_line(const std::vector<std::string>& arguments) {
    CLI::App app("ops", "ops");
    GlobalArguments globals;
    CommandLine line(app, globals);
    std::vector<std::string> reversed(arguments.rbegin(), arguments.rend());  // CLI11's order
    try {
        app.parse(reversed);
    } catch (const CLI::ParseError& e) {
        throw UsageError(e.get_exit_code() == 0 ? "asks for help or the version" : e.what());
    }
    validate_global_options(globals);
    line.take_selected().second->validate();
}

}  // namespace ops
