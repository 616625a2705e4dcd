// Manifest: what an archive run records beside a data file, and reading it back without
// trusting it (verify and restore read manifests other people may have edited).
#include <catch2/catch.hpp>
#include <regex>

#include "ops/archive/manifest.hpp"
#include "ops/core/version.hpp"

using namespace ops;
using nlohmann::json;

namespace {

Manifest sample() {
    Manifest m;
    m.data_file = "audit-events-20261127T194430Z-1a2b3c4d.jsonl.gz";
    m.run_id = "1a2b3c4d-0000-4000-8000-000000000001";
    m.compression = "gzip";
    m.cutoff = "2026-08-29 00:00:00";
    m.channels = {"web", "api"};
    m.timezone = "Asia/Jakarta";
    m.rows = 3;
    m.first_id = 10;
    m.last_id = 12;
    m.oldest_created_at = "2026-01-01 00:00:00";
    m.newest_created_at = "2026-01-02 00:00:00";
    m.bytes = 4096;
    m.sha256 = std::string(64, 'a');
    m.columns = {{"id", "bigint"}, {"amount", "numeric(30,10)"}};
    return m;
}

json written() { return json::parse(manifest_to_json(sample()).dump()); }

}  // namespace

TEST_CASE("manifest: the written form, in a fixed member order") {
    const auto text = manifest_to_json(sample());
    const json plain = json::parse(text.dump());
    CHECK(text["format_version"] == kArchiveFormatVersion);
    CHECK(text["tool"] == "ops");
    CHECK(text["tool_version"] == std::string(tool_version()));
    CHECK(text["table"] == "audit_events");
    CHECK(plain["filters"] == json({{"cutoff", "2026-08-29 00:00:00"},
                                    {"channels", {"web", "api"}},
                                    {"timezone", "Asia/Jakarta"}}));
    CHECK(plain["columns"] == json::array({{{"name", "id"}, {"type", "bigint"}},
                                           {{"name", "amount"}, {"type", "numeric(30,10)"}}}));
    std::vector<std::string> keys;
    for (const auto& item : text.items()) keys.push_back(item.key());
    CHECK(keys == std::vector<std::string>{"format_version", "tool", "tool_version", "run_id",
                                           "table", "data_file", "compression", "filters", "rows",
                                           "first_id", "last_id", "oldest_created_at",
                                           "newest_created_at", "bytes", "sha256", "columns"});
    Manifest empty = sample();
    empty.rows = 0;
    empty.first_id.reset();
    empty.last_id.reset();
    empty.oldest_created_at.reset();
    empty.newest_created_at.reset();
    const auto none = manifest_to_json(empty);
    CHECK(none["first_id"].is_null());
    CHECK(none["newest_created_at"].is_null());
}

TEST_CASE("manifest: what is written reads back the same") {
    const Manifest back = manifest_from_json(written());
    const Manifest m = sample();
    CHECK(back.format_version == kArchiveFormatVersion);
    CHECK(back.data_file == m.data_file);
    CHECK(back.run_id == m.run_id);
    CHECK(back.compression == m.compression);
    CHECK(back.cutoff == m.cutoff);
    CHECK(back.channels == m.channels);
    CHECK(back.timezone == m.timezone);
    CHECK(back.rows == 3);
    CHECK(back.first_id == std::optional<std::int64_t>(10));
    CHECK(back.last_id == std::optional<std::int64_t>(12));
    CHECK(back.bytes == 4096u);
    CHECK(back.sha256 == m.sha256);
    REQUIRE(back.columns.size() == 2);
    CHECK(back.columns[1].name == "amount");
    CHECK(back.columns[1].type == "numeric(30,10)");
}

TEST_CASE("manifest: format 1 has no format_version and no columns") {
    json v1 = written();
    v1.erase("format_version");
    v1.erase("columns");
    const Manifest back = manifest_from_json(v1);
    CHECK(back.format_version == 1);
    CHECK(back.columns.empty());
    v1["first_id"] = nullptr;
    v1["last_id"] = nullptr;
    CHECK(!manifest_from_json(v1).first_id);
    CHECK(!manifest_from_json(v1).last_id);
}

TEST_CASE("manifest: a missing member or one of the wrong type is refused") {
    for (const char* member : {"data_file", "run_id", "compression", "filters", "rows", "first_id",
                               "last_id", "bytes", "sha256"}) {
        INFO("without " << member);
        json m = written();
        m.erase(member);
        CHECK_THROWS_AS(manifest_from_json(m), json::exception);
    }
    const std::vector<std::pair<std::string, json>> wrong = {
        {"rows", "3"},
        {"rows", 2.5},
        {"rows", 2.3e33},
        {"rows", 1e3},
        {"bytes", -1},
        {"bytes", 1.5},
        {"first_id", "10"},
        {"first_id", 1e300},
        {"last_id", true},
        {"sha256", 7},
        {"run_id", nullptr},
        {"format_version", 4294967296LL},
        {"format_version", "2"},
        {"channels", "web"},
        {"columns", json::parse(R"([{"name":"id"}])")},
        {"rows", 9223372036854775808ULL},
    };
    for (const auto& [member, value] : wrong) {
        INFO(member << " = " << value.dump());
        json m = written();
        if (member == "channels") {
            m["filters"]["channels"] = value;
        } else {
            m[member] = value;
        }
        CHECK_THROWS_AS(manifest_from_json(m), json::exception);
    }
    // The largest values that fit are taken.
    json big = written();
    big["rows"] = std::numeric_limits<std::int64_t>::max();
    big["bytes"] = std::numeric_limits<std::uint64_t>::max();
    CHECK(manifest_from_json(big).rows == std::numeric_limits<std::int64_t>::max());
    CHECK(manifest_from_json(big).bytes == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE("manifest: its name beside the data file, and the data file's name") {
    CHECK(manifest_path_for("/a/audit-events-20261127T194430Z-1a2b3c4d.jsonl.gz") ==
          "/a/audit-events-20261127T194430Z-1a2b3c4d.manifest.json");
    CHECK(manifest_path_for("/a/audit-events-20261127T194430Z-1a2b3c4d.jsonl") ==
          "/a/audit-events-20261127T194430Z-1a2b3c4d.manifest.json");
    CHECK(manifest_path_for("x.txt") == "x.txt.manifest.json");
    CHECK(manifest_path_for(".jsonl") == ".jsonl.manifest.json");
    const std::regex plain(R"(audit-events-\d{8}T\d{6}Z-1a2b3c4d\.jsonl)");
    const std::regex gzip(R"(audit-events-\d{8}T\d{6}Z-1a2b3c4d\.jsonl\.gz)");
    CHECK(std::regex_match(archive_file_name("1a2b3c4d", false), plain));
    CHECK(std::regex_match(archive_file_name("1a2b3c4d", true), gzip));
}
