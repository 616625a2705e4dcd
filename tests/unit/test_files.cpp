// core/files: every file is created exclusively and never through a planted link.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ops/core/errors.hpp"
#include "ops/core/files.hpp"

using namespace ops;
namespace fs = std::filesystem;

namespace {

struct Scratch {
    fs::path dir;
    Scratch() {
        char pattern[] = "/tmp/ops-files-XXXXXX";
        dir = ::mkdtemp(pattern);
    }
    ~Scratch() { fs::remove_all(dir); }
};

std::string content_of(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

mode_t mode_of(const fs::path& path) {
    struct stat st {};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    return st.st_mode;
}

}  // namespace

TEST_CASE("write_file_atomically replaces a link at the name instead of following it") {
    Scratch s;
    const fs::path victim = s.dir / "victim";
    std::ofstream(victim) << "precious";
    fs::create_symlink(victim, s.dir / "out.prom");
    fs::create_symlink(victim, s.dir / "out.prom.tmp");  // the temporary name of old
    write_file_atomically(s.dir / "out.prom", "metrics\n", kPublicFileMode);
    CHECK(content_of(victim) == "precious");
    CHECK(S_ISREG(mode_of(s.dir / "out.prom")));
    CHECK(content_of(s.dir / "out.prom") == "metrics\n");
    CHECK(fs::is_symlink(s.dir / "out.prom.tmp"));
}

TEST_CASE("files get exactly their mode, whatever the umask") {
    Scratch s;
    const mode_t old = ::umask(077);
    write_file_atomically(s.dir / "public", "x", kPublicFileMode);
    { FileDescriptor fd = create_exclusive(s.dir / "private", kPrivateFileMode); }
    ::umask(0);
    write_file_atomically(s.dir / "private2", "x", kPrivateFileMode);
    ::umask(old);
    CHECK((mode_of(s.dir / "public") & 07777) == 0644);
    CHECK((mode_of(s.dir / "private") & 07777) == 0640);
    CHECK((mode_of(s.dir / "private2") & 07777) == 0640);
}

TEST_CASE("create_exclusive refuses an existing name and a dangling link") {
    Scratch s;
    std::ofstream(s.dir / "taken") << "x";
    fs::create_symlink(s.dir / "nowhere", s.dir / "dangling");
    CHECK_THROWS_AS(create_exclusive(s.dir / "taken", kPrivateFileMode), std::system_error);
    CHECK_THROWS_AS(create_exclusive(s.dir / "dangling", kPrivateFileMode), std::system_error);
    CHECK(!fs::exists(s.dir / "nowhere"));  // the link was not followed to create its target
    CHECK(content_of(s.dir / "taken") == "x");
}

TEST_CASE("a failed atomic write leaves no temporary behind and names the file") {
    Scratch s;
    CHECK_THROWS_AS(write_file_atomically(s.dir / "missing-folder" / "f", "x", kPublicFileMode),
                    RunFailure);
    fs::create_directory(s.dir / "f");  // a folder where the file should go: rename fails
    CHECK_THROWS_WITH(write_file_atomically(s.dir / "f", "x", kPublicFileMode),
                      Catch::Contains("cannot rename"));
    int entries = 0;
    for (const auto& entry : fs::directory_iterator(s.dir)) {
        (void)entry;
        ++entries;
    }
    CHECK(entries == 1);  // only the folder
}
