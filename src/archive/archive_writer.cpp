#include "ops/archive/archive_writer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

constexpr mode_t kFileMode = 0640;
constexpr std::size_t kChunk = 1 << 16;

class FileDescriptor {
  public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category());
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
}

}  // namespace

void sync_folder(const std::filesystem::path& folder) {
    FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        throw RunFailure("cannot fsync folder '" + folder.string() + "': " + std::strerror(errno));
    }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           mode_t mode) {
    const std::filesystem::path temporary = path.string() + ".tmp";
    try {
        FileDescriptor fd(
            ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (fd.get() < 0) throw std::system_error(errno, std::generic_category());
        // The umask (UMask=0027 in the units) must not take away what node_exporter reads.
        if (::fchmod(fd.get(), mode) != 0) throw std::system_error(errno, std::generic_category());
        write_all(fd.get(), content);
        if (::fsync(fd.get()) != 0) throw std::system_error(errno, std::generic_category());
    } catch (const std::system_error& e) {
        ::unlink(temporary.c_str());
        throw RunFailure("cannot write '" + temporary.string() + "': " + e.code().message());
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        throw RunFailure("cannot rename '" + temporary.string() + "' to '" + path.string() +
                         "': " + std::strerror(errno));
    }
    sync_folder(path.parent_path().empty() ? "." : path.parent_path());
}

ArchiveWriter::ArchiveWriter(std::filesystem::path path, Compression compression)
    : path_(std::move(path)), compression_(compression) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    if (fd_ < 0) fail("create");
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

void ArchiveWriter::check_usable() const {
    if (failed_) {
        throw RunFailure("archive file '" + path_.string() +
                         "' is unusable after an earlier write error");
    }
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
    throw RunFailure(
        "cannot " + action + " archive file '" + path_.string() + "': " + std::strerror(errno),
        "no row was deleted that is not in a synced archive file; free space or fix "
        "permissions, then run again");
}

}  // namespace ops
