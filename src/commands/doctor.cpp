#include "ops/commands/doctor.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>

#include "ops/commands/doctor_pooler.hpp"
#include "ops/commands/doctor_queue.hpp"
#include "ops/commands/doctor_redis.hpp"
#include "ops/commands/doctor_replication.hpp"
#include "ops/db/schema_repository.hpp"
#include "ops/queue/queue_settings.hpp"

namespace ops {
namespace {

// The command behind doctor_spec() (ops/commands/doctor.hpp says what it checks).
class DoctorCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    ExitCode outcome() const override;

  private:
    using Commands = std::vector<std::pair<std::string, DatabaseNeeds>>;
    std::string needed_by(const Commands& commands, const std::string& what,
                          const std::function<bool(const DatabaseNeeds&)>& uses);
    void check_tables(SchemaRepository& schema, const DatabaseNeeds& all, const Commands& commands);
    void check_sequences(SchemaRepository& schema, const DatabaseNeeds& all,
                         const Commands& commands);
    void check_roles(SchemaRepository& schema, const DatabaseNeeds& all, const Commands& commands);
    void add_check(const std::string& name, const std::string& problem);
    void add_row(const Summary& check);  // {check, status: ok|warning|problem, detail}
    void check_archive_folder();

    std::string archive_dir_ = "storage/app/audit-archives";
    std::string only_;            // --for
    std::string redis_url_;       // --redis-url, as redrive's
    bool jobs_on_redis_ = false;  // the queue's table and sequence then are no one's needs
    std::map<std::string, std::vector<std::string>> blocked_;  // command -> what stops it
    std::string server_version_;
    std::string role_;
    Summary pooler_;  // report_pooler(): direct, session or transaction pooling
    Summary checks_ = Summary::array();
    Summary queue_ = Summary::object();  // doctor_queue_report()
    int problems_ = 0;
};

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

bool contains(const std::vector<std::string>& items, const std::string& item) {
    return std::find(items.begin(), items.end(), item) != items.end();
}

// The needs of every command doctor speaks for: each command's own declaration, and the run
// record's for those that leave one; with the jobs on Redis, not the database queue's.
std::vector<std::pair<std::string, DatabaseNeeds>> declared_needs(const std::string& only,
                                                                  bool jobs_on_redis = false) {
    std::vector<std::pair<std::string, DatabaseNeeds>> all;
    for (const CommandSpec& spec : command_table()) {
        if (!spec.traits.needs_database || spec.traits.generator) continue;
        if (!only.empty() && spec.full_name() != only) continue;
        DatabaseNeeds needs = spec.needs;
        if (spec.traits.records_run) needs = combined(needs, run_record_needs());
        if (jobs_on_redis) needs = without_database_queue(needs);
        if (!needs.empty()) all.emplace_back(spec.full_name(), needs);
    }
    return all;
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
        app.add_option("--for", command->only_,
                       "check only what this command needs, such as 'wa redrive-failed'");
        app.add_option("--redis-url", command->redis_url_,
                       "the Redis wa redrive-failed pushes onto, as its own --redis-url");
        return command;
    };
    return spec;
}

CommandSpec doctor_spec() { return DoctorCommand::spec(); }

void DoctorCommand::validate() {
    if (archive_dir_.empty()) throw UsageError("--dir: expected a folder path, got ''");
    if (!only_.empty() && declared_needs(only_).empty()) {
        std::vector<std::string> names;
        for (const auto& [name, needs] : declared_needs("")) names.push_back(name);
        throw UsageError("--for: expected a command that uses the database (" + joined(names) +
                         "), got '" + only_ + "'");
    }
}

// Each check names what is missing and which commands it stops. Further reports (each in its
// own source file) are one line each at the end.
void DoctorCommand::execute(CommandEnv& env) {
    server_version_ = env.session->server_version();
    pooler_ = report_pooler(env);
    ReadTransaction tx(*env.session);
    SchemaRepository schema(tx);
    role_ = schema.current_role();
    // As `wa redrive-failed` decides it; a queue setting it refuses is the queue report's.
    const QueueChoice queue = choose_queue(env.config, redis_url_);
    jobs_on_redis_ = queue.settings && on_redis(*queue.settings);
    const auto commands = declared_needs(only_, jobs_on_redis_);
    DatabaseNeeds all;
    for (const auto& [name, needs] : commands) all = combined(all, needs);
    check_tables(schema, all, commands);
    check_sequences(schema, all, commands);
    check_roles(schema, all, commands);
    if (only_.empty() || only_ == "audit archive") check_archive_folder();
    if (only_.empty() || only_ == "wa redrive-failed") {
        queue_ = doctor_queue_report(
            tx, queue, [this](const std::string& n, const std::string& p) { add_check(n, p); });
    }
    for (const auto& check : replication_checks(tx, env.run.timezone)) add_row(check);
    for (const auto& check : redis_checks(queue, env.config, redis_url_)) add_row(check);
}

// "DELETE (audit archive)": a missing privilege and who needs it.
std::string DoctorCommand::needed_by(const Commands& commands, const std::string& what,
                                     const std::function<bool(const DatabaseNeeds&)>& uses) {
    std::vector<std::string> names;
    for (const auto& [name, needs] : commands) {
        if (uses(needs)) {
            names.push_back(name);
            blocked_[name].push_back(what);
        }
    }
    return what + " (" + joined(names) + ")";
}

void DoctorCommand::check_tables(SchemaRepository& schema, const DatabaseNeeds& all,
                                 const Commands& commands) {
    std::vector<std::string> tables;
    for (const auto& need : all.tables) tables.push_back(need.table);
    std::map<std::pair<std::string, std::string>, std::string> types;
    for (const auto& column : schema.columns_of(tables))
        types[{column.table, column.column}] = column.type;
    for (const auto& need : all.tables) {
        if (need.optional && !schema.table_exists(need.table)) continue;
        const auto uses_table = [&](const DatabaseNeeds& n) {
            return std::any_of(n.tables.begin(), n.tables.end(),
                               [&](const TableNeed& t) { return t.table == need.table; });
        };
        std::vector<std::string> problems;
        for (const auto& column : need.columns) {
            const auto it = types.find({need.table, column.name});
            if (it == types.end()) {
                problems.push_back(
                    needed_by(commands, "column " + need.table + "." + column.name + " is missing",
                              uses_table));
            } else if (!type_accepted(it->second, column.types)) {
                problems.push_back(needed_by(commands,
                                             "column " + need.table + "." + column.name + " is " +
                                                 it->second + ", expected " + joined(column.types),
                                             uses_table));
            }
        }
        std::vector<std::string> missing = schema.missing_privileges(need.table, need.privileges);
        if (need.owner && !schema.owns(need.table)) missing.push_back("ownership");
        for (const auto& privilege : missing) {
            problems.push_back(needed_by(
                commands, "role " + role_ + " lacks " + privilege + " on " + need.table,
                [&](const DatabaseNeeds& n) {
                    return std::any_of(n.tables.begin(), n.tables.end(), [&](const TableNeed& t) {
                        return t.table == need.table && (contains(t.privileges, privilege) ||
                                                         (privilege == "ownership" && t.owner));
                    });
                }));
        }
        add_check("table " + need.table, joined(problems));
    }
}

void DoctorCommand::check_sequences(SchemaRepository& schema, const DatabaseNeeds& all,
                                    const Commands& commands) {
    for (const auto& need : all.sequences) {
        const SequenceAccess access =
            schema.sequence_access(need.table, need.column, need.privileges);
        const std::string name =
            access.sequence.empty() ? need.table + "." + need.column : access.sequence;
        std::vector<std::string> problems;
        const auto uses = [&](const std::string& privilege) {
            return [&, privilege](const DatabaseNeeds& n) {
                return std::any_of(
                    n.sequences.begin(), n.sequences.end(), [&](const SequenceNeed& s) {
                        return s.table == need.table && s.column == need.column &&
                               (privilege.empty() || contains(s.privileges, privilege));
                    });
            };
        };
        if (access.sequence.empty()) {
            problems.push_back(
                needed_by(commands, "no sequence gives " + name + " its values", uses("")));
        }
        for (const auto& privilege : access.missing) {
            std::string what = "role ";
            what.append(role_).append(" lacks ").append(privilege).append(" on ").append(name);
            problems.push_back(needed_by(commands, what, uses(privilege)));
        }
        add_check("sequence " + name, joined(problems));
    }
}

void DoctorCommand::check_roles(SchemaRepository& schema, const DatabaseNeeds& all,
                                const Commands& commands) {
    if (all.roles.empty()) return;
    const auto missing = schema.missing_roles(all.roles);
    for (const auto& role : all.roles) {
        std::string problem;
        if (contains(missing, role)) {
            problem = needed_by(commands, "role " + role_ + " is not a member of " + role,
                                [&](const DatabaseNeeds& n) { return contains(n.roles, role); });
        }
        add_check("membership of " + role, problem);
    }
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
    Summary commands = Summary::object();
    for (const auto& [name, needs] : declared_needs(only_, jobs_on_redis_)) {
        const auto it = blocked_.find(name);
        commands[name] =
            it == blocked_.end() ? std::string("ready") : "not ready: " + joined(it->second);
    }
    s["commands"] = commands;
    s["queue"] = queue_;
    s["problems"] = problems_;
    return s;
}

ExitCode DoctorCommand::outcome() const {
    return problems_ == 0 ? ExitCode::kSuccess : ExitCode::kFailure;
}

}  // namespace ops
