// `ops audit archive` on an audit_events range-partitioned by month by pg_partman 4.7 (with
// its DEFAULT partition), against a real cluster: which partitions go whole and which row by
// row, that whole partitions give the row-by-row path's exact line bytes, that a DETACH
// waits for its lock in short tries, and that kill -9 or a failed copy loses nothing.
#include <signal.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "database_waits.hpp"
#include "harness.hpp"

using namespace ops_test;
using nlohmann::json;

namespace {

constexpr const char* kCutoff = "2026-06-15";

// audit_events as the contract describes the partitioned form: monthly ranges on created_at
// made by pg_partman (2026-01 to 2 months ahead, plus DEFAULT), a unique key (id, created_at).
void partition_audit_events(TestDatabase& db) {
    db.exec("CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman");
    db.exec("DROP TABLE audit_events");
    db.exec(
        "CREATE TABLE audit_events (id bigserial, tenant_id bigint REFERENCES tenants (id) ON "
        "DELETE SET NULL, channel varchar(32) NOT NULL, event varchar(128) NOT NULL, actor_type "
        "varchar(64), actor_id bigint, subject_type varchar(128), subject_id bigint, ip_address "
        "varchar(45), user_agent text, metadata json, created_at timestamp(0) without time zone, "
        "updated_at timestamp(0) without time zone, UNIQUE (id, created_at)) PARTITION BY RANGE "
        "(created_at)");
    db.exec("CREATE INDEX ON audit_events (created_at)");
    db.exec("CREATE INDEX ON audit_events (channel, created_at)");
    db.exec(
        "SELECT partman.create_parent('public.audit_events', 'created_at', 'native', 'monthly', "
        "p_start_partition := '2026-01-01', p_premake := 2)");
}

// `per_month` rows in each month from 2026-01 to 2026-11 (json metadata with pretty text:
// line breaks and a tab, JSON null, backslashes), rows from 2025 (they land in DEFAULT) and NULL
// created_at ones.
void seed(TestDatabase& db, int per_month) {
    db.exec("INSERT INTO tenants (name) VALUES ('acme'), ('globex')");
    db.exec(
        "INSERT INTO audit_events (tenant_id, channel, event, actor_id, ip_address, user_agent, "
        "metadata, created_at, updated_at) "
        "SELECT 1 + i % 2, (ARRAY['web','api','wa','billing'])[1 + i % 4], 'order.created', i, "
        "'10.0.0.' || (i % 250), E'Mozilla \"q\" back\\\\slash', "
        "CASE WHEN i % 5 = 0 THEN E'{\\n\\t\"pretty\": true,\\r\\n \"b\": \"\\\\\\\\t\"}'::json "
        "WHEN i % 5 = 1 THEN NULL "
        "     WHEN i % 5 = 2 THEN 'null'::json ELSE json_build_object('order', i) END, "
        "t, t FROM generate_series(1, 11 * " +
        std::to_string(per_month) +
        ") AS i, LATERAL (SELECT timestamp '2026-01-01' + ((i - 1) % 11) * interval '1 month' + "
        "(i % 600) * interval '1 hour' AS t) m ORDER BY i");
    db.exec(
        "INSERT INTO audit_events (channel, event, created_at) SELECT 'api', 'old.default', "
        "timestamp '2025-03-01' + i * interval '1 day' FROM generate_series(1, 20) i");
    db.exec(
        "INSERT INTO audit_events (channel, event, created_at) VALUES ('web', 'no.date', NULL)");
}

TestDatabase& prepared(TestDatabase& db, int per_month) {
    partition_audit_events(db);
    seed(db, per_month);
    return db;
}

std::map<std::int64_t, json> snapshot(TestDatabase& db, const std::string& table = "audit_events") {
    std::map<std::int64_t, json> rows;
    for (auto& row : db.rows_as_json("SELECT * FROM " + table + " WHERE channel <> 'ops'"))
        rows[row["id"].get<std::int64_t>()] = row;
    return rows;
}

std::vector<std::string> data_files(const std::filesystem::path& dir) {
    std::vector<std::string> files;
    for (const auto& f : files_in(dir, ""))
        if (!is_manifest(f)) files.push_back(f.string());
    return files;
}

// Every line of every data file, as bytes; `torn` counts a last line without its end.
std::vector<std::string> lines_of(const std::filesystem::path& dir, int* torn = nullptr) {
    std::vector<std::string> lines;
    for (const auto& file : data_files(dir)) {
        const std::string text = read_file(file);
        std::size_t start = 0;
        while (start < text.size()) {
            const auto end = text.find('\n', start);
            if (end == std::string::npos) {
                if (torn != nullptr) ++*torn;
                break;
            }
            lines.push_back(text.substr(start, end - start));
            start = end + 1;
        }
    }
    std::sort(lines.begin(), lines.end());
    return lines;
}

std::map<std::int64_t, json> rows_of(const std::vector<std::string>& lines) {
    std::map<std::int64_t, json> rows;
    for (const auto& line : lines) {
        auto row = json::parse(line);
        row.erase("$json_null");
        rows[row["id"].get<std::int64_t>()] = row;
    }
    return rows;
}

std::vector<std::string> archive_args(const std::filesystem::path& dir,
                                      std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--output", "json",  "audit", "archive",
                                     "--before", kCutoff, "--dir", dir.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

std::set<std::string> partitions(TestDatabase& db) {
    std::set<std::string> names;
    for (const auto& row :
         db.rows_as_json("SELECT inhrelid::regclass::text AS n FROM pg_inherits WHERE inhparent = "
                         "'audit_events'::regclass"))
        names.insert(row["n"].get<std::string>());
    return names;
}

std::map<std::string, json> plan_by_partition(const json& summary) {
    std::map<std::string, json> plan;
    for (const auto& row : summary["partitions"]["plan"])
        plan[row["partition"].get<std::string>()] = row;
    return plan;
}

std::string marked_leftovers(TestDatabase& db) {
    return db.scalar(
        "SELECT string_agg(c.relname, ',' ORDER BY c.relname) FROM pg_class c JOIN pg_description "
        "d ON d.objoid = c.oid AND d.objsubid = 0 WHERE d.description LIKE 'ops audit archive: "
        "detached from %' AND NOT c.relispartition");
}

// Polls (up to 5 s) until a backend of ops's matches `condition` (on pg_stat_activity).
bool wait_for_ops_backend(TestDatabase& db, const std::string& condition) {
    for (int i = 0; i < 250; ++i) {
        if (db.count("SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'ops %' "
                     "AND " +
                     condition) > 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

}  // namespace

TEST_CASE("the dry run lists which partitions go whole and which row by row") {
    TestDatabase db;
    prepared(db, 30);
    const auto before = snapshot(db);
    TempDir dir;
    const auto result = run_ops(archive_args(dir.path(), {"--dry-run"}), db.env());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["partitions"]["mode"] == "partition-aware");
    auto plan = plan_by_partition(summary);
    for (const char* month : {"01", "02", "03", "04", "05"}) {
        const auto& row = plan.at(std::string("audit_events_p2026_") + month);
        CHECK(row["how"] == "whole");
        CHECK(row["rows"] == 30);
    }
    CHECK(plan.at("audit_events_p2026_06")["how"] == "row by row");
    CHECK(plan.at("audit_events_p2026_06")["reason"] == "straddles the cutoff");
    CHECK(plan.at("audit_events_default")["reason"] == "DEFAULT partition");
    CHECK(plan.at("audit_events_default")["rows"] == 20);
    CHECK(plan.count("audit_events_p2026_07") == 0);  // nothing before the cutoff
    CHECK(summary["selected"] == db.count("SELECT count(*) FROM audit_events WHERE created_at < "
                                          "'2026-06-15'"));
    CHECK(snapshot(db) == before);
    CHECK(partitions(db).count("audit_events_p2026_01") == 1);
    CHECK(data_files(dir.path()).empty());
    // It names each file a real run would write: one per whole partition, plus the batches'.
    const auto& would_write = summary["would_write"];
    CHECK(would_write.size() == 2 * (5 + 1));
    const auto named = [&](const std::string& ending) {
        return std::any_of(would_write.begin(), would_write.end(),
                           [&](const json& f) { return f.get<std::string>().ends_with(ending); });
    };
    CHECK(named("-audit_events_p2026_01.jsonl"));
    CHECK(named("-audit_events_p2026_05.manifest.json"));
    CHECK(!named("-audit_events_p2026_06.jsonl"));
    // Whole partitions write next to no WAL: the estimate counts only the rows that go by row.
    const auto rows = run_ops(archive_args(dir.path(), {"--dry-run", "--row-by-row"}), db.env());
    const auto rows_wal = rows.json()["expected_wal_bytes"].get<std::int64_t>();
    const auto selected = summary["selected"].get<std::int64_t>();
    CHECK(summary["expected_wal_bytes"].get<std::int64_t>() * selected ==
          rows_wal * (selected - 5 * 30));
}

TEST_CASE("whole partitions give the row-by-row path's exact lines, and are dropped") {
    TestDatabase whole_db, rows_db;
    prepared(whole_db, 200);
    prepared(rows_db, 200);
    const auto original = snapshot(whole_db);
    REQUIRE(snapshot(rows_db) == original);
    const auto expected =
        whole_db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15'");
    TempDir whole_dir, rows_dir;
    const auto whole = run_ops(archive_args(whole_dir.path()), whole_db.env());
    const auto rows = run_ops(archive_args(rows_dir.path(), {"--row-by-row"}), rows_db.env());
    INFO(whole.err << rows.err);
    REQUIRE(whole.exit_code == 0);
    REQUIRE(rows.exit_code == 0);
    const auto summary = whole.json();
    CHECK(summary["archived"] == expected);
    CHECK(summary["partitions"]["archived_whole"] == 5 * 200);
    CHECK(summary["partitions"]["dropped"].size() == 5);
    CHECK(rows.json()["partitions"]["row_by_row_reason"] == "--row-by-row");
    CHECK(rows.json()["archived"] == summary["archived"]);
    // Same bytes on every line, whichever path wrote it.
    const auto lines = lines_of(whole_dir.path());
    CHECK(static_cast<std::int64_t>(lines.size()) == expected);
    CHECK(lines == lines_of(rows_dir.path()));
    const auto left = partitions(whole_db);
    CHECK(left.count("audit_events_p2026_05") == 0);
    CHECK(left.count("audit_events_p2026_06") == 1);
    CHECK(partitions(rows_db).count("audit_events_p2026_05") == 1);
    CHECK(whole_db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15'") == 0);
    // Every file has a manifest that verify vouches for; a restore brings back every row.
    std::vector<std::string> verify = {"--output", "json", "audit", "verify"};
    for (const auto& f : data_files(whole_dir.path())) verify.push_back(f);
    CHECK(data_files(whole_dir.path()).size() == 6);  // 5 partitions + the row-by-row file
    CHECK(run_ops(verify).exit_code == 0);
    std::vector<std::string> restore = {"audit", "restore"};
    for (const auto& f : data_files(whole_dir.path())) restore.push_back(f);
    REQUIRE(run_ops(restore, whole_db.env()).exit_code == 0);
    CHECK(snapshot(whole_db) == original);
}

TEST_CASE("not the owner, --channel and --limit go row by row and say why") {
    TestDatabase db;
    prepared(db, 20);
    db.exec(
        "DO $$ BEGIN CREATE ROLE ops_tenant LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
        "END $$");
    db.exec("GRANT SELECT, INSERT, DELETE ON audit_events TO ops_tenant");
    db.exec("GRANT USAGE ON SEQUENCE audit_events_id_seq TO ops_tenant");
    TempDir dir;
    Env tenant = {{"DATABASE_URL", "postgresql://ops_tenant@127.0.0.1:" +
                                       required_env("OPS_TEST_PGPORT") + "/" + db.name()}};
    const auto dry = run_ops(archive_args(dir.path(), {"--dry-run"}), tenant);
    INFO(dry.err);
    REQUIRE(dry.exit_code == 0);
    CHECK(dry.json()["partitions"]["mode"] == "row by row");
    CHECK(dry.json()["partitions"]["row_by_row_reason"].get<std::string>().find(
              "does not own audit_events") != std::string::npos);
    const auto channel =
        run_ops(archive_args(dir.path(), {"--dry-run", "--channel", "web"}), db.env());
    CHECK(channel.json()["partitions"]["row_by_row_reason"] ==
          "--channel (a partition holds every channel)");
    // --limit 50: the oldest two partitions (20 rows each) fit, the third would be cut short.
    const auto limited =
        run_ops(archive_args(dir.path(), {"--dry-run", "--limit", "50"}), db.env());
    auto plan = plan_by_partition(limited.json());
    CHECK(plan.at("audit_events_p2026_02")["how"] == "whole");
    CHECK(plan.at("audit_events_p2026_03")["reason"] == "--limit would cut it short");
    // A real --limit run takes the two partitions whole and 10 rows of the rest row by row.
    const auto limit_run = run_ops(archive_args(dir.path(), {"--limit", "50"}), db.env());
    INFO(limit_run.err);
    REQUIRE(limit_run.exit_code == 0);
    CHECK(limit_run.json()["archived"] == 50);
    CHECK(limit_run.json()["partitions"]["dropped"].size() == 2);
    // A real run as the tenant role archives row by row and keeps every partition.
    const auto before = partitions(db);
    const auto expected =
        db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15'");
    const auto real = run_ops(archive_args(dir.path()), tenant);
    INFO(real.err);
    REQUIRE(real.exit_code == 0);
    CHECK(real.json()["archived"] == expected);
    CHECK(real.json()["partitions"]["dropped"].empty());
    CHECK(partitions(db) == before);
}

TEST_CASE("row-by-row batches touch only their own partition") {
    TestDatabase db;
    prepared(db, 20);
    // SHARE blocks the DELETE's ROW EXCLUSIVE lock, not the planning reads: a batch that
    // named the March partition would wait on it (then fail at the 5 s lock timeout).
    pqxx::connection holder(db.url());
    pqxx::work hold(holder);
    hold.exec("LOCK TABLE audit_events_p2026_03 IN SHARE MODE");
    TempDir dir;
    const auto result = run_ops(
        archive_args(dir.path(), {"--row-by-row", "--limit", "40", "--batch-size", "7"}), db.env());
    hold.commit();
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["archived"] == 40);
    // Oldest partition first: January's and February's rows, March untouched.
    CHECK(db.count("SELECT count(*) FROM audit_events_p2026_01") == 0);
    CHECK(db.count("SELECT count(*) FROM audit_events_p2026_02") == 0);
    CHECK(db.count("SELECT count(*) FROM audit_events_p2026_03") == 20);
    // The rest goes in a later run, partition by partition, DEFAULT and straddling one too.
    const auto rest = run_ops(archive_args(dir.path(), {"--row-by-row"}), db.env());
    INFO(rest.err);
    REQUIRE(rest.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15' AND channel "
                   "<> 'ops'") == 0);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at >= '2026-06-15'") > 0);
}

// The last pass (DEFAULT and whatever is left) overlaps every partition's rows. Planned while
// a partition's batch was still deleting, it once took that batch's rows too: the two waited
// on each other or deadlocked (CI), and --limit counted those rows twice.
TEST_CASE("the last pass waits for the partitions' batches, so --limit counts each row once") {
    TestDatabase db;
    prepared(db, 20);
    slow_down(db, {"audit_events_p2026_06", "DELETE", "0.1", true});
    const auto old_rows =
        db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15'");
    TempDir dir;
    const auto result =
        run_ops(archive_args(dir.path(), {"--row-by-row", "--parallel", "2", "--batch-size", "500",
                                          "--limit", std::to_string(old_rows)}),
                db.env());
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["archived"] == old_rows);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15'") == 0);
    CHECK(lines_of(dir.path()).size() == static_cast<std::size_t>(old_rows));
}

TEST_CASE("DETACH waits in short tries behind a reader and goes once it is gone") {
    TestDatabase db;
    prepared(db, 20);
    pqxx::connection reader(db.url());
    pqxx::work hold(reader);
    hold.exec("SELECT count(*) FROM audit_events");  // ACCESS SHARE until the commit
    TempDir dir;
    Process process(ops_argv(archive_args(dir.path())), db.env());
    // While the reader holds its lock, an application insert still gets through: the
    // DETACH in the queue gives up within its lock timeout.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    db.exec("INSERT INTO audit_events (channel, event, created_at) VALUES ('web', 'app', now())");
    hold.commit();
    const auto result = process.wait();
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["partitions"]["lock_timeouts"].get<int>() >= 1);
    CHECK(summary["partitions"]["dropped"].size() == 5);
    CHECK(result.err.find("lock not granted within 100 ms") != std::string::npos);
}

// A DETACH group takes its partitions' locks one by one, and the application may hold one of
// them while it waits for one the group already has. Here the server breaks that cycle by
// rolling the DETACH back (ops's deadlock_timeout is below its lock timeout): the group tries
// again once the other session is gone, as after a lock timeout.
TEST_CASE("a DETACH that deadlocks with the application is rolled back and tried again") {
    TestDatabase db;
    prepared(db, 20);
    db.exec("ALTER DATABASE " + db.name() + " SET deadlock_timeout = '10ms'");
    // The first COMMENT a DETACH group writes sleeps, holding audit_events_p2026_01's lock.
    db.exec("CREATE SEQUENCE detach_pause");
    db.exec(
        "CREATE FUNCTION pause_first_comment() RETURNS event_trigger LANGUAGE plpgsql AS $$ "
        "BEGIN IF nextval('detach_pause') = 1 THEN PERFORM pg_sleep(2); END IF; END $$");
    db.exec(
        "CREATE EVENT TRIGGER pause_first_comment ON ddl_command_end WHEN TAG IN ('COMMENT') "
        "EXECUTE FUNCTION pause_first_comment()");
    pqxx::connection app(db.url());
    pqxx::work holds(app);
    holds.exec("SET deadlock_timeout = '100ms'");
    holds.exec("LOCK TABLE audit_events_p2026_02 IN ROW EXCLUSIVE MODE");
    TempDir dir;
    Process process(ops_argv(archive_args(dir.path())), db.env());
    REQUIRE(wait_for_ops_backend(db, "wait_event = 'PgSleep'"));
    // Waits for the paused group's lock; ops, waking, waits for this one's: a cycle.
    holds.exec("LOCK TABLE audit_events_p2026_01 IN ACCESS SHARE MODE");
    holds.commit();
    const auto result = process.wait();
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["partitions"]["deadlocks"] == 1);
    CHECK(summary["partitions"]["dropped"].size() == 5);
    CHECK(result.err.find("deadlock with another session, rolled back (try 1 of 30)") !=
          std::string::npos);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15'") == 0);
}

TEST_CASE(
    "a copy that fails leaves the partition detached with its rows, and the next "
    "run finishes it") {
    TestDatabase db;
    prepared(db, 400);
    const auto original = snapshot(db);
    TempDir dir;
    // A file-size limit stands in for a full disk: the first partition's file cannot grow.
    Process process({"/usr/bin/prlimit", "--fsize=20000", "--", required_env("OPS_BIN"), "--output",
                     "json", "audit", "archive", "--before", kCutoff, "--dir", dir.path().string()},
                    db.env());
    const auto failed = process.wait();
    INFO(failed.err);
    CHECK(failed.exit_code == 1);
    // The group was detached together: all five are marked, each with its rows.
    CHECK(marked_leftovers(db) ==
          "audit_events_p2026_01,audit_events_p2026_02,audit_events_p2026_03,"
          "audit_events_p2026_04,audit_events_p2026_05");
    CHECK(snapshot(db, "audit_events_p2026_01").size() == 400);
    CHECK(snapshot(db, "audit_events_p2026_05").size() == 400);
    const auto next = run_ops(archive_args(dir.path()), db.env());
    INFO(next.err);
    REQUIRE(next.exit_code == 0);
    CHECK(next.json()["partitions"]["detached_leftovers"].size() == 5);
    CHECK(next.json()["partitions"]["dropped"].size() == 5);
    // The leftovers' rows were not among those it selected: the straddling and DEFAULT rows
    // still go row by row in the same run.
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15' AND channel "
                   "<> 'ops'") == 0);
    CHECK(marked_leftovers(db).empty());
    // Every original row is in the table or (once at least) on a whole line of a file.
    int torn = 0;
    const auto archived = rows_of([&] {
        std::vector<std::string> whole;
        for (auto& line : lines_of(dir.path(), &torn))
            if (json::parse(line, nullptr, false).is_object()) whole.push_back(line);
        return whole;
    }());
    const auto table = snapshot(db);
    for (const auto& [id, row] : original) {
        INFO("id " << id);
        const auto& found = table.count(id) ? table.at(id) : archived.at(id);
        CHECK(found == row);
    }
}

TEST_CASE("kill -9 at random moments leaves every row attached, detached or archived") {
    TestDatabase db;
    prepared(db, 1500);
    const auto original = snapshot(db);
    TempDir dir;
    std::mt19937 random(20261201);
    for (int round = 0; round < 6; ++round) {
        Process process(ops_argv(archive_args(dir.path(), {"--batch-size", "50"})), db.env());
        std::this_thread::sleep_for(std::chrono::milliseconds(30 + random() % 400));
        process.send(SIGKILL);
        process.wait();
        std::map<std::int64_t, json> held = snapshot(db);
        const std::string leftovers = marked_leftovers(db);
        std::size_t start = 0;
        while (!leftovers.empty() && start <= leftovers.size()) {
            const auto end = std::min(leftovers.find(',', start), leftovers.size());
            for (auto& [id, row] : snapshot(db, leftovers.substr(start, end - start)))
                held[id] = row;
            start = end + 1;
        }
        std::vector<std::string> whole;
        for (auto& line : lines_of(dir.path()))
            if (json::parse(line, nullptr, false).is_object()) whole.push_back(line);
        const auto archived = rows_of(whole);
        for (const auto& [id, row] : original) {
            INFO("round " << round << " id " << id);
            REQUIRE((held.count(id) == 1 || archived.count(id) == 1));
            CHECK((held.count(id) ? held.at(id) : archived.at(id)) == row);
        }
    }
    const auto last = run_ops(archive_args(dir.path()), db.env());
    INFO(last.err);
    REQUIRE(last.exit_code == 0);
    CHECK(marked_leftovers(db).empty());
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-06-15' AND channel "
                   "<> 'ops'") == 0);
    CHECK(partitions(db).count("audit_events_p2026_05") == 0);
}
