// The CLI in process (tests/support/cli_fixture.hpp): what the dispatcher decides before it
// connects. Help and the global options' usage errors: exit 2, one line naming the
// option, nothing on stdout. Moved here from tests/integration/test_global.cpp; the real
// binary keeps its own smoke rows there.
#include <catch2/catch.hpp>

#include "cli_fixture.hpp"

using namespace ops_test;

TEST_CASE("help lists doctor and the command groups, with exit codes") {
    const auto result = run_cli_in_process({"--help"});
    CHECK(result.exit_code == 0);
    for (const char* word :
         {"doctor", "audit", "wa", "quota", "schedule", "Exit codes", "75", "69", "78"}) {
        CHECK(result.out.find(word) != std::string::npos);
    }
    const auto archive_help = run_cli_in_process({"audit", "archive", "--help"});
    CHECK(archive_help.exit_code == 0);
    CHECK(archive_help.out.find("Examples:") != std::string::npos);
}

TEST_CASE("usage errors exit 2 with one line naming the option") {
    struct Case {
        std::vector<std::string> args;
        std::string names;
    };
    const std::vector<Case> cases = {
        {{"audit", "archive", "--no-such-option"}, "--no-such-option"},
        {{"audit"}, "subcommand"},
        {{"--output", "yaml", "doctor"}, "--output"},
        {{"--log-level", "loud", "doctor"}, "--log-level"},
        {{"--log-format", "xml", "doctor"}, "--log-format"},
        {{"--statement-timeout", "soon", "doctor"}, "--statement-timeout"},
        {{"--lock-timeout", "-1s", "doctor"}, "--lock-timeout"},
        {{"--timezone", "Mars/Olympus", "doctor"}, "--timezone"},
        {{"--timezone", "../../etc/passwd", "doctor"}, "--timezone"},
        {{"--database-url", "postgresql://[bad", "doctor"}, "--database-url"},
    };
    for (const auto& c : cases) {
        INFO(c.args.back());
        check_usage_error(run_cli_in_process(c.args, kNoDatabase), c.names);
    }
}
