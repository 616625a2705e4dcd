#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ops/archive/archive_line.hpp"

namespace ops {

// One line of an archive file, classified. A line is whole only when it ends in a newline
// and is a JSON object with an integer `id`; an unterminated last line is torn (the tail a
// kill -9 left); any other line is bad (`problem` says why).
struct ArchiveLine {
    std::string text;  // without the newline
    bool whole = false;
    bool terminated = true;
    std::int64_t id = 0;
    std::int64_t number = 0;        // 1-based line number in the (decompressed) file
    std::vector<LineField> fields;  // the members of a whole line, positions into `text`
    std::string problem;            // why a line is not whole
};

// How the file's byte stream ended.
enum class StreamEnd {
    kClean,      // end of file (of the gzip stream and its trailer)
    kTruncated,  // a gzip stream cut short: what an interrupted run leaves
    kCorrupt,    // undecodable gzip data or a bad checksum: damage
};

// Reads an archive file line by line, plain or gzip (zlib reads both). A gzip stream cut
// short by a crash yields what was flushed before it; end() then tells a cut from damage.
class ArchiveReader {
  public:
    explicit ArchiveReader(const std::filesystem::path& path);  // throws RunFailure
    ~ArchiveReader();
    ArchiveReader(const ArchiveReader&) = delete;
    ArchiveReader& operator=(const ArchiveReader&) = delete;

    std::optional<ArchiveLine> next();
    bool next(ArchiveLine& line);  // the same, reusing the line's buffers

    // Valid once next() returned nothing.
    StreamEnd end() const { return end_; }
    const std::string& end_detail() const { return end_detail_; }

  private:
    bool fill();

    gzFile file_;
    std::string buffer_;
    std::size_t position_ = 0;
    std::int64_t lines_ = 0;
    bool eof_ = false;
    StreamEnd end_ = StreamEnd::kClean;
    std::string end_detail_;
};

// Classifies one line's text (what next() does after splitting lines).
void classify_line(ArchiveLine& line);

// Size and SHA-256 of a file's bytes as stored (compressed bytes for .gz).
struct FileDigest {
    std::uint64_t bytes = 0;
    std::string sha256;
};
FileDigest digest_file(const std::filesystem::path& path);

}  // namespace ops
