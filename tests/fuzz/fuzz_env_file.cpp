// The Laravel .env parser: `--env-file` and the schedule file are text an operator (or
// whoever can write that file) controls.
#include "fuzz_input.hpp"
#include "ops/core/config.hpp"
#include "ops/core/env_file.hpp"
#include "ops/core/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        // The file alone decides (no process environment), so every run is repeatable.
        const ops::EnvValues values =
            ops::parse_env_text(ops_fuzz::text_of(data, size), "fuzz", ops::no_env);
        // Whatever it accepts builds a conninfo that redaction handles.
        const std::string conninfo = ops::conninfo_from_env(values, ops::no_env);
        (void)ops::redact_conninfo(conninfo);
    } catch (const ops::Error&) {
        // a bad line (or a DB_CONNECTION other than pgsql) is reported, naming it
    }
    return 0;
}
