#include "cli_fixture.hpp"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>
#include <regex>
#include <sstream>

#include "ops/cli/dispatcher.hpp"
#include "text_files.hpp"

namespace ops_test {
namespace {

// Sets the environment for one run and puts the previous values back afterwards.
class ScopedEnvironment {
  public:
    explicit ScopedEnvironment(const std::map<std::string, std::string>& env) {
        for (const char* name : {"DATABASE_URL", "OPS_DATABASE_URL", "PGHOST", "PGPORT",
                                 "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSERVICE"}) {
            remember(name);
            ::unsetenv(name);
        }
        for (const auto& [name, value] : env) {
            remember(name);
            ::setenv(name.c_str(), value.c_str(), 1);
        }
    }
    ~ScopedEnvironment() {
        for (const auto& [name, value] : saved_) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }
    ScopedEnvironment(const ScopedEnvironment&) = delete;
    ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

  private:
    void remember(const std::string& name) {
        if (saved_.count(name) != 0) return;
        const char* value = std::getenv(name.c_str());
        saved_[name] = value != nullptr ? std::optional<std::string>(value) : std::nullopt;
    }
    std::map<std::string, std::optional<std::string>> saved_;
};

}  // namespace

const std::map<std::string, std::string> kNoDatabase = {
    {"DATABASE_URL", "postgresql://ops_test@127.0.0.1:1/no_database?connect_timeout=1"}};

CliResult run_cli_in_process(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env) {
    const ScopedEnvironment environment(env);
    std::ostringstream out, err;
    CliResult result;
    result.exit_code = ops::run_cli(args, out, err);
    result.out = out.str();
    result.err = err.str();
    UNSCOPED_INFO("ops exit " << result.exit_code << "\nstdout:\n"
                              << result.out << "\nstderr:\n"
                              << result.err);
    return result;
}

void check_usage_error(const CliResult& result, const std::string& names) {
    static const std::regex kLogLine(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [a-z]+: )");
    CHECK(result.exit_code == 2);
    CHECK(result.out.empty());
    std::vector<std::string> errors;
    std::size_t hints = 0, others = 0;
    for (const auto& line : lines_of(result.err)) {
        if (line.rfind("ops: error: ", 0) == 0) {
            errors.push_back(line);
        } else if (line.rfind("HINT: ", 0) == 0) {
            ++hints;
        } else if (!std::regex_search(line, kLogLine)) {
            ++others;  // log lines (the end line "ops X aborted with exit code 2") may be there
        }
    }
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find(names) != std::string::npos);
    CHECK(hints <= 1);
    CHECK(others == 0);
    CHECK(result.err.find("json.exception") == std::string::npos);
    CHECK(result.err.find("SQLSTATE") == std::string::npos);
}

}  // namespace ops_test
