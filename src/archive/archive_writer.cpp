#include "ops/archive/archive_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "ops/core/errors.hpp"
#include "ops/core/files.hpp"

namespace ops {
namespace {

constexpr std::size_t kChunk = 1 << 16;

}  // namespace

ArchiveWriter::ArchiveWriter(std::filesystem::path path, Compression compression)
    : path_(std::move(path)), compression_(compression) {
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
    std::replace_if(
        pending_.begin() + static_cast<std::ptrdiff_t>(start), pending_.end(),
        [](char c) { return c == '\n' || c == '\r'; }, ' ');
    pending_ += '\n';
    ++lines_;
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
