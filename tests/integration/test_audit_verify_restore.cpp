// `ops audit verify` and `ops audit restore` on files made by a real archive run.
#include <catch2/catch.hpp>
#include <fstream>

#include "harness.hpp"

using namespace ops_test;
using nlohmann::json;

namespace {

void seed_old_events(TestDatabase& db, int rows) {
    db.exec(
        "INSERT INTO audit_events (channel, event, metadata, created_at) "
        "SELECT 'web', 'e' || i, json_build_object('i', i), timestamp '2025-01-01' + i * interval "
        "'1 minute' "
        "FROM generate_series(1, " +
        std::to_string(rows) + ") AS i");
}

// Archives everything old and returns the data file's path.
std::string archive_all(TestDatabase& db, const TempDir& dir) {
    const auto result =
        run_ops({"--output", "json", "audit", "archive", "--dir", dir.path().string()}, db.env());
    REQUIRE(result.exit_code == 0);
    return result.json()["files"][0]["path"].get<std::string>();
}

void append(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

}  // namespace

TEST_CASE("verify finds torn lines, extra lines, a changed byte and a missing manifest") {
    TestDatabase db;
    seed_old_events(db, 50);
    TempDir dir;
    const std::string file = archive_all(db, dir);
    CHECK(run_ops({"audit", "verify", file}).exit_code == 0);

    const std::string original = read_file(file);
    append(file, "{\"id\": 9999, \"chan");  // what a kill -9 mid-write leaves
    auto result = run_ops({"--output", "json", "audit", "verify", file});
    CHECK(result.exit_code == 1);
    auto report = result.json()["files"][0];
    CHECK(report["rows"] == 50);
    CHECK(report["torn_lines"] == 1);
    CHECK(report["status"].get<std::string>().find("1 torn lines") != std::string::npos);

    std::ofstream(file, std::ios::trunc | std::ios::binary) << original << "{\"id\":10000}\n";
    result = run_ops({"--output", "json", "audit", "verify", file});
    CHECK(result.exit_code == 1);
    CHECK(result.json()["files"][0]["status"].get<std::string>().find("1 extra lines") !=
          std::string::npos);

    std::string flipped = original;
    flipped[flipped.find("\"web\"") + 1] = 'W';
    std::ofstream(file, std::ios::trunc | std::ios::binary) << flipped;
    result = run_ops({"--output", "json", "audit", "verify", file});
    CHECK(result.exit_code == 1);
    CHECK(result.json()["files"][0]["status"].get<std::string>().find("SHA-256 differs") !=
          std::string::npos);

    std::ofstream(file, std::ios::trunc | std::ios::binary) << original;
    CHECK(run_ops({"audit", "verify", file}).exit_code == 0);
    std::filesystem::remove(std::filesystem::path(file).replace_extension("").string() +
                            ".manifest.json");
    result = run_ops({"--output", "json", "audit", "verify", file});
    CHECK(result.exit_code == 1);
    report = result.json()["files"][0];
    CHECK(report["manifest"] == false);
    CHECK(report["rows"] == 50);
    CHECK(report["status"].get<std::string>().find("no manifest") != std::string::npos);
}

TEST_CASE("restore puts rows back with their ids, skips existing ones and torn lines") {
    TestDatabase db;
    seed_old_events(db, 40);
    const auto original = db.rows_as_json("SELECT * FROM audit_events ORDER BY id");
    TempDir dir;
    const std::string file = archive_all(db, dir);
    // What an interrupted run leaves: no manifest, a torn last line.
    std::filesystem::remove(std::filesystem::path(file).replace_extension("").string() +
                            ".manifest.json");
    append(file, "{\"id\": 77, \"torn");
    db.exec("DELETE FROM audit_events WHERE channel = 'ops'");
    // Ten rows are back already (e.g. restored before): they are skipped, not duplicated.
    const std::string lines = read_file(file);
    std::ofstream(dir.path() / "first-ten.jsonl") << lines.substr(0, [&] {
        std::size_t pos = 0;
        for (int i = 0; i < 10; ++i) pos = lines.find('\n', pos) + 1;
        return pos;
    }());
    REQUIRE(run_ops({"audit", "restore", (dir.path() / "first-ten.jsonl").string()}, db.env())
                .exit_code == 0);

    auto result = run_ops({"--output", "json", "audit", "restore", "--dry-run", file}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["would_insert"] == 30);
    CHECK(result.json()["would_skip_existing"] == 10);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops'") == 10);

    result = run_ops({"--output", "json", "audit", "restore", "--batch-size", "7", file}, db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["inserted"] == 30);
    CHECK(summary["skipped_existing"] == 10);
    CHECK(summary["torn_lines"] == 1);
    CHECK(db.rows_as_json("SELECT * FROM audit_events WHERE channel <> 'ops' ORDER BY id") ==
          original);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'ops.audit.restore'") == 2);
}

TEST_CASE("restore refuses files with columns the table lacks, before inserting anything") {
    TestDatabase db;
    db.exec("ALTER TABLE audit_events ADD COLUMN request_id text");
    seed_old_events(db, 20);
    db.exec("UPDATE audit_events SET request_id = 'r' || id");
    TempDir dir;
    const std::string file = archive_all(db, dir);
    db.exec("ALTER TABLE audit_events DROP COLUMN request_id");
    const auto result = run_ops({"audit", "restore", file}, db.env());
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("request_id") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops'") == 0);
    // Told to, restore leaves those values out and says so.
    const auto dropped =
        run_ops({"--output", "json", "audit", "restore", "--drop-unknown-columns", file}, db.env());
    REQUIRE(dropped.exit_code == 0);
    CHECK(dropped.json()["dropped_columns"] == json::array({"request_id"}));
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops'") == 20);
}
