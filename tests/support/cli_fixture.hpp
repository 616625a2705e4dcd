#pragma once

// The ops CLI run inside the test process: the entry point main() calls
// (ops::run_cli(arguments, out, err)), with the arguments given, a controlled environment,
// and what it writes for stdout and stderr captured. A usage-error table row costs microseconds
// instead of a process start, a database and a connection attempt. One run at a time (logging and
// the stop flag are process-wide).
#include <map>
#include <string>
#include <vector>

namespace ops_test {

struct CliResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `ops ARGS...` in process. The connection settings of the caller's environment
// (DATABASE_URL, OPS_DATABASE_URL, PG*) are removed for the run and `env` is set instead;
// everything is restored afterwards.
CliResult run_cli_in_process(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env = {});

// A connection nothing listens on: a usage error must be decided before ops connects, so a
// row that reached the database would end in 69, not 2.
extern const std::map<std::string, std::string> kNoDatabase;

// Checks what every usage error shows a user: exit 2, nothing on stdout, and on stderr
// exactly one error line, "ops: error: ..." containing `names` (the option and the accepted
// form), optionally followed by one HINT line.
void check_usage_error(const CliResult& result, const std::string& names);

}  // namespace ops_test
