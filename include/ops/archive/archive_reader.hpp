#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace ops {

// One line of an archive file, classified. A line is whole only when it ends in a newline
// and parses as a JSON object with an integer `id`; anything else (the tail a kill -9
// left, garbage) is torn.
struct ArchiveLine {
    std::string text;  // without the newline
    bool whole = false;
    std::int64_t id = 0;
    nlohmann::json value;  // the parsed object of a whole line
};

// Reads an archive file line by line, plain or gzip (zlib reads both). A gzip stream cut
// short by a crash yields what was flushed before it.
class ArchiveReader {
  public:
    explicit ArchiveReader(const std::filesystem::path& path);  // throws RunFailure
    ~ArchiveReader();
    ArchiveReader(const ArchiveReader&) = delete;
    ArchiveReader& operator=(const ArchiveReader&) = delete;

    std::optional<ArchiveLine> next();

  private:
    bool fill();

    gzFile file_;
    std::string buffer_;
    std::size_t position_ = 0;
    bool eof_ = false;
};

// Size and SHA-256 of a file's bytes as stored (compressed bytes for .gz).
struct FileDigest {
    std::uint64_t bytes = 0;
    std::string sha256;
};
FileDigest digest_file(const std::filesystem::path& path);

}  // namespace ops
