#include "ops/core/files.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "ops/core/errors.hpp"
#include "ops/core/text.hpp"

namespace ops {
namespace {

[[noreturn]] void throw_errno() { throw std::system_error(errno, std::generic_category()); }

// 16 random hex digits from the kernel: a temporary name an attacker cannot plant in advance
// (and if one guessed it, O_EXCL would refuse it rather than follow it).
std::string random_suffix() {
    unsigned char bytes[8];
    std::size_t filled = 0;
    while (filled < sizeof bytes) {
        const ssize_t got = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            throw_errno();
        }
        filled += static_cast<std::size_t>(got);
    }
    return hex_of(bytes, sizeof bytes);
}

}  // namespace

FileDescriptor::~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
}

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

int FileDescriptor::release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

FileDescriptor create_exclusive(const std::filesystem::path& path, mode_t mode) {
    FileDescriptor fd(
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (fd.get() < 0) throw_errno();
    // The umask may have narrowed the mode (or, for a public file, root's umask 077 would
    // hide metrics from node_exporter): set exactly what was asked.
    if (::fchmod(fd.get(), mode) != 0) throw_errno();
    return fd;
}

void write_all(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        const ssize_t written = ::write(fd, bytes.data(), bytes.size());
        if (written < 0) {
            if (errno == EINTR) continue;
            throw_errno();
        }
        bytes.remove_prefix(static_cast<std::size_t>(written));
    }
}

void sync_folder(const std::filesystem::path& folder) {
    FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
        throw RunFailure("cannot fsync folder '" + folder.string() + "': " + std::strerror(errno));
    }
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           mode_t mode) {
    std::filesystem::path temporary = path;
    temporary += ".tmp." + random_suffix();
    try {
        FileDescriptor fd = create_exclusive(temporary, mode);
        write_all(fd.get(), content);
        if (::fsync(fd.get()) != 0) throw_errno();
    } catch (const std::system_error& e) {
        // Only a file this call created is removed: after EEXIST the name is someone else's.
        if (e.code().value() != EEXIST && e.code().value() != ELOOP) ::unlink(temporary.c_str());
        throw RunFailure("cannot write '" + temporary.string() + "': " + e.code().message());
    }
    // rename() replaces whatever has the final name, a symbolic link included, without
    // following it.
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        throw RunFailure("cannot rename '" + temporary.string() + "' to '" + path.string() +
                         "': " + std::strerror(error));
    }
    sync_folder(path.parent_path().empty() ? "." : path.parent_path());
}

}  // namespace ops
