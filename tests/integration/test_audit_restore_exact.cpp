// `ops audit restore` gives back exactly what was archived (issue 12): values, schema drift,
// references, sequences, damaged files, partitioned tables; and the round trip of every
// column type an application adds.
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <thread>

#include "harness.hpp"

using namespace ops_test;
using nlohmann::json;

namespace {

// Archives every row older than 90 days; returns the data file.
std::string archive(TestDatabase& db, const TempDir& dir, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--output", "json",  "audit",
                                     "archive",  "--dir", dir.path().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto result = run_ops(args, db.env());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    return result.json()["files"][0]["path"].get<std::string>();
}

RunResult restore(TestDatabase& db, const std::vector<std::string>& args) {
    std::vector<std::string> all = {"--output", "json", "audit", "restore"};
    all.insert(all.end(), args.begin(), args.end());
    return run_ops(all, db.env());
}

// Each archived row as row_to_json renders it, in id order: what an operator compares.
std::string rows_text(TestDatabase& db) {
    return db.scalar(
        "SELECT string_agg(row_to_json(a)::text, E'\\n' ORDER BY id) FROM audit_events a "
        "WHERE channel <> 'ops'");
}

std::int64_t restored(TestDatabase& db) {
    return db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops'");
}

void seed(TestDatabase& db, int rows, const std::string& tenant = "NULL") {
    db.exec(
        "INSERT INTO audit_events (tenant_id, channel, event, metadata, created_at) "
        "SELECT " +
        tenant +
        ", 'web', 'auth.login', json_build_object('i', i), "
        "timestamp '2025-01-01' + i * interval '1 minute' FROM generate_series(1, " +
        std::to_string(rows) + ") AS i");
}

}  // namespace

TEST_CASE("restore: numbers and json come back as archived, not re-parsed (case 1)") {
    TestDatabase db;
    db.exec("ALTER TABLE audit_events ADD COLUMN amount numeric(30,10)");
    db.exec(R"(INSERT INTO audit_events (channel, event, metadata, amount, created_at) VALUES
        ('web', 'a', '{"amount": 12345678901234567890123, "rate": 0.30000000000000000001, "n": -0}',
         12345678901234567890.1234567891, '2025-01-01'),
        ('web', 'b', '{"k":1,"k":2}', NULL, '2025-01-01'),
        ('web', 'c', '{"a": null, "b": [null]}', NULL, '2025-01-01'),
        ('web', 'd', 'null', NULL, '2025-01-01'),
        ('web', 'e', NULL, NULL, '2025-01-01'))");
    db.exec(
        "INSERT INTO audit_events (id, channel, event, created_at) "
        "VALUES (9007199254740993, 'web', 'f', '2025-01-01')");
    const std::string before = rows_text(db);
    const std::string json_nulls = db.scalar(
        "SELECT string_agg(event, ',' ORDER BY id) FROM audit_events "
        "WHERE json_typeof(metadata) = 'null'");
    TempDir dir;
    const std::string file = archive(db, dir);
    REQUIRE(restored(db) == 0);
    const auto result = restore(db, {file});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["inserted"] == 6);
    CHECK(rows_text(db) == before);
    // JSON null and SQL NULL look alike in row_to_json; the archive tells them apart.
    CHECK(db.scalar("SELECT string_agg(event, ',' ORDER BY id) FROM audit_events "
                    "WHERE json_typeof(metadata) = 'null'") == json_nulls);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'e' AND metadata IS NULL") ==
          1);
}

TEST_CASE(
    "restore: a json value PostgreSQL accepts (1e400, the NUL escape) is sound and comes back "
    "(case 2)") {
    TestDatabase db;
    db.exec(R"(INSERT INTO audit_events (channel, event, metadata, created_at) VALUES
        ('web', 'a', '{"exp": 1e400}', '2025-01-01'),
        ('web', 'b', '{"z": "a\u0000b", "deep": [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}', '2025-01-01'),
        ('web', 'c', '"top\u0000level"', '2025-01-01'))");
    const std::string before = rows_text(db);
    TempDir dir;
    const std::string file = archive(db, dir, {"--gzip"});
    const auto verified = run_ops({"--output", "json", "audit", "verify", file});
    CHECK(verified.exit_code == 0);
    CHECK(verified.json()["files"][0]["status"] == "sound");
    const auto result = restore(db, {file});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["inserted"] == 3);
    CHECK(rows_text(db) == before);
}

TEST_CASE("restore: lines written before a column was added take its default (case 3)") {
    TestDatabase db;
    seed(db, 30);
    TempDir dir;
    const std::string before_migration = archive(db, dir);
    db.exec("ALTER TABLE audit_events ADD COLUMN level integer NOT NULL DEFAULT 7");
    seed(db, 20);
    db.exec("UPDATE audit_events SET level = 9");
    const std::string after_migration = archive(db, dir);
    // One file holding both kinds of lines, as a run across the migration writes it.
    const auto mixed = dir.path() / "audit-events-mixed.jsonl";
    std::ofstream(mixed) << read_file(before_migration) << read_file(after_migration);
    const auto result = restore(db, {mixed.string()});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["inserted"] == 50);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops' AND level = 7") == 30);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops' AND level = 9") == 20);
}

TEST_CASE("restore: a narrower column type stops the restore, never truncates (case 4)") {
    TestDatabase db;
    seed(db, 10);
    db.exec("UPDATE audit_events SET event = 'wa.send' WHERE id % 2 = 0");
    TempDir dir;
    const std::string file = archive(db, dir);
    db.exec("DELETE FROM audit_events");  // the run record's event is longer than 5 too
    db.exec("ALTER TABLE audit_events ALTER COLUMN event TYPE varchar(5)");
    auto result = restore(db, {file});
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("event (character varying(128) -> character varying(5))") !=
          std::string::npos);
    CHECK(restored(db) == 0);
    // Told to go on, the first value that does not fit is named by file, line and column.
    result = restore(db, {"--allow-type-change", file});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find(file + " line ") != std::string::npos);
    CHECK(result.err.find(", column event: value too long for type character varying(5)") !=
          std::string::npos);
    CHECK(restored(db) == 0);
}

TEST_CASE("restore: rounding counts as a change, allowed, every changed value is reported") {
    TestDatabase db;
    db.exec("ALTER TABLE audit_events ADD COLUMN price numeric(10,4)");
    seed(db, 4);
    db.exec("UPDATE audit_events SET price = CASE WHEN id % 2 = 0 THEN 1.2345 ELSE 1.5 END");
    TempDir dir;
    const std::string file = archive(db, dir);
    db.exec("ALTER TABLE audit_events ALTER COLUMN price TYPE numeric(10,2)");
    auto result = restore(db, {file});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("price (numeric(10,4) -> numeric(10,2))") != std::string::npos);
    result = restore(db, {"--allow-type-change", file});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["inserted"] == 4);
    // 1.5000 -> 1.50 and 1.2345 -> 1.23: all four change in their text, all four reported.
    CHECK(summary["changed_values"] == 4);
    CHECK(summary["changed_values_shown"][1]["archived"] == "1.2345");
    CHECK(summary["changed_values_shown"][1]["stored"] == "1.23");
    CHECK(result.err.find("column price: 1.2345 is stored as 1.23") != std::string::npos);
}

TEST_CASE("restore: references to deleted rows follow the foreign key's ON DELETE (case 5)") {
    TestDatabase db;
    db.exec("INSERT INTO tenants (id, name) VALUES (501, 'gone'), (502, 'stays')");
    seed(db, 15, "501");
    seed(db, 5, "502");
    TempDir dir;
    const std::string file = archive(db, dir);
    db.exec("DELETE FROM tenants WHERE id = 501");

    auto result = restore(db, {"--dry-run", file});
    REQUIRE(result.exit_code == 0);
    auto reference = result.json()["references"]["audit_events_tenant_id_fkey"];
    CHECK(reference["on_delete"] == "SET NULL");
    CHECK(reference["missing_keys"] == json::array({"501"}));
    CHECK(reference["lines"] == 15);

    db.exec(
        "ALTER TABLE audit_events DROP CONSTRAINT audit_events_tenant_id_fkey, ADD CONSTRAINT "
        "audit_events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id)");
    result = restore(db, {file});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("tenant_id 501 is missing from tenants(id) (15 lines need them") !=
          std::string::npos);
    CHECK(restored(db) == 0);

    db.exec(
        "ALTER TABLE audit_events DROP CONSTRAINT audit_events_tenant_id_fkey, ADD CONSTRAINT "
        "audit_events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) "
        "ON DELETE CASCADE");
    result = restore(db, {file});
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["skipped_cascade"] == 15);
    CHECK(restored(db) == 5);

    db.exec("DELETE FROM audit_events WHERE channel <> 'ops'");
    db.exec(
        "ALTER TABLE audit_events DROP CONSTRAINT audit_events_tenant_id_fkey, ADD CONSTRAINT "
        "audit_events_tenant_id_fkey FOREIGN KEY (tenant_id) REFERENCES tenants (id) "
        "ON DELETE SET NULL");
    result = restore(db, {file});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["inserted"] == 20);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops' AND tenant_id IS "
                   "NULL") == 15);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE tenant_id = 502") == 5);
}

TEST_CASE("restore: into a fresh database the id sequence ends up ahead of the ids (case 6)") {
    TestDatabase db;
    seed(db, 40);
    TempDir dir;
    const std::string file = archive(db, dir);
    TestDatabase fresh;
    const auto result = restore(fresh, {"--batch-size", "16", file});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(restored(fresh) == 40);
    // The application's next insert, and the run record, got new ids.
    fresh.exec("INSERT INTO audit_events (channel, event) VALUES ('web', 'next')");
    CHECK(fresh.count("SELECT count(*) FROM audit_events WHERE event = 'ops.audit.restore'") == 1);
    CHECK(fresh.count("SELECT min(id) FROM audit_events WHERE channel = 'ops' OR event = 'next'") >
          fresh.count("SELECT max(id) FROM audit_events WHERE event = 'auth.login'"));
    // Never moved back: a sequence already ahead stays where it is.
    fresh.exec("SELECT setval('audit_events_id_seq', 100000)");
    fresh.exec("DELETE FROM audit_events WHERE event = 'auth.login'");
    REQUIRE(restore(fresh, {file}).exit_code == 0);
    CHECK(fresh.count("SELECT last_value FROM audit_events_id_seq") >= 100000);
}

TEST_CASE("restore: damaged files are refused with nothing inserted, --accept-damaged (case 7)") {
    TestDatabase db;
    seed(db, 300);
    TempDir dir;
    const std::string plain = archive(db, dir, {"--batch-size", "50"});
    seed(db, 300);
    const std::string gz = archive(db, dir, {"--gzip", "--batch-size", "50"});
    const std::string plain_text = read_file(plain), gz_bytes = read_file(gz);

    // Cut in the middle of a line: the manifest says 300 rows.
    std::size_t cut = plain_text.size() / 2;
    if (plain_text[cut - 1] == '\n') ++cut;  // in the middle of a line
    std::ofstream(plain, std::ios::trunc | std::ios::binary) << plain_text.substr(0, cut);
    auto result = restore(db, {plain, gz});
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find(plain + ": ") != std::string::npos);
    CHECK(result.err.find("lines missing") != std::string::npos);
    CHECK(result.err.find("interrupted") == std::string::npos);
    CHECK(restored(db) == 0);

    // One byte flipped in the compressed data.
    std::string flipped = gz_bytes;
    flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x55);
    std::ofstream(gz, std::ios::trunc | std::ios::binary) << flipped;
    result = restore(db, {gz});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("SHA-256 differs from manifest") != std::string::npos);
    CHECK(result.err.find("interrupted") == std::string::npos);
    CHECK(restored(db) == 0);
    const auto verified = run_ops({"--output", "json", "audit", "verify", gz});
    CHECK(verified.exit_code == 1);
    CHECK(verified.json()["files"][0]["status"].get<std::string>().find("SHA-256 differs") !=
          std::string::npos);

    // Told to, restore takes the sound lines and says exactly what it left out.
    result = restore(db, {"--accept-damaged", plain});
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    const std::int64_t whole = summary["lines"].get<std::int64_t>() - 1;
    CHECK(summary["inserted"] == whole);
    CHECK(restored(db) == whole);
    const auto left_out = summary["damaged_files"][0]["left_out"][0];
    CHECK(left_out["lines"] == "line " + std::to_string(whole + 1));
    CHECK(left_out["reason"].get<std::string>().find("torn") != std::string::npos);
}

TEST_CASE("restore: a file without manifest may end in one torn line, and nothing else") {
    TestDatabase db;
    seed(db, 20);
    TempDir dir;
    const std::string file = archive(db, dir);
    std::filesystem::remove(std::filesystem::path(file).replace_extension("").string() +
                            ".manifest.json");
    const std::string text = read_file(file);
    std::ofstream(file, std::ios::app | std::ios::binary) << "{\"id\": 999, \"chan";
    auto result = restore(db, {"--dry-run", file});
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["torn_lines"] == 1);
    CHECK(result.json()["would_insert"] == 20);

    // A bad line in the middle is damage, not an interruption.
    std::ofstream(file, std::ios::trunc | std::ios::binary)
        << text.substr(0, text.find('\n') + 1) << "{\"id\": 5, oops}\n"
        << text.substr(text.find('\n') + 1);
    result = restore(db, {file});
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("1 bad lines (first: line 2:") != std::string::npos);
    CHECK(restored(db) == 0);
    result = restore(db, {"--accept-damaged", file});
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["inserted"] == 20);
    CHECK(result.json()["damaged_files"][0]["left_out"][0]["lines"] == "line 2");
}

TEST_CASE("restore: a range-partitioned audit_events restores like a plain one (case 8)") {
    TestDatabase db;
    db.exec(R"(
        ALTER TABLE audit_events RENAME TO audit_events_old;
        CREATE TABLE audit_events (LIKE audit_events_old INCLUDING DEFAULTS,
                                   UNIQUE (id, created_at)) PARTITION BY RANGE (created_at);
        ALTER SEQUENCE audit_events_id_seq OWNED BY audit_events.id;
        DROP TABLE audit_events_old;
        ALTER TABLE audit_events ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE SET NULL;
        CREATE TABLE audit_events_2025 PARTITION OF audit_events
            FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
        CREATE TABLE audit_events_rest PARTITION OF audit_events DEFAULT;)");
    seed(db, 30);
    const std::string before = rows_text(db);
    TempDir dir;
    const std::string file = archive(db, dir);
    db.exec(
        "INSERT INTO audit_events (id, channel, event, created_at) VALUES (5, 'web', 'x', NULL)");
    auto result = restore(db, {file});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    // id 5 is in the table (DEFAULT partition, NULL created_at): skipped, not duplicated.
    CHECK(result.json()["inserted"] == 29);
    CHECK(result.json()["skipped_existing"] == 1);
    db.exec("DELETE FROM audit_events WHERE id = 5");
    REQUIRE(restore(db, {file}).exit_code == 0);
    CHECK(rows_text(db) == before);
    CHECK(restore(db, {file}).json()["skipped_existing"] == 30);
}

namespace {

// Every column type an application adds, with the traps of the issue and random values.
void add_every_type(TestDatabase& db) {
    db.exec(R"(
        CREATE TYPE mood AS ENUM ('ok', 'sad', 'very "odd"');
        ALTER TABLE audit_events
            ADD COLUMN n numeric, ADD COLUMN n2 numeric(30,10), ADD COLUMN f double precision,
            ADD COLUMN tz timestamptz, ADD COLUMN d date, ADD COLUMN iv interval,
            ADD COLUMN b bytea, ADD COLUMN u uuid, ADD COLUMN ip inet, ADD COLUMN net cidr,
            ADD COLUMN ints integer[], ADD COLUMN texts text[], ADD COLUMN m mood,
            ADD COLUMN flag boolean, ADD COLUMN jb jsonb, ADD COLUMN ctl text;)");
}

void seed_every_type(TestDatabase& db, int rows) {
    db.exec("SELECT setseed(0.1206)");
    db.exec(
        "INSERT INTO audit_events (channel, event, metadata, created_at, n, n2, f, tz, d, iv, b, "
        "u, ip, net, ints, texts, m, flag, jb, ctl, user_agent) "
        "SELECT 'web', 'e' || i, "
        "  CASE i % 12 WHEN 0 THEN '{\"amount\": 12345678901234567890123, \"rate\": "
        "    0.30000000000000000001, \"n\": -0}' WHEN 1 THEN '{\"k\":1,\"k\":2}' "
        "    WHEN 2 THEN 'null' WHEN 3 THEN NULL WHEN 4 THEN '{\"exp\": 1e400}' "
        "    WHEN 5 THEN repeat('[', 500) || repeat(']', 500) WHEN 6 THEN '\"a\\u0000b\"' "
        "    WHEN 7 THEN json_build_object('big', repeat('x', 70000))::text "
        "    WHEN 8 THEN E'{\\n  \"a\": [1,\\r\\n 2],\\n  \"b\": null\\n}' "
        "    WHEN 9 THEN '  {\"s\": \"\\u00e9\\/\"}  ' "
        "    ELSE json_build_object('r', random(), 'i', i)::text END::json, "
        "  timestamp '2025-01-01' + i * interval '1 second', "
        "  CASE i % 7 WHEN 0 THEN 'NaN' WHEN 1 THEN NULL "
        "    ELSE round((random() * 10 ^ (i % 40))::numeric, i % 25) END, "
        "  CASE WHEN i % 5 = 0 THEN 12345678901234567890.1234567891 ELSE random() * 1000 END, "
        "  CASE i % 9 WHEN 0 THEN 'NaN' WHEN 1 THEN 'Infinity' WHEN 2 THEN '-Infinity' "
        "    WHEN 3 THEN 0.1 WHEN 4 THEN '-0' WHEN 5 THEN 1e308 ELSE random() * 1e300 END, "
        "  CASE WHEN i % 11 = 0 THEN 'infinity' "
        "    ELSE timestamptz '2024-06-01 12:00:00.123456+02' - random() * interval '900 days' "
        "END, "
        "  date '2020-02-29' + i, "
        "  make_interval(months => i % 13, secs => random() * 100000), "
        "  CASE i % 4 WHEN 0 THEN '\\x00ff'::bytea WHEN 1 THEN ''::bytea "
        "    ELSE decode(md5(i::text), 'hex') END, "
        "  md5(i::text)::uuid, "
        "  CASE WHEN i % 2 = 0 THEN ('10.0.' || i % 256 || '.' || i % 255)::inet ELSE '::1' END, "
        "  CASE WHEN i % 2 = 0 THEN '2001:db8::/32'::cidr ELSE '192.168.0.0/16' END, "
        "  CASE i % 3 WHEN 0 THEN ARRAY[i, NULL, -i] WHEN 1 THEN '{}' ELSE '{{1,2},{3,4}}' END, "
        "  CASE WHEN i % 2 = 0 THEN ARRAY['a\"b', 'c\\d', NULL, 'x,y', ' ', 'NULL', '{}'] "
        "    ELSE '{}' END, "
        "  (ARRAY['ok', 'sad', 'very \"odd\"'])[1 + i % 3]::mood, "
        "  CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false END, "
        "  CASE i % 4 WHEN 0 THEN 'null'::jsonb WHEN 1 THEN '[]' "
        "    ELSE jsonb_build_object('i', i, 'x', random(), 'n', 1.50) END, "
        "  (SELECT string_agg(chr(c), '') FROM generate_series(1, 31) c) || chr(127) || "
        "    E'é\\\\\"\\u2028' || i, "
        "  CASE WHEN i % 2 = 0 THEN repeat('ü', 1000) END "
        "FROM generate_series(1, " +
        std::to_string(rows) + ") AS i");
}

// The table as text, json columns with the one permitted difference (line breaks between a
// json value's tokens become spaces) applied.
std::string table_digest(TestDatabase& db) {
    return db.scalar(
        "SELECT md5(string_agg(ROW(id, tenant_id, channel, event, actor_type, actor_id, "
        "    subject_type, subject_id, ip_address, user_agent, "
        "    translate(metadata::text, E'\\n\\r', '  '), created_at, updated_at, n, n2, f, tz, d, "
        "    iv, b, u, ip, net, ints, texts, m, flag, jb, ctl)::text, E'\\n' ORDER BY id)) "
        "FROM audit_events WHERE channel <> 'ops'");
}

}  // namespace

TEST_CASE("restore: round trip of every column type, plain, gzip and --parallel") {
    for (const auto& options : std::vector<std::vector<std::string>>{
             {"--parallel", "1", "--batch-size", "97"},
             {"--gzip", "--parallel", "3", "--batch-size", "50"}}) {
        INFO(options[0]);
        TestDatabase source;
        add_every_type(source);
        seed_every_type(source, 600);
        const std::string digest = table_digest(source);
        const std::int64_t rows = restored(source);
        TempDir dir;
        const std::string file = archive(source, dir, options);
        CHECK(run_ops({"audit", "verify", file}).exit_code == 0);

        TestDatabase copy;
        add_every_type(copy);
        const auto result = restore(copy, {"--batch-size", "128", file});
        INFO(result.err);
        REQUIRE(result.exit_code == 0);
        CHECK(result.json()["inserted"] == rows);
        CHECK(result.json()["changed_values"] == 0);
        CHECK(table_digest(copy) == digest);
        // Idempotent: a second run skips everything.
        const auto again = restore(copy, {file});
        REQUIRE(again.exit_code == 0);
        CHECK(again.json()["inserted"] == 0);
        CHECK(again.json()["skipped_existing"] == rows);
    }
}

TEST_CASE("restore: killed with -9 at any moment, a rerun restores every row exactly once") {
    TestDatabase db;
    seed(db, 3000);
    const std::string before = rows_text(db);
    db.exec("CREATE TABLE original AS SELECT id, row_to_json(a)::text AS line FROM audit_events a");
    TempDir dir;
    const std::string file = archive(db, dir, {"--gzip"});
    for (int round = 0; round < 4; ++round) {
        Process process(ops_argv({"audit", "restore", "--batch-size", "50", file}), db.env());
        std::this_thread::sleep_for(std::chrono::milliseconds(60 + 70 * round));
        process.send(SIGKILL);
        process.wait();
        // Whole batches only, and never a sequence behind a committed id.
        const std::int64_t rows = restored(db);
        INFO("round " << round << ": " << rows << " rows");
        CHECK(rows % 50 == 0);
        CHECK(db.count("SELECT count(*) FROM audit_events a LEFT JOIN original o USING (id) "
                       "WHERE a.channel <> 'ops' AND o.line IS DISTINCT FROM "
                       "row_to_json(a)::text") == 0);
        if (rows > 0) {
            CHECK(db.count("SELECT last_value FROM audit_events_id_seq") >=
                  db.count("SELECT max(id) FROM audit_events"));
        }
    }
    const auto result = restore(db, {"--batch-size", "50", file});
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["inserted"].get<std::int64_t>() +
              result.json()["skipped_existing"].get<std::int64_t>() ==
          3000);
    CHECK(rows_text(db) == before);
}
