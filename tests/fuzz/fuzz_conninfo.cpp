// Conninfo redaction: whatever --database-url, DATABASE_URL or the env file holds, no value of
// an option libpq calls secret reaches a log line.
#include <libpq-fe.h>

#include <memory>

#include "fuzz_input.hpp"
#include "ops/core/config.hpp"

namespace {

struct OptionsDeleter {
    void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string conninfo = ops_fuzz::text_of(data, size);
    if (conninfo.find('\0') != std::string::npos) return 0;  // no C string holds it
    const std::string redacted = ops::redact_conninfo(conninfo);
    const bool secret = ops::conninfo_has_secret(conninfo);
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, OptionsDeleter> options(
        PQconninfoParse(conninfo.c_str(), &error));
    if (error != nullptr) PQfreemem(error);
    if (!options) {
        ops_fuzz::require(!secret);
        return 0;
    }
    // Every option with a value, in libpq's order; a secret one as "keyword=***".
    std::string expected;
    bool any_secret = false;
    for (auto* o = options.get(); o->keyword != nullptr; ++o) {
        if (o->val == nullptr || *o->val == '\0') continue;
        const bool is_secret = o->dispchar != nullptr && std::string(o->dispchar) == "*";
        any_secret = any_secret || is_secret;
        if (!expected.empty()) expected += ' ';
        expected += std::string(o->keyword) + "=" + (is_secret ? std::string("***") : o->val);
    }
    ops_fuzz::require(secret == any_secret);
    ops_fuzz::require(conninfo.empty() || redacted == expected);
    return 0;
}
