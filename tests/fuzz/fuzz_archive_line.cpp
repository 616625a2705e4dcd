// The archive line reader that `audit verify` and `audit restore` use on files a crash, a
// full disk or another user may have left in any state, plain or gzip, and the line scanner
// under it, which must accept any JSON object PostgreSQL's json accepts and nothing else.
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "ops/archive/archive_line.hpp"
#include "ops/archive/archive_reader.hpp"
#include "ops/core/errors.hpp"

namespace {

// Every member's positions lie inside the line, in order, and its id is the one reported.
void require_sound_fields(const ops::ArchiveLine& line) {
    std::size_t previous_end = 0;
    for (const auto& field : line.fields) {
        ops_fuzz::require(field.raw_begin <= field.begin && field.begin < field.end);
        ops_fuzz::require(field.end <= field.raw_end && field.raw_end <= line.text.size());
        ops_fuzz::require(previous_end <= field.raw_begin);
        previous_end = field.raw_end;
    }
    ops_fuzz::require(ops::line_id(line.text, line.fields) == line.id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::vector<ops::LineField> fields;
    std::string error;
    if (!ops::parse_archive_line(text, fields, error)) ops_fuzz::require(!error.empty());

    const ops_fuzz::MemoryFile file(data, size);
    try {
        ops::ArchiveReader reader(file.path());
        while (const auto line = reader.next()) {
            if (line->whole) require_sound_fields(*line);
        }
    } catch (const ops::RunFailure&) {
        // an unreadable file is reported
    }
    return 0;
}
