#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace ops {

// Parses the command line, runs the selected command through its one Run (validate, config,
// logging, begin line, connect, lock, execute, then finish: run record, summary, end line,
// metrics) and returns the exit code. Never throws.
//
// `arguments` are those after the program name ({"audit", "archive", "--dry-run"}). What ops
// prints on stdout (summary, product, help) goes to `out`; log lines and the error report go
// to `err`. For main() and for in-process tests of the CLI; one run at a time per process
// (logging and the stop flag are process-wide).
int run_cli(const std::vector<std::string>& arguments, std::ostream& out, std::ostream& err);

// run_cli(argv[1..], std::cout, std::cerr).
int run_cli(int argc, char** argv);

}  // namespace ops
