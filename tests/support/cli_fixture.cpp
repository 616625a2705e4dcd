#include "cli_fixture.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <regex>

#include "ops/cli/dispatcher.hpp"
#include "text_files.hpp"

namespace ops_test {
namespace {

// One standard stream (1 or 2) pointed at an unlinked temporary file while alive; text()
// reads back what was written. Both C stdio and iostreams are flushed at each end, so
// nothing written before leaks in and nothing written during leaks out.
class CapturedStream {
  public:
    explicit CapturedStream(int fd) : fd_(fd), file_(std::tmpfile()) {
        REQUIRE(file_ != nullptr);
        flush_all();
        saved_ = ::dup(fd_);
        REQUIRE(saved_ >= 0);
        REQUIRE(::dup2(::fileno(file_), fd_) >= 0);
    }
    ~CapturedStream() {
        restore();
        std::fclose(file_);
    }
    CapturedStream(const CapturedStream&) = delete;
    CapturedStream& operator=(const CapturedStream&) = delete;

    std::string text() {
        restore();
        std::string bytes;
        std::rewind(file_);
        char buffer[4096];
        for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file_)) > 0;) {
            bytes.append(buffer, n);
        }
        return bytes;
    }

  private:
    static void flush_all() {
        std::cout.flush();
        std::cerr.flush();
        std::fflush(stdout);
        std::fflush(stderr);
    }
    void restore() {
        if (saved_ < 0) return;
        flush_all();
        ::dup2(saved_, fd_);
        ::close(saved_);
        saved_ = -1;
    }

    int fd_;
    std::FILE* file_;
    int saved_ = -1;
};

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
    std::vector<std::string> argv_strings = {"ops"};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);

    const ScopedEnvironment environment(env);
    CliResult result;
    CapturedStream out(STDOUT_FILENO);
    CapturedStream err(STDERR_FILENO);
    result.exit_code = ops::run_cli(static_cast<int>(argv_strings.size()), argv.data());
    result.out = out.text();
    result.err = err.text();
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
