// ArchiveWriter through a real temporary folder: appends, the durability boundary (nothing is
// on disk before sync(), everything appended is after it), gzip that decodes up to each sync,
// exclusive creation that refuses an existing file and a planted link, and the first error
// reported again by every later use.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "ops/archive/archive_reader.hpp"
#include "ops/archive/archive_writer.hpp"
#include "ops/archive/sha256.hpp"
#include "ops/core/errors.hpp"
#include "scratch_dir.hpp"

using namespace ops;
using ops_test::file_bytes;
using ops_test::ScratchDir;
namespace fs = std::filesystem;

namespace {

std::string sha256_of(const std::string& bytes) {
    Sha256 hash;
    hash.update(bytes);
    return hash.hex();
}

struct Decoded {
    std::vector<std::string> lines;
    StreamEnd end = StreamEnd::kClean;
};

Decoded read_back(const fs::path& path) {
    ArchiveReader reader(path);
    Decoded decoded;
    while (const auto line = reader.next()) decoded.lines.push_back(line->text);
    decoded.end = reader.end();
    return decoded;
}

// Writes beyond `bytes` fail with EFBIG ("File too large") instead of raising SIGXFSZ, for
// the lifetime of this object: the disk-full path without filling a disk.
class FileSizeLimit {
  public:
    explicit FileSizeLimit(rlim_t bytes) {
        previous_handler_ = ::signal(SIGXFSZ, SIG_IGN);
        ::getrlimit(RLIMIT_FSIZE, &previous_);
        rlimit limit = previous_;
        limit.rlim_cur = bytes;
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &previous_);
        ::signal(SIGXFSZ, previous_handler_);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

  private:
    rlimit previous_{};
    sighandler_t previous_handler_ = SIG_DFL;
};

}  // namespace

TEST_CASE("archive writer: nothing is on disk before sync(), every appended line after it") {
    ScratchDir dir;
    const auto path = dir / "a.jsonl";
    ArchiveWriter writer(path, Compression::kNone);
    CHECK(fs::exists(path));
    CHECK((fs::status(path).permissions() & fs::perms::all) ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    writer.append_line(R"({"id":1})");
    writer.append_line(R"({"id":2})");
    CHECK(writer.lines() == 2);
    CHECK(fs::file_size(path) == 0);  // buffered: not yet durable, so no row may go
    CHECK(writer.bytes_on_disk() == 0);
    writer.sync();
    CHECK(file_bytes(path) == "{\"id\":1}\n{\"id\":2}\n");
    CHECK(writer.bytes_on_disk() == fs::file_size(path));
    writer.append_line(R"({"id":3})");
    CHECK(file_bytes(path) == "{\"id\":1}\n{\"id\":2}\n");
    writer.finish();
    const std::string bytes = file_bytes(path);
    CHECK(bytes == "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n");
    CHECK(writer.lines() == 3);
    CHECK(writer.bytes_on_disk() == bytes.size());
    CHECK(writer.sha256() == sha256_of(bytes));
}

TEST_CASE(
    "archive writer: write_back() hands lines to the file as it goes, same bytes at the end") {
    ScratchDir dir;
    for (const auto compression : {Compression::kNone, Compression::kGzip}) {
        const auto streamed = dir / (compression == Compression::kGzip ? "s.jsonl.gz" : "s.jsonl");
        const auto synced = dir / (compression == Compression::kGzip ? "o.jsonl.gz" : "o.jsonl");
        ArchiveWriter stream(streamed, compression), once(synced, compression);
        std::vector<std::string> lines;
        for (int i = 1; i <= 3000; ++i) {
            lines.push_back(R"({"id":)" + std::to_string(i) + R"(,"event":"order.created"})");
            stream.append_line(lines.back());
            once.append_line(lines.back());
            if (i % 1000 == 0) stream.write_back();
        }
        if (compression == Compression::kNone) CHECK(fs::file_size(streamed) > 0);
        stream.finish();
        once.finish();
        CHECK(file_bytes(streamed) == file_bytes(synced));
        CHECK(stream.sha256() == once.sha256());
        CHECK(stream.lines() == 3000);
        CHECK(read_back(streamed).lines == lines);
        CHECK(read_back(streamed).end == StreamEnd::kClean);
    }
}

TEST_CASE("archive writer: raw line breaks in a row become spaces, one row stays one line") {
    ScratchDir dir;
    const auto path = dir / "a.jsonl";
    {
        ArchiveWriter writer(path, Compression::kNone);
        writer.append_line("{\"id\":1,\"data\":{\r\n  \"a\": 1\n}}");
        writer.append_line("{\"id\":2,\"text\":\"line\\nbreak\"}");
        writer.finish();
    }
    const auto decoded = read_back(path);
    REQUIRE(decoded.lines.size() == 2);
    CHECK(decoded.lines[0] == "{\"id\":1,\"data\":{    \"a\": 1 }}");
    CHECK(decoded.lines[1] == "{\"id\":2,\"text\":\"line\\nbreak\"}");  // escapes untouched
    CHECK(decoded.end == StreamEnd::kClean);
}

TEST_CASE("archive writer: gzip decodes up to every sync, and ends cleanly after finish()") {
    ScratchDir dir;
    const auto path = dir / "a.jsonl.gz";
    ArchiveWriter writer(path, Compression::kGzip);
    std::vector<std::string> lines;
    for (int i = 1; i <= 2000; ++i) {
        lines.push_back(R"({"id":)" + std::to_string(i) + R"(,"event":"order.created"})");
        writer.append_line(lines.back());
    }
    writer.sync();
    const std::string synced = file_bytes(path);
    REQUIRE(synced.size() > 2);
    CHECK(static_cast<unsigned char>(synced[0]) == 0x1f);  // a gzip header: zcat reads it
    CHECK(static_cast<unsigned char>(synced[1]) == 0x8b);
    CHECK(synced.size() < std::size_t{2000} * 30);  // compressed
    auto decoded = read_back(path);
    CHECK(decoded.lines == lines);
    CHECK(decoded.end == StreamEnd::kTruncated);  // what a kill -9 here would leave
    writer.append_line(R"({"id":2001})");
    lines.push_back(R"({"id":2001})");
    writer.finish();
    decoded = read_back(path);
    CHECK(decoded.lines == lines);
    CHECK(decoded.end == StreamEnd::kClean);
    const std::string bytes = file_bytes(path);
    CHECK(writer.bytes_on_disk() == bytes.size());
    CHECK(writer.sha256() == sha256_of(bytes));
}

TEST_CASE(
    "archive writer: a file already there is never overwritten, a planted link never followed") {
    ScratchDir dir;
    const auto existing = dir / "taken.jsonl";
    std::ofstream(existing) << "precious\n";
    CHECK_THROWS_AS(ArchiveWriter(existing, Compression::kNone), RunFailure);
    CHECK_THROWS_WITH(ArchiveWriter(existing, Compression::kGzip),
                      Catch::Contains("cannot create archive file '" + existing.string()) &&
                          Catch::Contains("File exists"));
    CHECK(file_bytes(existing) == "precious\n");

    const auto victim = dir / "victim";
    std::ofstream(victim) << "keep me\n";
    const auto link = dir / "planted.jsonl";
    fs::create_symlink(victim, link);
    CHECK_THROWS_AS(ArchiveWriter(link, Compression::kNone), RunFailure);
    CHECK(file_bytes(victim) == "keep me\n");
    CHECK(fs::is_symlink(link));

    const auto dangling = dir / "dangling.jsonl";
    fs::create_symlink(dir / "would-be-created", dangling);
    CHECK_THROWS_AS(ArchiveWriter(dangling, Compression::kNone), RunFailure);
    CHECK(!fs::exists(dir / "would-be-created"));

    CHECK_THROWS_WITH(ArchiveWriter(dir / "no-such-folder" / "a.jsonl", Compression::kNone),
                      Catch::Contains("No such file or directory"));
}

TEST_CASE("archive writer: a failed write is reported, and again by every later use") {
    ScratchDir dir;
    const auto path = dir / "a.jsonl";
    ArchiveWriter writer(path, Compression::kNone);
    writer.append_line(R"({"id":1})");
    writer.sync();
    const std::string durable = file_bytes(path);
    {
        FileSizeLimit limit(durable.size() + 10);
        writer.append_line(R"({"id":2,"padding":"more than ten bytes"})");
        CHECK_THROWS_WITH(writer.sync(), Catch::Contains("cannot write to archive file") &&
                                             Catch::Contains("File too large"));
    }
    // The file may now end mid-line: nothing more is appended, the first error is the message.
    CHECK_THROWS_WITH(writer.append_line(R"({"id":3})"), Catch::Contains("File too large"));
    CHECK_THROWS_WITH(writer.sync(), Catch::Contains("File too large"));
    CHECK_THROWS_AS(writer.finish(), RunFailure);
    CHECK(file_bytes(path).rfind(durable, 0) == 0);  // what was synced is still there
}

TEST_CASE("archive writer: a batch larger than a write piece reaches the file in whole lines") {
    ScratchDir dir;
    const auto path = dir / "a.jsonl";
    ArchiveWriter writer(path, Compression::kNone);
    std::string expected;
    for (int i = 1; i <= 3000; ++i) {
        // Every 7th row pretty-printed, as PostgreSQL keeps a json column: its breaks go.
        const std::string pad(100 + i % 150, 'x');
        const std::string row = R"({"id":)" + std::to_string(i) + R"(,"pad":")" + pad + "\"" +
                                (i % 7 == 0 ? ",\"m\":{\r\n  \"a\": 1\n}" : "") + "}";
        writer.append_line(row);
        std::string line = row;
        for (char& c : line)
            if (c == '\n' || c == '\r') c = ' ';
        expected += line + "\n";
    }
    const std::string huge =
        R"({"id":3001,"text":")" + std::string(std::size_t{300} * 1024, 'y') + "\"}";
    writer.append_line(huge);  // one line longer than a piece
    expected += huge + "\n";
    // Written, not yet synced: only whole lines, in order (what a kill -9 here would leave).
    const std::string early = file_bytes(path);
    CHECK(!early.empty());
    CHECK(early.size() <= expected.size());
    CHECK(expected.compare(0, early.size(), early) == 0);
    CHECK(early.back() == '\n');
    writer.finish();
    const std::string bytes = file_bytes(path);
    CHECK(bytes == expected);
    CHECK(writer.lines() == 3001);
    CHECK(writer.bytes_on_disk() == bytes.size());
    CHECK(writer.sha256() == sha256_of(bytes));
}
