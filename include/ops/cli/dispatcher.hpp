#pragma once

namespace ops {

// Parses the command line, runs the selected command through the one start-up sequence
// (config, logging, begin line, connect, lock, execute, run record, end line, summary)
// and returns the exit code. Never throws.
int run_cli(int argc, char** argv);

}  // namespace ops
