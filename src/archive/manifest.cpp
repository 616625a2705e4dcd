#include "ops/archive/manifest.hpp"

#include <ctime>
#include <limits>
#include <type_traits>

#include "ops/core/version.hpp"

namespace ops {

nlohmann::ordered_json manifest_to_json(const Manifest& m) {
    nlohmann::ordered_json json;
    json["format_version"] = kArchiveFormatVersion;
    json["tool"] = "ops";
    json["tool_version"] = std::string(tool_version());
    json["run_id"] = m.run_id;
    json["table"] = "audit_events";
    json["data_file"] = m.data_file;
    json["compression"] = m.compression;
    json["filters"] = {{"cutoff", m.cutoff}, {"channels", m.channels}, {"timezone", m.timezone}};
    json["rows"] = m.rows;
    json["first_id"] = m.first_id ? nlohmann::ordered_json(*m.first_id) : nullptr;
    json["last_id"] = m.last_id ? nlohmann::ordered_json(*m.last_id) : nullptr;
    json["oldest_created_at"] =
        m.oldest_created_at ? nlohmann::ordered_json(*m.oldest_created_at) : nullptr;
    json["newest_created_at"] =
        m.newest_created_at ? nlohmann::ordered_json(*m.newest_created_at) : nullptr;
    json["bytes"] = m.bytes;
    json["sha256"] = m.sha256;
    json["columns"] = nlohmann::ordered_json::array();
    for (const auto& column : m.columns) {
        json["columns"].push_back({{"name", column.name}, {"type", column.type}});
    }
    return json;
}

namespace {

// An integer member as written by ops: a float (2.3e33) or a value out of range would
// otherwise be cast by nlohmann's get<>(), which is undefined behaviour for a hostile file.
template <typename Integer>
bool fits(const nlohmann::json& value) {
    if (value.is_number_unsigned()) {
        return value.get<std::uint64_t>() <=
               static_cast<std::uint64_t>(std::numeric_limits<Integer>::max());
    }
    if (!value.is_number_integer()) return false;  // a float, a string, ...
    const std::int64_t number = value.get<std::int64_t>();
    if constexpr (std::is_signed_v<Integer>) {
        return number >= std::numeric_limits<Integer>::min() &&
               number <= std::numeric_limits<Integer>::max();
    }
    return number >= 0;
}

template <typename Integer>
Integer whole_number(const nlohmann::json& value) {
    if (!fits<Integer>(value)) {
        throw nlohmann::json::type_error::create(
            302, "expected a whole number that fits, got " + value.dump(), &value);
    }
    return value.get<Integer>();
}

}  // namespace

Manifest manifest_from_json(const nlohmann::json& json) {
    Manifest m;
    m.format_version =
        json.contains("format_version") ? whole_number<int>(json.at("format_version")) : 1;
    m.data_file = json.at("data_file").get<std::string>();
    m.run_id = json.at("run_id").get<std::string>();
    m.compression = json.at("compression").get<std::string>();
    m.cutoff = json.at("filters").at("cutoff").get<std::string>();
    m.channels = json.at("filters").at("channels").get<std::vector<std::string>>();
    m.timezone = json.at("filters").at("timezone").get<std::string>();
    m.rows = whole_number<std::int64_t>(json.at("rows"));
    if (!json.at("first_id").is_null())
        m.first_id = whole_number<std::int64_t>(json.at("first_id"));
    if (!json.at("last_id").is_null()) m.last_id = whole_number<std::int64_t>(json.at("last_id"));
    m.bytes = whole_number<std::uint64_t>(json.at("bytes"));
    m.sha256 = json.at("sha256").get<std::string>();
    if (json.contains("columns")) {
        for (const auto& column : json.at("columns")) {
            m.columns.push_back(
                {column.at("name").get<std::string>(), column.at("type").get<std::string>()});
        }
    }
    return m;
}

std::filesystem::path manifest_path_for(const std::filesystem::path& data_file) {
    std::string name = data_file.filename().string();
    for (const std::string suffix : {".jsonl.gz", ".jsonl"}) {
        if (name.size() > suffix.size() && name.ends_with(suffix)) {
            name.resize(name.size() - suffix.size());
            break;
        }
    }
    return data_file.parent_path() / (name + ".manifest.json");
}

std::string archive_file_name(const std::string& short_run_id, bool gzip) {
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    return std::string("audit-events-") + stamp + "-" + short_run_id +
           (gzip ? ".jsonl.gz" : ".jsonl");
}

}  // namespace ops
