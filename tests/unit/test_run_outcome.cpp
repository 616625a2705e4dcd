// The run lifecycle's pure parts: the one classifier (exception -> outcome and exit code), the
// outcome of a run that returned, and how each outcome shows in the summary, the end line and
// the metrics; plus the in-process CLI entry for errors found before any connection.
#include <catch2/catch.hpp>
#include <csignal>
#include <pqxx/except>
#include <sstream>

#include "ops/cli/dispatcher.hpp"
#include "ops/cli/outcome.hpp"
#include "ops/output/metrics.hpp"

using namespace ops;

namespace {

template <typename E>
Outcome classified(const E& error) {
    return classify(std::make_exception_ptr(error));
}

}  // namespace

TEST_CASE("classify: each project error keeps its exit code and names its outcome") {
    struct Case {
        Outcome outcome;
        int code;
        const char* name;
    };
    const std::vector<Case> cases = {
        {classified(UsageError("--days: expected a number")), 2, "usage_error"},
        {classified(ConfigError("no DB_HOST")), 78, "config_error"},
        {classified(DatabaseUnavailable("connection refused")), 69, "database_unavailable"},
        {classified(LockHeld("another run holds it")), 75, "lock_held"},
        {classified(RunFailure("disk full")), 1, "failed"},
    };
    for (const auto& c : cases) {
        CHECK(static_cast<int>(c.outcome.code) == c.code);
        CHECK(c.outcome.outcome == c.name);
        CHECK(c.outcome.status == "failed");
        CHECK_FALSE(c.outcome.succeeded());
    }
    const Outcome lock = classified(LockHeld("held by pid 42", "wait for it"));
    CHECK(lock.error == "held by pid 42");
    CHECK(lock.hint == "wait for it");
}

TEST_CASE("classify: libpqxx errors are failures that say what happened") {
    const Outcome lost = classified(pqxx::broken_connection("server closed the connection\n"));
    CHECK(lost.code == ExitCode::kFailure);
    CHECK(lost.error == "lost the connection to the database: server closed the connection");
    CHECK(lost.hint.find("run the command again") != std::string::npos);

    const Outcome doubt = classified(pqxx::in_doubt_error("gone during COMMIT"));
    CHECK(doubt.code == ExitCode::kFailure);
    CHECK(doubt.error.find("may or may not have committed: gone during COMMIT") !=
          std::string::npos);
    CHECK(doubt.hint.find("not committed") != std::string::npos);

    // An error while taking the lock (the lock's own query) classifies like any other.
    const Outcome denied = classified(pqxx::insufficient_privilege(
        "ERROR:  permission denied for function pg_try_advisory_lock\n",
        "SELECT pg_try_advisory_lock($1)"));
    CHECK(denied.code == ExitCode::kFailure);
    CHECK(denied.outcome == "failed");
    CHECK(denied.error ==
          "database error (SQLSTATE 42501): ERROR:  permission denied for function "
          "pg_try_advisory_lock");

    const Outcome deadlock = classified(pqxx::deadlock_detected("deadlock detected"));
    CHECK(deadlock.code == ExitCode::kFailure);
    CHECK(deadlock.error == "database error (SQLSTATE 40P01): deadlock detected");
}

TEST_CASE("classify: any other exception is a failure with its message") {
    CHECK(classified(std::runtime_error("boom")).error == "boom");
    CHECK(classified(std::runtime_error("boom")).code == ExitCode::kFailure);
    CHECK(classify(std::make_exception_ptr(42)).error == "unknown error");
    CHECK(classify(nullptr).code == ExitCode::kFailure);
}

TEST_CASE("returned_outcome: what the command reports, unless a signal stopped it") {
    CHECK(returned_outcome(ExitCode::kSuccess, 0).outcome == "completed");
    CHECK(returned_outcome(ExitCode::kSuccess, 0).succeeded());
    const Outcome drift = returned_outcome(ExitCode::kDriftFound, 0);
    CHECK(drift.outcome == "drift_found");
    CHECK(drift.succeeded());
    // Exit 75 from a returning command is a replica-lag stop; a held lock is thrown (above).
    const Outcome lag = returned_outcome(ExitCode::kTryLater, 0);
    CHECK(static_cast<int>(lag.code) == 75);
    CHECK(lag.outcome == "replica_lag");
    CHECK_FALSE(lag.succeeded());
    const Outcome sigint = returned_outcome(ExitCode::kTryLater, SIGINT);
    CHECK(static_cast<int>(sigint.code) == 130);
    CHECK(sigint.status == "interrupted");
    CHECK(static_cast<int>(returned_outcome(ExitCode::kSuccess, SIGTERM).code) == 143);
}

TEST_CASE("run_summary frames what the command reports with the outcome") {
    const RunContext run{"0123456789abcdef", DryRun::kNo, "UTC"};
    const Summary reported = {{"archived", 10}, {"stopped_by", "replica-lag"}};
    const Summary lag =
        run_summary("audit archive", run, reported, returned_outcome(ExitCode::kTryLater, 0));
    std::vector<std::string> keys;
    for (const auto& item : lag.items()) keys.push_back(item.key());
    CHECK(keys == std::vector<std::string>{"command", "dry_run", "run_id", "archived", "stopped_by",
                                           "status", "outcome", "exit_code", "duration_ms"});
    CHECK(lag["outcome"] == "replica_lag");
    CHECK(lag["exit_code"] == 75);

    const Summary failed =
        run_summary("audit archive", run, reported, classified(pqxx::broken_connection("gone")));
    CHECK(failed["status"] == "failed");
    CHECK(failed["error"] == "lost the connection to the database: gone");
    CHECK(failed.contains("hint"));
}

TEST_CASE("failure_summary: the one JSON object of a run that ended early") {
    const RunContext run{"0123456789abcdef", DryRun::kYes, "UTC"};
    const std::string command = "wa redrive-failed";
    const Summary lock = failure_summary(&command, &run, classified(LockHeld("held")));
    CHECK(lock["command"] == "wa redrive-failed");
    CHECK(lock["dry_run"] == true);
    CHECK(lock["outcome"] == "lock_held");
    CHECK(lock["exit_code"] == 75);
    CHECK(lock["hint"].is_null());
    const Summary parse = failure_summary(nullptr, nullptr, classified(UsageError("bad")));
    CHECK(parse["command"].is_null());
    CHECK_FALSE(parse.contains("run_id"));
    CHECK_FALSE(parse.contains("duration_ms"));
}

TEST_CASE("end_line: success and drift at info, every other outcome at error") {
    using std::chrono::milliseconds;
    const EndLine ok = end_line("doctor", returned_outcome(ExitCode::kSuccess, 0), milliseconds(5));
    CHECK_FALSE(ok.error);
    CHECK(ok.text == "ops doctor completed successfully (5ms)");
    CHECK_FALSE(
        end_line("quota reconcile", returned_outcome(ExitCode::kDriftFound, 0), milliseconds(1))
            .error);
    const EndLine lock = end_line("audit archive", classified(LockHeld("x")), milliseconds(7));
    CHECK(lock.error);
    CHECK(lock.text == "ops audit archive aborted with exit code 75 (7ms)");
    const EndLine stop =
        end_line("audit archive", returned_outcome(ExitCode::kSuccess, SIGTERM), milliseconds(9));
    CHECK(stop.text == "ops audit archive interrupted with exit code 143 (9ms)");
}

TEST_CASE("metrics: the outcome tells exit 75's lock held from replica lag") {
    RunMetrics metrics;
    metrics.command = "wa redrive-failed";
    metrics.exit_code = 75;
    metrics.outcome = classified(LockHeld("x")).outcome;
    CHECK(render_metrics(metrics).find(
              "ops_last_run_outcome{command=\"wa redrive-failed\",outcome=\"lock_held\"} 1\n") !=
          std::string::npos);
    metrics.outcome = returned_outcome(ExitCode::kTryLater, 0).outcome;
    CHECK(render_metrics(metrics).find(
              "ops_last_run_outcome{command=\"wa redrive-failed\",outcome=\"replica_lag\"} 1\n") !=
          std::string::npos);
    metrics.outcome.clear();
    CHECK(render_metrics(metrics).find("ops_last_run_outcome") == std::string::npos);
}

TEST_CASE("run_cli in process: usage errors, help and version, in the format asked for") {
    std::ostringstream out;
    std::ostringstream err;
    CHECK(run_cli({"audit", "archive", "--no-such-option", "--output", "json"}, out, err) == 2);
    const auto object = nlohmann::json::parse(out.str());
    CHECK(object["outcome"] == "usage_error");
    CHECK(object["error"].get<std::string>().find("--no-such-option") != std::string::npos);
    CHECK(err.str().find("ops: error:") != std::string::npos);

    std::ostringstream version;
    CHECK(run_cli({"--version", "--output", "json"}, version, err) == 0);
    CHECK(nlohmann::json::parse(version.str())["version"].is_string());
    std::ostringstream help;
    CHECK(run_cli({"audit", "archive", "--help", "--output", "json"}, help, err) == 0);
    CHECK(nlohmann::json::parse(help.str())["help"].get<std::string>().find("Examples:") !=
          std::string::npos);
    std::ostringstream text;
    CHECK(run_cli({"--version"}, text, err) == 0);
    CHECK(text.str().rfind("ops 0.", 0) == 0);
}

TEST_CASE("run_cli in process: a bad --metrics-dir is a usage error naming it, before anything") {
    std::ostringstream out;
    std::ostringstream err;
    CHECK(run_cli({"--metrics-dir", "/tmp/a\nb", "quota", "reconcile"}, out, err) == 2);
    CHECK(err.str().find("--metrics-dir: ") != std::string::npos);
    CHECK(err.str().find("aborted with exit code 2") != std::string::npos);
}

TEST_CASE("run_cli in process: a generator's product goes to the given stream, alone") {
    std::ostringstream out;
    std::ostringstream err;
    CHECK(run_cli({"--output", "json", "schedule", "list"}, out, err) == 0);
    const auto product = nlohmann::json::parse(out.str());  // exactly one object
    CHECK(product["command"] == "schedule list");
    CHECK(product["status"] == "completed");
    CHECK(err.str().empty());
    std::ostringstream crontab;
    CHECK(run_cli({"schedule", "crontab", "--bin", "/usr/bin/ops"}, crontab, err) == 0);
    CHECK(crontab.str().find("/usr/bin/ops --env-file /etc/ops/ops.env audit archive") !=
          std::string::npos);
}
