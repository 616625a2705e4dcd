#pragma once

// `promtool check metrics` (Prometheus's own linter of the text exposition format) on a
// metrics file, as docs/OBSERVABILITY_BASELINE.md tells operators to run it.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "harness.hpp"

namespace ops_test {

inline std::string promtool_path() {
    const char* value = std::getenv("OPS_PROMTOOL");
    return value != nullptr && *value != '\0' ? value : OPS_PROMTOOL;
}

// promtool `args...`, with `stdin_file` as its standard input when given; fails the test on a
// non-zero exit or a lint finding.
inline void promtool(const std::vector<std::string>& args, const std::string& stdin_file = "") {
    std::vector<std::string> argv = {
        "/bin/sh", "-c",
        stdin_file.empty() ? "exec \"$0\" \"$@\"" : "exec \"$0\" \"$@\" < \"$OPS_PROMTOOL_STDIN\"",
        promtool_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto result = Process(argv, {{"OPS_PROMTOOL_STDIN", stdin_file}}).wait();
    INFO("promtool " << args.at(0) << " " << args.at(1) << " " << stdin_file << ":\n"
                     << result.out << result.err);
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("WARNING") == std::string::npos);  // lint findings
    CHECK(result.err.find("WARNING") == std::string::npos);
}

inline void check_metrics_file(const std::filesystem::path& file) {
    INFO(file << ":\n" << read_file(file));
    promtool({"check", "metrics"}, file.string());
}

}  // namespace ops_test
