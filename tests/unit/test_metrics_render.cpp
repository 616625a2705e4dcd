// Metrics rendering: the Prometheus text exposition format node_exporter's textfile collector
// reads, one file per command, and the row counts taken from a summary.
#include <catch2/catch.hpp>
#include <set>
#include <sstream>

#include "ops/output/metrics.hpp"

using namespace ops;

TEST_CASE("metrics: a successful run, with its rows per action") {
    RunMetrics m;
    m.command = "audit archive";
    m.ended_at = 1800000000.25;
    m.duration_seconds = 12.3456;
    m.exit_code = 0;
    m.last_success_at = 1800000000.25;
    m.consecutive_failures = 0;
    m.rows_by_action = Summary{{"archived", 500}, {"deleted", 498}};
    CHECK(render_metrics(m) ==
          "# HELP ops_last_run_timestamp_seconds Unix time the last run of the command ended.\n"
          "# TYPE ops_last_run_timestamp_seconds gauge\n"
          "ops_last_run_timestamp_seconds{command=\"audit archive\"} 1800000000.250\n"
          "# HELP ops_last_success_timestamp_seconds Unix time the last successful run of the "
          "command ended.\n"
          "# TYPE ops_last_success_timestamp_seconds gauge\n"
          "ops_last_success_timestamp_seconds{command=\"audit archive\"} 1800000000.250\n"
          "# HELP ops_last_run_duration_seconds How long the last run took.\n"
          "# TYPE ops_last_run_duration_seconds gauge\n"
          "ops_last_run_duration_seconds{command=\"audit archive\"} 12.346\n"
          "# HELP ops_last_run_exit_code Exit code of the last run (0 success, see ops --help).\n"
          "# TYPE ops_last_run_exit_code gauge\n"
          "ops_last_run_exit_code{command=\"audit archive\"} 0\n"
          "# HELP ops_consecutive_failures Runs in a row, the last one included, that did not "
          "exit 0.\n"
          "# TYPE ops_consecutive_failures gauge\n"
          "ops_consecutive_failures{command=\"audit archive\"} 0\n"
          "# HELP ops_last_run_rows Rows the last run handled, per action.\n"
          "# TYPE ops_last_run_rows gauge\n"
          "ops_last_run_rows{command=\"audit archive\",action=\"archived\"} 500\n"
          "ops_last_run_rows{command=\"audit archive\",action=\"deleted\"} 498\n");
}

TEST_CASE("metrics: a failing run that never succeeded has no success sample and no rows") {
    RunMetrics m;
    m.command = "wa redrive-failed";
    m.ended_at = 1800000000;
    m.exit_code = 75;
    carry_over(m, PreviousMetrics{std::nullopt, 2});
    const std::string text = render_metrics(m);
    CHECK(text.find("ops_last_success_timestamp_seconds") == std::string::npos);
    CHECK(text.find("ops_last_run_rows") == std::string::npos);
    CHECK(text.find("ops_last_run_exit_code{command=\"wa redrive-failed\"} 75\n") !=
          std::string::npos);
    CHECK(text.find("ops_consecutive_failures{command=\"wa redrive-failed\"} 3\n") !=
          std::string::npos);
    CHECK(text.find("ops_last_run_duration_seconds{command=\"wa redrive-failed\"} 0.000\n") !=
          std::string::npos);
    // Every sample line is NAME{LABELS} VALUE, each metric announced by HELP and TYPE first.
    std::istringstream in(text);
    std::set<std::string> announced;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("# TYPE ", 0) == 0) announced.insert(line.substr(7, line.find(' ', 7) - 7));
        if (line[0] == '#') continue;
        const auto brace = line.find('{');
        REQUIRE(brace != std::string::npos);
        CHECK(announced.count(line.substr(0, brace)) == 1);
        CHECK(line.find("} ") != std::string::npos);
    }
}

TEST_CASE("metrics: the file per command, and the rows worth graphing from a summary") {
    CHECK(metrics_file("/var/lib/ops", "audit archive") == "/var/lib/ops/ops_audit_archive.prom");
    CHECK(metrics_file("m", "wa redrive-failed") == "m/ops_wa_redrive_failed.prom");
    CHECK(metrics_file("m", "quota reconcile") == "m/ops_quota_reconcile.prom");
    const Summary summary = {{"archived", 10},        {"deleted", 9},      {"redriven", 0},
                             {"selected", 40},        {"drifted", "many"}, {"jobs_inserted", 3},
                             {"skipped_existing", 2}, {"updated", 1.5},    {"inserted", 4}};
    CHECK(rows_by_action(summary) == Summary{{"archived", 10},
                                             {"deleted", 9},
                                             {"redriven", 0},
                                             {"jobs_inserted", 3},
                                             {"inserted", 4},
                                             {"skipped_existing", 2}});
    CHECK(rows_by_action(Summary::object()).empty());
}
