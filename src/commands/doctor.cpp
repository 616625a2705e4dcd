#include "ops/commands/doctor.hpp"

#include <unistd.h>

#include <filesystem>
#include <map>

#include "ops/commands/doctor_pooler.hpp"
#include "ops/commands/doctor_queue.hpp"
#include "ops/commands/doctor_replication.hpp"
#include "ops/db/schema_repository.hpp"

namespace ops {
namespace {

// What the commands need of each table: columns with an accepted type prefix, privileges.
struct TableNeeds {
    std::string table;
    std::vector<std::pair<std::string, std::vector<std::string>>> columns;
    std::vector<std::string> privileges;
};

const std::vector<std::string> kInteger = {"bigint", "integer", "smallint"};
const std::vector<std::string> kText = {"character varying", "text", "character"};
const std::vector<std::string> kTimestamp = {"timestamp"};
const std::vector<std::string> kJson = {"json"};

const std::vector<TableNeeds>& table_needs() {
    static const std::vector<TableNeeds> needs = {
        {"audit_events",
         {{"id", kInteger},
          {"tenant_id", kInteger},
          {"channel", kText},
          {"event", kText},
          {"actor_type", kText},
          {"subject_type", kText},
          {"subject_id", kInteger},
          {"metadata", kJson},
          {"created_at", kTimestamp},
          {"updated_at", kTimestamp}},
         {"SELECT", "INSERT", "DELETE"}},
        {"wa_messages",
         {{"id", kInteger},
          {"tenant_id", kInteger},
          {"status", kText},
          {"attempts", kInteger},
          {"error_code", kText},
          {"error_message", kText},
          {"failed_at", kTimestamp},
          {"updated_at", kTimestamp}},
         {"SELECT", "UPDATE"}},
        {"jobs",
         {{"id", kInteger},
          {"queue", kText},
          {"payload", kText},
          {"attempts", kInteger},
          {"reserved_at", kInteger},
          {"available_at", kInteger},
          {"created_at", kInteger}},
         {"SELECT", "INSERT"}},
        {"orders",
         {{"id", kInteger},
          {"tenant_id", kInteger},
          {"status", kText},
          {"created_at", kTimestamp},
          {"deleted_at", kTimestamp}},
         {"SELECT"}},
        {"quota_usages",
         {{"tenant_id", kInteger},
          {"period", kText},
          {"used", kInteger},
          {"quota_limit", kInteger},
          {"reconciled_at", kTimestamp},
          {"created_at", kTimestamp},
          {"updated_at", kTimestamp}},
         {"SELECT", "INSERT", "UPDATE"}},
    };
    return needs;
}

bool type_accepted(const std::string& type, const std::vector<std::string>& prefixes) {
    for (const auto& prefix : prefixes) {
        if (type.rfind(prefix, 0) == 0) return true;
    }
    return false;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
}

}  // namespace

CommandSpec DoctorCommand::spec() {
    CommandSpec spec;
    spec.name = "doctor";
    spec.description =
        "Check that the database, its schema, privileges and the archive folder fit ops";
    spec.examples =
        "  ops doctor --env-file /var/www/app/.env\n"
        "  DATABASE_URL=postgresql://ops@db/app ops doctor --output json";
    spec.traits = {.needs_database = true, .takes_lock = false, .records_run = false};
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<DoctorCommand>();
        app.add_option("--dir", command->archive_dir_,
                       "archive folder to check (default storage/app/audit-archives)");
        return command;
    };
    return spec;
}

void DoctorCommand::validate() {
    if (archive_dir_.empty()) throw UsageError("--dir: expected a folder path, got ''");
}

void DoctorCommand::execute(CommandEnv& env) {
    server_version_ = env.session->server_version();
    pooler_ = report_pooler(env);
    ReadTransaction tx(*env.session);
    SchemaRepository schema(tx);
    role_ = schema.current_role();
    std::vector<std::string> tables;
    for (const auto& needs : table_needs()) tables.push_back(needs.table);
    std::map<std::pair<std::string, std::string>, std::string> types;
    for (const auto& column : schema.columns_of(tables))
        types[{column.table, column.column}] = column.type;

    for (const auto& needs : table_needs()) {
        std::vector<std::string> problems;
        for (const auto& [column, accepted] : needs.columns) {
            const auto it = types.find({needs.table, column});
            if (it == types.end()) {
                problems.push_back("column " + column + " is missing");
            } else if (!type_accepted(it->second, accepted)) {
                problems.push_back("column " + column + " is " + it->second + ", expected " +
                                   joined(accepted));
            }
        }
        const auto missing = schema.missing_privileges(needs.table, needs.privileges);
        if (!missing.empty()) problems.push_back("role " + role_ + " lacks " + joined(missing));
        add_check("table " + needs.table, joined(problems));
    }
    check_archive_folder();
    queue_ = doctor_queue_report(
        tx, env.config, [this](const std::string& n, const std::string& p) { add_check(n, p); });
    for (const auto& check : replication_checks(tx, env.run.timezone)) add_row(check);
}

void DoctorCommand::check_archive_folder() {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path dir = archive_dir_;
    std::string problem;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
        problem = "exists and is not a folder";
    } else {
        // A missing folder is fine when the nearest existing ancestor lets archive create it.
        fs::path probe = fs::absolute(dir, ec);
        while (!fs::exists(probe, ec) && probe.has_parent_path() && probe != probe.parent_path()) {
            probe = probe.parent_path();
        }
        if (::access(probe.c_str(), W_OK | X_OK) != 0)
            problem = probe.string() + " is not writable";
    }
    add_check("archive folder " + archive_dir_, problem);
}

void DoctorCommand::add_check(const std::string& name, const std::string& problem) {
    checks_.push_back({{"check", name},
                       {"status", problem.empty() ? "ok" : "problem"},
                       {"detail", problem.empty() ? "-" : problem}});
    if (!problem.empty()) ++problems_;
}

void DoctorCommand::add_row(const Summary& check) {
    checks_.push_back(check);
    if (check["status"] == "problem") ++problems_;
}

Summary DoctorCommand::summary() const {
    Summary s;
    s["server_version"] = server_version_;
    s["role"] = role_;
    s["pooler"] = pooler_;
    s["checks"] = checks_;
    s["queue"] = queue_;
    s["problems"] = problems_;
    return s;
}

ExitCode DoctorCommand::outcome() const {
    return problems_ == 0 ? ExitCode::kSuccess : ExitCode::kFailure;
}

}  // namespace ops
