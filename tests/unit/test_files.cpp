// core/files: every file is created exclusively and never through a planted link.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ops/core/errors.hpp"
#include "ops/core/files.hpp"
#include "scratch_dir.hpp"

using namespace ops;
namespace fs = std::filesystem;

using ops_test::file_bytes;
using ops_test::mode_of;
using ops_test::ScratchDir;

TEST_CASE("write_file_atomically replaces a link at the name instead of following it") {
    ScratchDir s;
    const fs::path victim = s.path() / "victim";
    std::ofstream(victim) << "precious";
    fs::create_symlink(victim, s.path() / "out.prom");
    fs::create_symlink(victim, s.path() / "out.prom.tmp");  // the temporary name of old
    write_file_atomically(s.path() / "out.prom", "metrics\n", kPublicFileMode);
    CHECK(file_bytes(victim) == "precious");
    CHECK(S_ISREG(mode_of(s.path() / "out.prom")));
    CHECK(file_bytes(s.path() / "out.prom") == "metrics\n");
    CHECK(fs::is_symlink(s.path() / "out.prom.tmp"));
}

TEST_CASE("files get exactly their mode, whatever the umask") {
    ScratchDir s;
    const mode_t old = ::umask(077);
    write_file_atomically(s.path() / "public", "x", kPublicFileMode);
    { FileDescriptor fd = create_exclusive(s.path() / "private", kPrivateFileMode); }
    ::umask(0);
    write_file_atomically(s.path() / "private2", "x", kPrivateFileMode);
    ::umask(old);
    CHECK((mode_of(s.path() / "public") & 07777) == 0644);
    CHECK((mode_of(s.path() / "private") & 07777) == 0640);
    CHECK((mode_of(s.path() / "private2") & 07777) == 0640);
}

TEST_CASE("create_exclusive refuses an existing name and a dangling link") {
    ScratchDir s;
    std::ofstream(s.path() / "taken") << "x";
    fs::create_symlink(s.path() / "nowhere", s.path() / "dangling");
    CHECK_THROWS_AS(create_exclusive(s.path() / "taken", kPrivateFileMode), std::system_error);
    CHECK_THROWS_AS(create_exclusive(s.path() / "dangling", kPrivateFileMode), std::system_error);
    CHECK(!fs::exists(s.path() / "nowhere"));  // the link was not followed to create its target
    CHECK(file_bytes(s.path() / "taken") == "x");
}

TEST_CASE("a failed atomic write leaves no temporary behind and names the file") {
    ScratchDir s;
    CHECK_THROWS_AS(write_file_atomically(s.path() / "missing-folder" / "f", "x", kPublicFileMode),
                    RunFailure);
    fs::create_directory(s.path() / "f");  // a folder where the file should go: rename fails
    CHECK_THROWS_WITH(write_file_atomically(s.path() / "f", "x", kPublicFileMode),
                      Catch::Contains("cannot rename"));
    int entries = 0;
    for (const auto& entry : fs::directory_iterator(s.path())) {
        (void)entry;
        ++entries;
    }
    CHECK(entries == 1);  // only the folder
}
