#pragma once

#include <sys/types.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "ops/archive/sha256.hpp"

namespace ops {

enum class Compression { kNone, kGzip };

// Appends JSON lines to a new archive file and makes them durable on demand.
// Nothing written counts until sync() returns: only then may the rows behind the lines
// be deleted. (An uncompressed file may receive lines before that, in 128 KiB pieces, while
// they are still in the CPU's cache; a kill -9 then leaves lines whose rows are still in the
// table, as a kill between sync() and the commit always could.) The file is created
// exclusively (never overwrites) and not world-readable.
class ArchiveWriter {
  public:
    ArchiveWriter(std::filesystem::path path, Compression compression);
    ~ArchiveWriter();
    ArchiveWriter(const ArchiveWriter&) = delete;
    ArchiveWriter& operator=(const ArchiveWriter&) = delete;

    // One row as one line. Raw CR/LF can only be insignificant JSON whitespace (PostgreSQL
    // stores a pretty-printed json column as given), so they become spaces: the line stays
    // one line and still parses to the same value.
    void append_line(std::string_view json);

    // Writes what is buffered (gzip: a sync flush, so the file decodes up to here), then
    // fdatasync()s the file and, the first time, its folder. Throws RunFailure on I/O errors.
    void sync();

    // Writes what is buffered (gzip: without a flush) and starts the kernel writing it out
    // (sync_file_range, as PostgreSQL's *_flush_after do), without waiting and without a
    // device cache flush: a long copy's file reaches the disk as it goes, in small writes,
    // and is made durable once, by finish(). Throws RunFailure on I/O errors.
    void write_back();

    // Ends the gzip stream and syncs. The writer is unusable afterwards.
    void finish();

    const std::filesystem::path& path() const { return path_; }
    std::uint64_t lines() const { return lines_; }
    std::uint64_t bytes_on_disk() const { return bytes_on_disk_; }
    std::string sha256() const { return digest_.hex(); }

  private:
    void deflate_buffer(int flush);
    void write_to_file(std::string_view bytes);
    [[noreturn]] void fail(const std::string& action);
    void check_usable() const;

    std::filesystem::path path_;
    Compression compression_;
    int fd_ = -1;
    z_stream zstream_{};
    std::string pending_;     // lines not yet handed to the file
    std::string compressed_;  // scratch buffer for deflate output
    std::uint64_t lines_ = 0;
    std::uint64_t bytes_on_disk_ = 0;
    bool folder_synced_ = false;
    bool finished_ = false;
    bool failed_ = false;  // after a failed write the file may end mid-line: append nothing more
    std::string first_error_;  // what failed first, reported again by every later use
    std::string first_hint_;
    Sha256 digest_;
};

}  // namespace ops
