// audit archive, verify and restore: bad options and arguments are refused before anything is
// connected or created (moved here from tests/integration/test_audit_archive.cpp,
// test_audit_verify_restore.cpp and test_replicas.cpp).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "cli_fixture.hpp"
#include "scratch_dir.hpp"

using namespace ops_test;

TEST_CASE("bad archive options exit 2, name the option and create nothing") {
    // A future --before and a --dir that is a file are decided against the database's clock
    // and after connecting: tests/integration/test_audit_archive.cpp has them.
    ScratchDir dir;
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--days", "0"}, "--days"},
        {{"--days", "ninety"}, "--days"},
        {{"--days", "-3"}, "--days"},
        {{"--before", "2026-02-30"}, "--before"},
        {{"--before", "tomorrow"}, "--before"},
        {{"--days", "5", "--before", "2025-01-01"}, "--days"},
        {{"--batch-size", "0"}, "--batch-size"},
        {{"--batch-size", "1e4"}, "--batch-size"},
        {{"--limit", "0"}, "--limit"},
        {{"--sleep", "-1"}, "--sleep"},
        {{"--max-runtime", "2 hours"}, "--max-runtime"},
        {{"--channel", ""}, "--channel"},
        {{"--parallel", "0"}, "--parallel"},
        {{"--parallel", "9"}, "--parallel"},
    };
    for (const auto& [extra, option] : cases) {
        INFO(extra[0] << " " << extra[1]);
        std::vector<std::string> args = {"audit", "archive"};
        args.insert(args.end(), extra.begin(), extra.end());
        args.insert(args.end(), {"--dir", (dir / "out").string()});
        check_usage_error(run_cli_in_process(args, kNoDatabase), option);
    }
    CHECK(!std::filesystem::exists(dir / "out"));
}

TEST_CASE("replica lag options take only their accepted forms (2)") {
    for (const auto& [option, value, expected] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"--max-lag-bytes", "12XB", "--max-lag-bytes: expected a size such as"},
             {"--max-lag-bytes", "0", "--max-lag-bytes: expected a size such as"},
             {"--max-lag", "fast", "--max-lag: expected a duration such as"},
             {"--max-lag", "0", "--max-lag: expected a duration above 0"},
             {"--max-pause", "5 minutes", "--max-pause: expected a duration such as"}}) {
        INFO(option << " " << value);
        check_usage_error(run_cli_in_process({"audit", "archive", option, value}, kNoDatabase),
                          expected);
    }
}

TEST_CASE("restore and verify reject bad arguments with exit 2") {
    ScratchDir dir;
    std::ofstream(dir / "f.jsonl") << "";
    const std::string file = (dir / "f.jsonl").string();
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"audit", "restore"}, "FILE is required"},
        {{"audit", "restore", "/nonexistent.jsonl"},
         "FILE: '/nonexistent.jsonl' is not a readable"},
        {{"audit", "restore", "--batch-size", "0", file}, "--batch-size"},
        {{"audit", "restore", "--batch-size", "many", file}, "--batch-size"},
        {{"audit", "verify"}, "FILE is required"},
    };
    for (const auto& [args, names] : cases) {
        INFO(args.back());
        check_usage_error(run_cli_in_process(args, kNoDatabase), names);
    }
    // A file that is not there is what verify reports at run time (1), not a usage error.
    CHECK(run_cli_in_process({"audit", "verify", "/nonexistent.jsonl"}).exit_code == 1);
}
