// --metrics-dir: the node_exporter textfile each run leaves, checked line by line against the
// Prometheus text format and by promtool; the failures in a row it counts; the previous file
// it reads back without trusting it; its modes.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "database_waits.hpp"
#include "harness.hpp"
#include "promtool.hpp"

using namespace ops_test;

namespace {

// Parses a textfile strictly: every sample's metric has HELP and TYPE lines before it, names
// and labels are well formed, values are numbers. Returns "name{labels}" -> value.
std::map<std::string, double> parse_strictly(const std::string& text) {
    static const std::regex kHelp(R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$)");
    static const std::regex kType(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (gauge|counter)$)");
    static const std::regex kSample(
        R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*)\} (-?[0-9]+(\.[0-9]+)?)$)");
    std::set<std::string> helped, typed;
    std::map<std::string, double> samples;
    std::istringstream lines(text);
    std::string line;
    std::smatch m;
    REQUIRE(!text.empty());
    REQUIRE(text.back() == '\n');
    while (std::getline(lines, line)) {
        INFO(line);
        if (std::regex_match(line, m, kHelp)) {
            helped.insert(m[1]);
        } else if (std::regex_match(line, m, kType)) {
            CHECK(helped.count(m[1]) == 1);
            typed.insert(m[1]);
        } else {
            REQUIRE(std::regex_match(line, m, kSample));
            CHECK(typed.count(m[1]) == 1);
            const std::string name = m[1];
            CHECK((!name.ends_with("_total") || name.find("timestamp") == std::string::npos));
            samples[name + "{" + m[2].str() + "}"] = std::stod(m[4]);
        }
    }
    return samples;
}

}  // namespace

TEST_CASE("each run replaces its metrics file, a failure keeps the last success") {
    TestDatabase db;
    db.exec(
        "INSERT INTO audit_events (channel, event, created_at) SELECT 'web', 'e', "
        "timestamp '2025-01-01' + i * interval '1 minute' FROM generate_series(1, 42) AS i");
    TempDir dir;
    const auto metrics = dir.path() / "textfile";
    const auto file = metrics / "ops_audit_archive.prom";
    const std::vector<std::string> archive = {"--metrics-dir", metrics.string(),
                                              "audit",         "archive",
                                              "--dir",         (dir.path() / "a").string()};

    auto dry = archive;
    dry.push_back("--dry-run");
    REQUIRE(run_ops(dry, db.env()).exit_code == 0);
    CHECK(!std::filesystem::exists(file));  // a dry run leaves the real state alone

    REQUIRE(run_ops(archive, db.env()).exit_code == 0);
    auto samples = parse_strictly(read_file(file));
    const std::string label = "command=\"audit archive\"";
    CHECK(samples.at("ops_last_run_exit_code{" + label + "}") == 0);
    CHECK(samples.at("ops_last_run_rows{" + label + ",action=\"archived\"}") == 42);
    CHECK(samples.at("ops_last_run_rows{" + label + ",action=\"deleted\"}") == 42);
    CHECK(samples.at("ops_last_run_duration_seconds{" + label + "}") >= 0);
    const double success = samples.at("ops_last_success_timestamp_seconds{" + label + "}");
    CHECK(success == samples.at("ops_last_run_timestamp_seconds{" + label + "}"));
    CHECK(success > 1.7e9);
    check_metrics_file(file);

    usleep(20000);
    const auto failed =
        run_ops(archive, {{"DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none"}});
    REQUIRE(failed.exit_code == 69);
    samples = parse_strictly(read_file(file));
    CHECK(samples.at("ops_last_run_exit_code{" + label + "}") == 69);
    CHECK(samples.at("ops_last_success_timestamp_seconds{" + label + "}") == success);
    CHECK(samples.at("ops_last_run_timestamp_seconds{" + label + "}") > success);
    CHECK(std::filesystem::exists(file));
    CHECK(files_in(metrics, ".tmp").empty());  // replaced atomically, nothing left over
    check_metrics_file(file);
}

namespace {

const Env kUnreachable = {{"DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none"}};

double sample(const std::filesystem::path& file, const std::string& key) {
    const auto samples = parse_strictly(read_file(file));
    const auto found = samples.find(key);
    INFO(read_file(file));
    REQUIRE(found != samples.end());
    return found->second;
}

std::filesystem::perms mode_of(const std::filesystem::path& path) {
    return std::filesystem::symlink_status(path).permissions() & std::filesystem::perms::all;
}

}  // namespace

TEST_CASE("metrics: ops_consecutive_failures counts runs in a row that fail, lock held included") {
    TestDatabase db;
    TempDir dir;
    const auto metrics = dir.path() / "textfile";
    const auto file = metrics / "ops_wa_redrive_failed.prom";
    const std::vector<std::string> redrive = {"--metrics-dir", metrics.string(), "wa",
                                              "redrive-failed"};
    const std::string label = "{command=\"wa redrive-failed\"}";

    REQUIRE(run_ops(redrive, db.env()).exit_code == 0);
    CHECK(sample(file, "ops_consecutive_failures" + label) == 0);
    const double success = sample(file, "ops_last_success_timestamp_seconds" + label);
    check_metrics_file(file);

    pqxx::connection holder(db.url());
    hold_lock(holder, "wa redrive-failed");
    for (int run = 1; run <= 3; ++run) {
        REQUIRE(run_ops(redrive, db.env()).exit_code == 75);
        CHECK(sample(file, "ops_consecutive_failures" + label) == run);
        CHECK(sample(file, "ops_last_run_exit_code" + label) == 75);
        // Exit 75 says why: the lock (a replica-lag stop says replica_lag, test_replicas).
        CHECK(sample(file,
                     "ops_last_run_outcome{command=\"wa redrive-failed\",outcome=\"lock_held\"}") ==
              1);
        CHECK(sample(file, "ops_last_success_timestamp_seconds" + label) == success);
        check_metrics_file(file);
    }
    holder.disconnect();
    REQUIRE(run_ops(redrive, kUnreachable).exit_code == 69);
    CHECK(sample(file, "ops_consecutive_failures" + label) == 4);

    REQUIRE(run_ops(redrive, db.env()).exit_code == 0);
    CHECK(sample(file, "ops_consecutive_failures" + label) == 0);
    CHECK(sample(file, "ops_last_success_timestamp_seconds" + label) > success);
    check_metrics_file(file);
}

TEST_CASE("metrics: files are 0644 and a new folder 0755 under a restrictive umask") {
    TempDir dir;
    const auto metrics = dir.path() / "a" / "textfile";
    const mode_t saved = ::umask(0077);  // the spawned ops inherits it
    const auto result = run_ops({"--metrics-dir", metrics.string(), "audit", "archive", "--dir",
                                 (dir.path() / "archives").string()},
                                kUnreachable);
    ::umask(saved);
    REQUIRE(result.exit_code == 69);
    CHECK(mode_of(dir.path() / "a") == static_cast<std::filesystem::perms>(0755));
    CHECK(mode_of(metrics) == static_cast<std::filesystem::perms>(0755));
    CHECK(mode_of(metrics / "ops_audit_archive.prom") == static_cast<std::filesystem::perms>(0644));
    check_metrics_file(metrics / "ops_audit_archive.prom");
}

TEST_CASE("metrics: a link, a FIFO or a huge file at the metrics file's name is not read back") {
    TempDir dir;
    const auto metrics = dir.path() / "textfile";
    std::filesystem::create_directories(metrics);
    const auto file = metrics / "ops_audit_archive.prom";
    const std::string label = "{command=\"audit archive\"}";
    const std::string forged = "ops_last_success_timestamp_seconds" + label +
                               " 123\nops_consecutive_failures" + label + " 7\n";
    const auto target = dir.path() / "elsewhere.prom";
    {
        std::ofstream out(target);
        out << forged;
    }
    // /usr/bin/timeout: a run blocked on the FIFO ends as 124 instead of hanging the suite.
    const auto archive = [&] {
        Process process(
            {"/usr/bin/timeout", "20", required_env("OPS_BIN"), "--metrics-dir", metrics.string(),
             "audit", "archive", "--dir", (dir.path() / "archives").string()},
            kUnreachable);
        return process.wait().exit_code;
    };

    SECTION("a symbolic link") { std::filesystem::create_symlink(target, file); }
    SECTION("a FIFO") { REQUIRE(::mkfifo(file.c_str(), 0644) == 0); }
    SECTION("a file larger than any ops writes") {
        std::ofstream out(file);
        out << forged << std::string(70 * 1024, '#') << '\n';
    }
    REQUIRE(archive() == 69);
    CHECK(std::filesystem::is_regular_file(std::filesystem::symlink_status(file)));
    const auto samples = parse_strictly(read_file(file));
    CHECK(samples.count("ops_last_success_timestamp_seconds" + label) == 0);
    CHECK(samples.at("ops_consecutive_failures" + label) == 1);
    CHECK(read_file(target) == forged);  // the link's target is left alone
    check_metrics_file(file);
}
