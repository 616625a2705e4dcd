#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ops {

// 1: the first format. 2: the manifest lists the table's column types; a line may end in
// a "$json_null" member (see archive_line.hpp). Restore reads both.
constexpr int kArchiveFormatVersion = 2;

struct ManifestColumn {
    std::string name;
    std::string type;  // format_type(), e.g. "numeric(30,10)"
};

// What an archive run wrote into one data file, recorded beside it when the run ends.
struct Manifest {
    int format_version = kArchiveFormatVersion;
    std::string data_file;  // file name, relative to the manifest's folder
    std::string run_id;
    std::string compression;  // "none" or "gzip"
    std::string cutoff;
    std::vector<std::string> channels;
    std::string timezone;
    std::int64_t rows = 0;
    std::optional<std::int64_t> first_id, last_id;
    std::optional<std::string> oldest_created_at, newest_created_at;
    std::uint64_t bytes = 0;
    std::string sha256;
    std::vector<ManifestColumn> columns;  // empty in format 1
};

nlohmann::ordered_json manifest_to_json(const Manifest& manifest);
// Throws std::runtime_error when a field is missing or of the wrong type.
Manifest manifest_from_json(const nlohmann::json& json);

// "audit-events-20261127T194430Z-1a2b3c4d.jsonl[.gz]" -> "...-1a2b3c4d.manifest.json"
std::filesystem::path manifest_path_for(const std::filesystem::path& data_file);

// "audit-events-<UTC timestamp>-<short run id>.jsonl" (".jsonl.gz" when compressed).
std::string archive_file_name(const std::string& short_run_id, bool gzip);

}  // namespace ops
