// The archive line reader that `audit verify` and `audit restore` use on files a crash, a
// full disk or another user may have left in any state, plain or gzip.
#include "fuzz_input.hpp"
#include "ops/archive/archive_reader.hpp"
#include "ops/core/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ops_fuzz::MemoryFile file(data, size);
    try {
        ops::ArchiveReader reader(file.path());
        while (const auto line = reader.next()) {
            // A whole line is an object with an integer id; a torn one carries no value.
            if (line->whole) {
                ops_fuzz::require(line->value.is_object());
                ops_fuzz::require(line->value.at("id").get<std::int64_t>() == line->id);
            }
        }
    } catch (const ops::RunFailure&) {
        // an unreadable file is reported
    }
    return 0;
}
