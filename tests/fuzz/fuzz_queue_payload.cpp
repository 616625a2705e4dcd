// The application's own `jobs.payload` rows: ops reads them to detect which Laravel payload form
// the application writes and to compare its job settings with ops's. Any bytes a row can hold
// are either recognised or refused, never a crash; a recognised form is one ops writes
// consistently.
#include "fuzz_input.hpp"
#include "ops/queue/job_settings.hpp"
#include "ops/queue/laravel_job_payload.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string payload = ops_fuzz::text_of(data, size);
    const auto form = ops::detect_payload_form(payload);
    if (form) {
        // What ops writes in that form is detected as a form ops writes with the same bytes
        // (the forms of SerializesModels classes differ only in properties they leave out).
        const auto build = [](const ops::PayloadForm& f) {
            return ops::LaravelJobPayload(std::nullopt, {}, f)
                .build("8c3a2e1f-0b4d-4e5f-9a6b-7c8d9e0f1a2b", 1, 1);
        };
        const std::string written = build(*form);
        const auto again = ops::detect_payload_form(written);
        ops_fuzz::require(again && build(*again) == written);
    }
    (void)ops::job_settings_mismatches(payload, {});
    return 0;
}
