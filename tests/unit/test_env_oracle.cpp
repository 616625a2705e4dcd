// The env file parser against Laravel itself: every file of tests/env-corpus is read by ops
// and by tests/laravel/env_oracle.php (Debian's phpdotenv and Laravel's Env::get) under the
// same fixed process environment; the values must be equal, or both must reject the file.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "ops/core/env_file.hpp"
#include "ops/core/errors.hpp"

using namespace ops;

namespace {

const std::map<std::string, std::string> kProcessEnv = {{"PATH", "/usr/bin:/bin"},
                                                        {"SECRET", "s3cr3t"},
                                                        {"PROC_HOST", "proc"},
                                                        {"FROM_ENV", "process"},
                                                        {"EMPTY_ENV", ""}};

std::optional<std::string> fixed_env(const std::string& name) {
    const auto it = kProcessEnv.find(name);
    if (it == kProcessEnv.end()) return std::nullopt;
    return it->second;
}

// Runs the oracle with exactly kProcessEnv as its environment; returns its stdout.
std::string run_oracle(const std::filesystem::path& file) {
    const std::string script = std::string(OPS_SOURCE_DIR) + "/tests/laravel/env_oracle.php";
    std::vector<std::string> args = {"/usr/bin/php", script,   file.string(), "DB_HOST",
                                     "DB_PASSWORD",  "SECRET", "FROM_ENV",    "EMPTY_ENV"};
    std::vector<std::string> env;
    for (const auto& [k, v] : kProcessEnv) env.push_back(k + "=" + v);
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    for (auto& e : env) envp.push_back(e.data());
    argv.push_back(nullptr);
    envp.push_back(nullptr);
    int out[2];
    REQUIRE(pipe(out) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_addclose(&actions, out[0]);
    pid_t pid = 0;
    REQUIRE(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()) == 0);
    posix_spawn_file_actions_destroy(&actions);
    close(out[1]);
    std::string text;
    char buffer[4096];
    for (ssize_t n; (n = read(out[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return text;
}

// What Laravel's config gets from Env::get: a string, or PHP's string cast of a bool.
std::optional<std::string> expected_value(const nlohmann::json& value) {
    if (value.is_null()) return std::nullopt;
    if (value.is_boolean()) return value.get<bool>() ? "1" : "";
    return value.get<std::string>();
}

}  // namespace

TEST_CASE("env files: ops reads every corpus file as Laravel's phpdotenv does") {
    const std::filesystem::path corpus = std::string(OPS_SOURCE_DIR) + "/tests/env-corpus";
    int files = 0, rejected = 0;
    for (const auto& item : std::filesystem::directory_iterator(corpus)) {
        if (item.path().extension() != ".env") continue;
        ++files;
        const auto oracle = nlohmann::json::parse(run_oracle(item.path()));
        INFO("corpus file " << item.path().filename().string());
        std::optional<EnvValues> ops_values;
        std::string ops_error;
        try {
            ops_values = load_env_file(item.path(), fixed_env);
        } catch (const ConfigError& e) {
            ops_error = e.what();
        }
        if (!oracle.at("ok").get<bool>()) {
            ++rejected;
            INFO("Laravel rejects it: " << oracle.at("error").get<std::string>());
            CHECK_FALSE(ops_values.has_value());
            continue;
        }
        INFO("ops rejects it: " << ops_error);
        CHECK(ops_values.has_value());
        if (!ops_values) continue;  // every file is checked, not only the first that differs
        const auto& values = oracle.at("values");
        for (const auto& [name, value] : values.items()) {
            INFO("variable " << name);
            CHECK(env_lookup(*ops_values, name, fixed_env) == expected_value(value));
        }
        for (const auto& [name, value] : *ops_values) {
            INFO("ops has a variable Laravel does not mention: " << name);
            CHECK(values.contains(name));
        }
    }
    CHECK(files >= 60);
    CHECK(rejected >= 10);
}

TEST_CASE("env files: a rejected line is named without its text") {
    try {
        parse_env_text("A=1\nDB_PASSWORD=s3cret word\n", ".env", fixed_env);
        FAIL("accepted");
    } catch (const ConfigError& e) {
        const std::string what = e.what();
        CHECK(what.find(".env:2:") != std::string::npos);
        CHECK(what.find("s3cret") == std::string::npos);
    }
}

TEST_CASE("env files: invalid UTF-8 becomes '?' per maximal subpart, as PHP's mbstring") {
    CHECK(php_utf8_scrub("a\x80"
                         "b") == "a?b");
    CHECK(php_utf8_scrub("a\xed\xa0\x80"
                         "b") == "a???b");
    CHECK(php_utf8_scrub("a\xe2\x82"
                         "b") == "a?b");
    CHECK(php_utf8_scrub("a\xc3\xc3\xa9"
                         "b") ==
          "a?\xc3\xa9"
          "b");
    CHECK(php_utf8_scrub("\xf0\x9f\x98") == "?");
}
