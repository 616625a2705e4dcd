#include "ops/archive/archive_writer.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "ops/core/errors.hpp"
#include "ops/core/files.hpp"

namespace ops {
namespace {

constexpr std::size_t kChunk = 1 << 16;

// An uncompressed file is written (and hashed) in pieces of about this size while a batch is
// appended, not in one batch-sized write at sync(): a piece is still in the CPU's cache when the
// hash and the kernel read it, where a 4 MB batch buffer was read back from memory twice.
// (Measured in docs/BENCHMARKS.md, "Client CPU: ops against psql".)
constexpr std::size_t kWritePiece = std::size_t{128} * 1024;

// Raw CR/LF can only be insignificant JSON whitespace here; memchr finds the rare ones
// without a byte-by-byte loop over every line.
void blank_line_breaks(char* begin, char* end) {
    for (const char c : {'\n', '\r'}) {
        for (char* at = begin; at < end; ++at) {
            at = static_cast<char*>(std::memchr(at, c, static_cast<std::size_t>(end - at)));
            if (at == nullptr) break;
            *at = ' ';
        }
    }
}

// A run's batches are libpq results of a few MB each, freed and allocated again batch after
// batch. By default glibc hands the freed top of the heap back to the kernel every time and the
// next batch faults it in again, page by page (about a third of the client's system time on 1M
// rows, docs/BENCHMARKS.md). Every archive file is written through a writer, so it says once,
// before the first batch, to keep freed memory for reuse: a run then holds about its largest
// batches.
void keep_freed_memory() {
    static const bool kept = [] {
        mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // batch buffers from the heap, not mmap
        mallopt(M_TRIM_THRESHOLD, 256 * 1024 * 1024);
        return true;
    }();
    (void)kept;
}

}  // namespace

ArchiveWriter::ArchiveWriter(std::filesystem::path path, Compression compression)
    : path_(std::move(path)), compression_(compression) {
    keep_freed_memory();
    try {
        fd_ = create_exclusive(path_, kPrivateFileMode).release();
    } catch (const std::system_error& e) {
        errno = e.code().value();
        fail("create");
    }
    if (compression_ == Compression::kGzip) {
        // windowBits 15 + 16: a gzip header, so the file is a plain .gz that zcat reads.
        if (deflateInit2(&zstream_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                         Z_DEFAULT_STRATEGY) != Z_OK) {
            fail("initialise gzip for");
        }
    }
}

ArchiveWriter::~ArchiveWriter() {
    if (compression_ == Compression::kGzip) deflateEnd(&zstream_);
    if (fd_ >= 0) ::close(fd_);
}

// Every later use reports the first error again, so whichever batch's failure is reported
// (with --parallel another batch may reach the file before the first one's rollback ends),
// the real cause ("File too large") is the message.
void ArchiveWriter::check_usable() const {
    if (failed_) throw RunFailure(first_error_, first_hint_);
}

void ArchiveWriter::append_line(std::string_view json) {
    check_usable();
    const std::size_t start = pending_.size();
    pending_.append(json);
    blank_line_breaks(pending_.data() + start, pending_.data() + pending_.size());
    pending_ += '\n';
    ++lines_;
    // Written, not yet durable: the rows behind these lines stay until sync() returns.
    if (compression_ == Compression::kNone && pending_.size() >= kWritePiece) {
        write_to_file(pending_);
        pending_.clear();
    }
}

void ArchiveWriter::sync() {
    check_usable();
    if (compression_ == Compression::kGzip) {
        deflate_buffer(finished_ ? Z_FINISH : Z_SYNC_FLUSH);
    } else {
        write_to_file(pending_);
    }
    pending_.clear();
    if (::fdatasync(fd_) != 0) fail("fsync");
    if (!folder_synced_) {
        sync_folder(path_.parent_path().empty() ? "." : path_.parent_path());
        folder_synced_ = true;
    }
}

void ArchiveWriter::write_back() {
    check_usable();
    if (compression_ == Compression::kGzip) {
        deflate_buffer(Z_NO_FLUSH);
    } else {
        write_to_file(pending_);
    }
    pending_.clear();
    // Only a hint to the kernel: a failure to start writeback changes nothing that sync()
    // does not report.
    (void)::sync_file_range(fd_, 0, 0, SYNC_FILE_RANGE_WRITE);
}

void ArchiveWriter::finish() {
    finished_ = true;
    sync();
}

void ArchiveWriter::deflate_buffer(int flush) {
    zstream_.next_in = reinterpret_cast<Bytef*>(pending_.data());
    zstream_.avail_in = static_cast<uInt>(pending_.size());
    compressed_.resize(kChunk);
    int status = Z_OK;
    do {
        zstream_.next_out = reinterpret_cast<Bytef*>(compressed_.data());
        zstream_.avail_out = static_cast<uInt>(compressed_.size());
        status = deflate(&zstream_, flush);
        if (status == Z_STREAM_ERROR) fail("compress");
        write_to_file(
            std::string_view(compressed_.data(), compressed_.size() - zstream_.avail_out));
    } while (zstream_.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END));
}

void ArchiveWriter::write_to_file(std::string_view bytes) {
    try {
        write_all(fd_, bytes);
    } catch (const std::system_error& e) {
        errno = e.code().value();
        fail("write to");
    }
    digest_.update(bytes);
    bytes_on_disk_ += bytes.size();
}

void ArchiveWriter::fail(const std::string& action) {
    failed_ = true;
    first_error_ =
        "cannot " + action + " archive file '" + path_.string() + "': " + std::strerror(errno);
    first_hint_ =
        "no row was deleted that is not in a synced archive file; free space or fix "
        "permissions, then run again";
    throw RunFailure(first_error_, first_hint_);
}

}  // namespace ops
