// DB_URL / DATABASE_URL: a URL in the application's env file (which whoever deploys the
// application writes) becomes the conninfo ops connects with. Whatever it holds, ops either
// refuses it with a ConfigError or builds a conninfo libpq parses, for every Laravel version
// rule (DB_URL from 11, DATABASE_URL before).
#include <libpq-fe.h>

#include "fuzz_input.hpp"
#include "ops/core/errors.hpp"
#include "ops/core/laravel_database.hpp"

namespace {

void require_libpq_parses(const std::string& conninfo) {
    if (conninfo.empty()) return;
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (error != nullptr) PQfreemem(error);
    ops_fuzz::require(options != nullptr);
    PQconninfoFree(options);
}

void check(const ops::EnvValues& env, const std::optional<ops::LaravelVersion>& version) {
    try {
        require_libpq_parses(ops::laravel_database(env, ops::no_env, version).conninfo);
    } catch (const ops::Error&) {
        // refused, naming the setting
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string url = ops_fuzz::text_of(data, size);
    if (url.find('\0') != std::string::npos) return 0;  // an env value holds no NUL
    const ops::EnvValues env{{"DB_URL", url}, {"DATABASE_URL", url}, {"DB_HOST", "h"},
                             {"DB_DATABASE", "d"}, {"DB_PASSWORD", "p'w\\"}};
    check(env, std::nullopt);
    check(env, ops::LaravelVersion{10, 48, 0});
    check(env, ops::LaravelVersion{11, 0, 0});
    return 0;
}
