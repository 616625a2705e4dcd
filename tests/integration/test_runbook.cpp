// docs/OPERATIONS_RUNBOOK.md cannot rot: every command and SQL block in it runs, in order,
// against the demo data, and must end with the exit code the page says.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "harness.hpp"

using namespace ops_test;

namespace {

struct Step {
    std::string language;  // "bash": one command line; "sql": a whole block for psql
    std::string text;
    int expected_exit = 0;
    int line = 0;
};

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
        text.replace(at, from.size(), to);
    }
    return text;
}

// The runnable blocks of a Markdown page: each line of a ```bash block, each ```sql block.
std::vector<Step> runnable_steps(const std::string& markdown) {
    static const std::regex kExpected(R"(#\s*exits (\d+)\s*$)");
    std::vector<Step> steps;
    std::istringstream in(markdown);
    std::string line, fence, block;
    int number = 0, block_start = 0;
    while (std::getline(in, line)) {
        ++number;
        const auto content = line.substr(std::min(line.find_first_not_of(' '), line.size()));
        if (fence.empty()) {
            if (content.rfind("```", 0) == 0 && content.size() > 3) {
                fence = content.substr(3);
                block.clear();
                block_start = number + 1;
            }
            continue;
        }
        if (content == "```") {
            if (fence == "sql") steps.push_back({"sql", block, 0, block_start});
            fence.clear();
        } else if (fence == "sql") {
            block += line + "\n";
        } else if (fence == "bash" && !content.empty() && content[0] != '#') {
            Step step{"bash", content, 0, number};
            std::smatch m;
            if (std::regex_search(content, m, kExpected)) step.expected_exit = std::stoi(m[1]);
            steps.push_back(step);
        }
    }
    REQUIRE(fence.empty());
    return steps;
}

}  // namespace

TEST_CASE("the operations runbook runs as written against the demo database") {
    const std::string source = required_env("OPS_SOURCE_DIR");
    const std::string runbook = read_file(source + "/docs/OPERATIONS_RUNBOOK.md");
    for (const char* incident :
         {"## WhatsApp provider outage", "## Audit table bloat",
          "## Restoring archived audit events for an investigation",
          "## A tenant complains about their quota", "## A stuck or overlapping run"}) {
        CHECK(runbook.find(incident) != std::string::npos);
    }

    TestDatabase db;
    TempDir dir;
    Process load({"/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url(), "-f",
                  source + "/scripts/sample-data.sql"},
                 {});
    REQUIRE(load.wait().exit_code == 0);

    // `ops` on the PATH is the binary under test; /var/lib/ops is a scratch folder.
    const auto bin = dir.path() / "bin";
    const auto state = dir.path() / "var-lib-ops";
    std::filesystem::create_directories(bin);
    std::filesystem::create_directories(state);
    std::filesystem::create_symlink(required_env("OPS_BIN"), bin / "ops");
    const Env env = {{"PATH", bin.string() + ":/usr/bin:/bin"},
                     {"DATABASE_URL", db.url()},
                     {"HOME", dir.path().string()}};

    const auto steps = runnable_steps(runbook);
    int commands = 0, blocks = 0;
    for (const auto& step : steps) {
        const std::string text = replace_all(step.text, "/var/lib/ops", state.string());
        INFO("docs/OPERATIONS_RUNBOOK.md line " << step.line << ":\n" << text);
        RunResult result;
        if (step.language == "bash") {
            ++commands;
            Process run({"/bin/sh", "-c", "cd \"$HOME\" && " + text}, env);
            result = run.wait();
        } else {
            ++blocks;
            const auto file = dir.path() / "step.sql";
            std::ofstream(file) << text;
            Process run({"/usr/bin/psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", db.url(), "-f",
                         file.string()},
                        env);
            result = run.wait();
        }
        INFO("stdout:\n" << result.out << "\nstderr:\n" << result.err);
        CHECK(result.exit_code == step.expected_exit);
    }
    CHECK(commands >= 15);
    CHECK(blocks >= 8);

    // What the runbook's steps did to the demo data, as an operator would check it.
    CHECK(db.count("SELECT count(*) FROM jobs") == 0);  // the redrive was rolled back
    CHECK(db.count("SELECT count(*) FROM wa_messages WHERE status = 'queued'") == 0);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at < "
                   "(now() AT TIME ZONE 'UTC') - interval '91 days'") == 0);
    CHECK(db.count("SELECT count(*) FROM quota_usages q WHERE tenant_id = 4 AND period = "
                   "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM') AND used = (SELECT count(*) "
                   "FROM orders o WHERE o.tenant_id = 4 AND deleted_at IS NULL AND status <> "
                   "'cancelled' AND to_char(created_at, 'YYYY-MM') = q.period)") == 1);
}
