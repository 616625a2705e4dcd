// The Laravel .env parser: `--env-file` and the schedule file are text an operator (or
// whoever can write that file) controls.
#include "fuzz_input.hpp"
#include "ops/core/config.hpp"
#include "ops/core/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    try {
        const ops::EnvValues values = ops::parse_env_text(ops_fuzz::text_of(data, size), "fuzz");
        // Whatever it accepts builds a conninfo that libpq can parse back.
        const std::string conninfo = ops::conninfo_from_env(values);
        (void)ops::redact_conninfo(conninfo);
    } catch (const ops::ConfigError&) {
        // a bad line is reported, naming it
    }
    return 0;
}
