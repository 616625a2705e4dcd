// --metrics-dir: the node_exporter textfile each run leaves, checked line by line against the
// Prometheus text format.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "harness.hpp"

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
}
