#include "ops/commands/audit_verify.hpp"

#include "ops/archive/archive_check.hpp"
#include "ops/archive/manifest.hpp"

namespace ops {

CommandSpec AuditVerifyCommand::spec() {
    CommandSpec spec;
    spec.group = "audit";
    spec.name = "verify";
    spec.description =
        "Check archive files against their manifests (rows, size, SHA-256, torn lines)";
    spec.examples =
        "  ops audit verify storage/app/audit-archives/*.jsonl*\n"
        "  ops audit verify --output json /backup/audit-events-20261127T010000Z-1a2b3c4d.jsonl.gz";
    spec.traits = {.needs_database = false, .takes_lock = false, .records_run = false};
    spec.attach = [](CLI::App& app) {
        auto command = std::make_unique<AuditVerifyCommand>();
        app.add_option("FILE", command->files_, "archive data files (.jsonl, .jsonl.gz)")
            ->required();
        return command;
    };
    return spec;
}

void AuditVerifyCommand::validate() {
    for (const auto& file : files_) {
        if (file.empty()) throw UsageError("FILE: expected an archive file path, got ''");
    }
}

void AuditVerifyCommand::execute(CommandEnv&) {
    for (const auto& file : files_) {
        if (stop_requested()) return;
        results_.push_back(verify_file(file));
    }
}

Summary AuditVerifyCommand::verify_file(const std::string& given) {
    std::filesystem::path path = given;
    std::string problem;
    // A manifest given in place of its data file means that data file.
    if (given.ends_with(".manifest.json")) {
        if (const auto manifest = read_manifest(path, problem))
            path = path.parent_path() / manifest->data_file;
    }
    Summary result;
    result["path"] = path.string();
    if (!std::filesystem::is_regular_file(path)) {
        ++unsound_;
        result["status"] = "missing";
        return result;
    }
    const FileCheck check = check_archive_file(path);
    result["rows"] = check.whole;
    result["torn_lines"] = check.torn;
    result["bad_lines"] = check.bad;
    result["bytes"] = check.digest.bytes;
    result["sha256"] = check.digest.sha256;
    result["manifest"] = check.manifest.has_value();
    std::vector<std::string> problems = check.problems;
    if (!check.manifest) {
        const bool unreadable = !problems.empty() && problems.front().starts_with("manifest ");
        if (!unreadable) {
            problems.insert(problems.begin(),
                            "no manifest: the run that wrote it did not finish cleanly");
        }
        if (check.torn > 0) problems.push_back(std::to_string(check.torn) + " torn lines");
    }
    std::string status = "sound";
    if (!problems.empty()) {
        ++unsound_;
        status.clear();
        for (const auto& p : problems) status += (status.empty() ? "" : "; ") + p;
    }
    result["status"] = status;
    return result;
}

Summary AuditVerifyCommand::summary() const {
    Summary s;
    s["files"] = results_;
    s["unsound"] = unsound_;
    return s;
}

ExitCode AuditVerifyCommand::outcome() const {
    return unsound_ == 0 ? ExitCode::kSuccess : ExitCode::kFailure;
}

}  // namespace ops
