// `ops schedule laravel` evaluated by Laravel's own scheduler (tests/laravel/schedule_events.php,
// Debian's Laravel 8 Schedule; a stand-in facade for the 11+ routes/console.php form): each
// event's cron expression and command line are what `ops schedule list` says.
#include <catch2/catch.hpp>
#include <fstream>

#include "harness.hpp"

using namespace ops_test;

namespace {

// The words /bin/sh makes of a command line, as it will when Laravel runs the event.
std::vector<std::string> sh_words(const std::string& line) {
    Process sh(
        {"/bin/sh", "-c", "eval \"set -- $1\"; for a; do printf '%s\\0' \"$a\"; done", "sh", line},
        {});
    const RunResult result = sh.wait();
    REQUIRE(result.exit_code == 0);
    std::vector<std::string> words;
    std::string word;
    for (const char c : result.out) {
        if (c == '\0') {
            words.push_back(word);
            word.clear();
        } else {
            word += c;
        }
    }
    return words;
}

std::vector<std::string> split_spaces(const std::string& text) {
    std::vector<std::string> words;
    std::string word;
    for (const char c : text + " ") {
        if (c != ' ') {
            word += c;
        } else if (!word.empty()) {
            words.push_back(word);
            word.clear();
        }
    }
    return words;
}

nlohmann::json laravel_events(const std::string& code, const std::string& layout) {
    TempDir dir;
    const auto file = dir.path() / "schedule.php";
    std::ofstream(file) << code;
    Process php(
        {"/usr/bin/php", required_env("OPS_SOURCE_DIR") + "/tests/laravel/schedule_events.php",
         file.string(), layout},
        {});
    const RunResult result = php.wait();
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.out);
}

}  // namespace

TEST_CASE("schedule laravel: Laravel's Schedule runs what schedule list says, in both layouts") {
    // A path that needs every kind of quoting: spaces, quotes, $, backslash, %, backquote.
    const std::string env_file = "/srv/my app/it's \"$HOME\" \\ 100% `id`.env";
    const std::string metrics = "/var/lib/ops/metrics dir";
    const std::vector<std::string> overrides = {
        "--options", "wa-redrive-failed=--failed-after 6h --rate 50 --queue wa-low",
        "--disable", "quota-reconcile-previous",
        "--cron",    "audit-archive=0 1 * * 6"};
    auto list_args = std::vector<std::string>{"--output", "json", "schedule", "list"};
    list_args.insert(list_args.end(), overrides.begin(), overrides.end());
    const auto list = run_ops(list_args).json()["schedule"];
    for (const std::string version : {"", "10.48", "8", "11", "13.26"}) {
        INFO("--laravel-version '" << version << "'");
        std::vector<std::string> args = {"--env-file", env_file, "--metrics-dir", metrics};
        if (!version.empty()) args.insert(args.end(), {"--laravel-version", version});
        args.insert(args.end(), {"schedule", "laravel", "--bin", "/usr/bin/ops", "--log-dir",
                                 "/var/log/my ops"});
        args.insert(args.end(), overrides.begin(), overrides.end());
        const auto printed = run_ops(args);
        INFO(printed.err);
        REQUIRE(printed.exit_code == 0);
        const bool kernel = version == "10.48" || version == "8";
        CHECK((printed.out.rfind("<?php", 0) == 0) == !kernel);
        const auto events = laravel_events(printed.out, kernel ? "kernel" : "routes");
        std::size_t i = 0;
        for (const auto& job : list) {
            if (!job["enabled"].get<bool>()) continue;
            INFO(job["name"]);
            REQUIRE(i < events.size());
            const auto& event = events[i++];
            CHECK(event["expression"] == job["cron"]);
            std::vector<std::string> expected = {"/usr/bin/ops", "--env-file", env_file,
                                                 "--metrics-dir", metrics};
            for (const auto& word : split_spaces(job["command"].get<std::string>().substr(4)))
                expected.push_back(word);
            CHECK(sh_words(event["command"]) == expected);
            CHECK(event["without_overlapping"] == true);
            CHECK(event["run_in_background"] == true);
            CHECK(event["output"] ==
                  "/var/log/my ops/ops-" + job["name"].get<std::string>() + ".log");
        }
        CHECK(i == 3);
        CHECK(events.size() == i);
    }
}
