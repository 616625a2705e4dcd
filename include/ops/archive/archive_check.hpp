#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ops/archive/archive_reader.hpp"
#include "ops/archive/manifest.hpp"

namespace ops {

// Consecutive lines of a file that a restore leaves out, and why.
struct LeftOut {
    std::int64_t first_line = 0, last_line = 0;
    std::string reason;
};

// One archive data file read whole and compared with its manifest: what `verify` reports and
// what `restore` checks before it inserts anything.
struct FileCheck {
    std::filesystem::path path;
    std::optional<Manifest> manifest;
    std::int64_t lines = 0, whole = 0, torn = 0, bad = 0;
    FileDigest digest;
    StreamEnd end = StreamEnd::kClean;
    std::vector<LeftOut> left_out;      // bad lines, a torn tail, an unreadable rest
    std::string first_bad;              // "line 7: not a JSON object: ..."
    std::vector<std::string> problems;  // damage; empty when every line can be vouched for
    // A file without manifest (a run that did not end cleanly) is not damaged if it only
    // ends in one torn line or a cut gzip stream, but `verify` still calls it unsound.
    bool damaged() const { return !problems.empty(); }
};

// Reads `path` once (and its bytes once for the digest), calling `on_whole` for each whole
// line. Throws RunFailure only when the file cannot be opened.
FileCheck check_archive_file(const std::filesystem::path& path,
                             const std::function<void(const ArchiveLine&)>& on_whole = {});

// The manifest at `path`; nothing if there is none, or if it is unreadable (then `problem`
// says why).
std::optional<Manifest> read_manifest(const std::filesystem::path& path, std::string& problem);

// "line 12", "lines 12-40".
std::string describe_lines(const LeftOut& range);

}  // namespace ops
