#include "ops/archive/archive_check.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

namespace ops {
namespace {

void note_left_out(FileCheck& check, std::int64_t line, const std::string& reason) {
    if (!check.left_out.empty() && check.left_out.back().last_line + 1 == line &&
        check.left_out.back().reason == reason) {
        check.left_out.back().last_line = line;
        return;
    }
    check.left_out.push_back({line, line, reason});
}

void read_lines(FileCheck& check, const std::function<void(const ArchiveLine&)>& on_whole) {
    ArchiveReader reader(check.path);
    ArchiveLine line;
    while (reader.next(line)) {
        ++check.lines;
        if (line.whole) {
            ++check.whole;
            if (on_whole) on_whole(line);
        } else if (!line.terminated) {
            ++check.torn;
            note_left_out(check, line.number, "torn: the last line has no line end");
        } else {
            ++check.bad;
            // One reason for all bad lines: byte-level damage makes each parse error
            // different, and the ranges are what an operator needs.
            const std::string reason = "not a whole JSON object with an integer id";
            note_left_out(check, line.number, reason);
            if (check.first_bad.empty())
                check.first_bad = "line " + std::to_string(line.number) + ": " + line.problem;
        }
    }
    check.end = reader.end();
    if (check.end == StreamEnd::kCorrupt) {
        note_left_out(check, check.lines + 1,
                      "gzip data does not decode (" + reader.end_detail() +
                          "): nothing after line " + std::to_string(check.lines) + " is readable");
    }
}

void compare_with_manifest(FileCheck& check) {
    const Manifest& m = *check.manifest;
    if (check.whole > m.rows) {
        check.problems.push_back(std::to_string(check.whole - m.rows) + " extra lines");
    } else if (check.whole < m.rows) {
        check.problems.push_back(std::to_string(m.rows - check.whole) + " lines missing (" +
                                 std::to_string(check.whole) + " whole lines, manifest says " +
                                 std::to_string(m.rows) + ")");
    }
    if (check.digest.bytes != m.bytes) {
        check.problems.push_back("size differs from manifest (" +
                                 std::to_string(check.digest.bytes) + " bytes, manifest says " +
                                 std::to_string(m.bytes) + ")");
    }
    if (check.digest.sha256 != m.sha256) check.problems.push_back("SHA-256 differs from manifest");
    if (check.torn > 0) check.problems.push_back(std::to_string(check.torn) + " torn lines");
    if (check.end == StreamEnd::kTruncated) check.problems.push_back("gzip stream cut short");
}

}  // namespace

std::optional<Manifest> read_manifest(const std::filesystem::path& path, std::string& problem) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    try {
        return manifest_from_json(nlohmann::json::parse(in));
    } catch (const std::exception& e) {
        problem = "manifest " + path.filename().string() + " is unreadable: " + e.what();
        return std::nullopt;
    }
}

FileCheck check_archive_file(const std::filesystem::path& path,
                             const std::function<void(const ArchiveLine&)>& on_whole) {
    FileCheck check;
    check.path = path;
    std::string manifest_problem;
    check.manifest = read_manifest(manifest_path_for(path), manifest_problem);
    if (!manifest_problem.empty()) check.problems.push_back(manifest_problem);
    if (check.manifest && check.manifest->format_version > kArchiveFormatVersion) {
        check.problems.push_back(
            "manifest format version " + std::to_string(check.manifest->format_version) +
            " is newer than this ops reads (1-" + std::to_string(kArchiveFormatVersion) + ")");
    }
    read_lines(check, on_whole);
    check.digest = digest_file(path);
    if (check.bad > 0)
        check.problems.push_back(std::to_string(check.bad) +
                                 " bad lines (first: " + check.first_bad + ")");
    if (check.end == StreamEnd::kCorrupt) check.problems.push_back("gzip data does not decode");
    if (check.manifest) compare_with_manifest(check);
    return check;
}

std::string describe_lines(const LeftOut& range) {
    if (range.first_line == range.last_line) return "line " + std::to_string(range.first_line);
    return "lines " + std::to_string(range.first_line) + "-" + std::to_string(range.last_line);
}

}  // namespace ops
