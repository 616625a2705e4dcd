#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

// Creating files safely as root in folders other users may write to: every file is created
// exclusively (O_CREAT|O_EXCL|O_NOFOLLOW), so a link or file planted at its name, or at its
// temporary name, is never followed or reused; its mode is set exactly, whatever the umask.
namespace ops {

// Modes of the files ops creates. Metrics hold counts that node_exporter (its own user) must
// read; archive data and manifests hold application data and stay unreadable by others.
constexpr mode_t kPublicFileMode = 0644;   // metrics textfiles, systemd units
constexpr mode_t kPrivateFileMode = 0640;  // archive data files and manifests

// An owned file descriptor, closed on destruction.
class FileDescriptor {
  public:
    explicit FileDescriptor(int fd = -1) : fd_(fd) {}
    ~FileDescriptor();
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;

    int get() const { return fd_; }
    int release();

  private:
    int fd_;
};

// Creates `path` for writing; fails (std::system_error, EEXIST or ELOOP) if anything,
// a symbolic link included, already has that name. The mode is exactly `mode`.
FileDescriptor create_exclusive(const std::filesystem::path& path, mode_t mode);

// Writes all of `bytes`, retrying short writes and EINTR; throws std::system_error.
void write_all(int fd, std::string_view bytes);

// Writes `content` to `path` atomically: an exclusively created temporary file with an
// unpredictable name in the same folder, fsync, rename over `path`, folder fsync. A link
// planted at `path` is replaced, never followed. Throws RunFailure naming the file.
void write_file_atomically(const std::filesystem::path& path, std::string_view content,
                           mode_t mode);

// Fsyncs a folder so that a file created or renamed in it survives a power loss.
void sync_folder(const std::filesystem::path& folder);

}  // namespace ops
