// `ops audit archive`, `verify` and `restore` against a real PostgreSQL: what lands in the
// files, what leaves the table, and that nothing is lost when runs are killed, the
// database restarts or the disk fills up.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "database_waits.hpp"
#include "harness.hpp"

using namespace ops_test;
using nlohmann::json;

namespace {

// `old` rows spread over channels, all older than 90 days; `recent` rows from today; one
// NULL created_at row. Metadata includes pretty-printed JSON, \u0000 and backslashes.
void seed(TestDatabase& db, int old_rows, int recent_rows = 5) {
    db.exec("INSERT INTO tenants (name) VALUES ('acme'), ('globex')");
    db.exec(
        "INSERT INTO audit_events (tenant_id, channel, event, actor_type, actor_id, ip_address, "
        "user_agent, metadata, created_at, updated_at) "
        "SELECT 1 + i % 2, (ARRAY['web','api','wa','billing'])[1 + i % 4], 'order.created', "
        "'user', i, "
        "'10.0.0.' || (i % 250), E'Mozilla/5.0 \"quoted\" back\\\\slash\\ttab', "
        "CASE WHEN i % 7 = 0 THEN E'{\\n  \"pretty\": true,\\n  \"nul\": \"a\\\\u0000b\",\\n  "
        "\"path\": \"C:\\\\\\\\x\"\\n}'::json "
        "     WHEN i % 7 = 1 THEN NULL ELSE json_build_object('order', i, 'note', "
        "E'line1\\nline2') END, "
        "timestamp '2026-01-01 00:00:00' - i * interval '1 minute', "
        "timestamp '2026-01-01 00:00:00' - i * interval '1 minute' "
        "FROM generate_series(1, " +
        std::to_string(old_rows) + ") AS i");
    db.exec(
        "INSERT INTO audit_events (channel, event, created_at) SELECT 'web', 'fresh', "
        "(now() AT TIME ZONE 'UTC')::timestamp(0) FROM generate_series(1, " +
        std::to_string(recent_rows) + ")");
    db.exec(
        "INSERT INTO audit_events (channel, event, created_at) VALUES ('web', 'ancient.no.date', "
        "NULL)");
}

// Every row as parsed JSON, keyed by id: the whole content, not a count.
std::map<std::int64_t, json> snapshot(TestDatabase& db) {
    std::map<std::int64_t, json> rows;
    for (auto& row : db.rows_as_json("SELECT * FROM audit_events WHERE channel <> 'ops'")) {
        rows[row["id"].get<std::int64_t>()] = row;
    }
    return rows;
}

// Whole lines of every archive file in `dir`, keyed by id (zcat reads .gz and plain files).
std::map<std::int64_t, json> archived_lines(const std::filesystem::path& dir, int* torn = nullptr) {
    std::map<std::int64_t, json> rows;
    for (const auto& file : files_in(dir, "")) {
        if (is_manifest(file)) continue;
        const std::string text = file.string().ends_with(".gz")
                                     ? [&] {
                                           Process zcat({"/bin/sh", "-c", "gzip -dc '" + file.string() + "' 2>/dev/null"}, {});
                                           return zcat.wait().out;
                                       }()
                                     : read_file(file);
        std::size_t start = 0;
        while (start < text.size()) {
            const auto end = text.find('\n', start);
            if (end == std::string::npos) {
                if (torn) ++*torn;
                break;
            }
            const auto line = json::parse(text.substr(start, end - start), nullptr, false);
            if (line.is_object() && line.contains("id")) {
                rows[line["id"].get<std::int64_t>()] = line;
            } else if (torn) {
                ++*torn;
            }
            start = end + 1;
        }
    }
    return rows;
}

std::vector<std::string> data_files(const std::filesystem::path& dir) {
    std::vector<std::string> files;
    for (const auto& f : files_in(dir, "")) {
        if (!is_manifest(f)) files.push_back(f.string());
    }
    return files;
}

// Restores every file and checks the table is the original again, row by row.
void restore_and_compare(TestDatabase& db, const std::filesystem::path& dir,
                         const std::map<std::int64_t, json>& original) {
    auto files = data_files(dir);
    if (!files.empty()) {
        std::vector<std::string> args = {"audit", "restore"};
        args.insert(args.end(), files.begin(), files.end());
        const auto restored = run_ops(args, db.env());
        REQUIRE(restored.exit_code == 0);
    }
    const auto now = snapshot(db);
    REQUIRE(now.size() == original.size());
    for (const auto& [id, row] : original) {
        INFO("id " << id);
        REQUIRE(now.count(id) == 1);
        CHECK(now.at(id) == row);
    }
}

std::vector<std::string> archive_args(const std::filesystem::path& dir,
                                      std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--output", "json", "audit", "archive", "--dir", dir.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
}

// Each DELETE statement on audit_events sleeps, so that a run lasts long enough.
void slow_down_deletes(TestDatabase& db, const std::string& seconds_per_statement) {
    slow_down(db, {"audit_events", "DELETE", seconds_per_statement});
}

}  // namespace

TEST_CASE("archive moves rows older than the cutoff into one JSON line each, all columns kept") {
    TestDatabase db;
    seed(db, 500);
    db.exec("ALTER TABLE audit_events ADD COLUMN request_id uuid, ADD COLUMN extra jsonb");
    db.exec(
        "UPDATE audit_events SET request_id = '6f9619ff-8b86-d011-b42d-00cf4fc964ff', "
        "extra = '{\"k\": [1, 2.5, null]}' WHERE id % 3 = 0");
    const auto before = snapshot(db);
    TempDir dir;

    const auto result =
        run_ops(archive_args(dir.path() / "archives", {"--batch-size", "64"}), db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["command"] == "audit archive");
    CHECK(summary["dry_run"] == false);
    CHECK(summary["selected"] == 500);
    CHECK(summary["archived"] == 500);
    CHECK(summary["deleted"] == 500);
    CHECK(summary["by_channel"] ==
          json({{"api", 125}, {"billing", 125}, {"wa", 125}, {"web", 125}}));
    REQUIRE(summary["files"].size() == 1);
    CHECK(summary["files"][0]["rows"] == 500);
    CHECK(summary.contains("duration_ms"));

    // Left in the table: the recent rows and the NULL created_at row, nothing else.
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel <> 'ops'") == 6);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at IS NULL") == 1);

    // Each line parses and equals the row as it was, extra columns included.
    const auto lines = archived_lines(dir.path() / "archives");
    REQUIRE(lines.size() == 500);
    for (const auto& [id, line] : lines) {
        INFO("id " << id);
        CHECK(line == before.at(id));
    }
    const auto& pretty = lines.begin()->second;
    CHECK(pretty.contains("request_id"));
    CHECK(pretty.contains("extra"));
    // A JSON column is a value, not a string, and a \u0000 survives.
    const auto with_nul = std::find_if(lines.begin(), lines.end(), [](const auto& kv) {
        return kv.second["metadata"].is_object() && kv.second["metadata"].contains("nul");
    });
    REQUIRE(with_nul != lines.end());
    CHECK(with_nul->second["metadata"]["nul"] == std::string("a\0b", 3));
    CHECK(with_nul->second["metadata"]["path"] == "C:\\x");

    // The manifest says what the file holds, and verify agrees.
    const auto manifests = files_in(dir.path() / "archives", ".manifest.json");
    REQUIRE(manifests.size() == 1);
    const auto manifest = json::parse(read_file(manifests[0]));
    CHECK(manifest["format_version"] == 2);
    CHECK(manifest["columns"][2] == json({{"name", "channel"}, {"type", "character varying(32)"}}));
    CHECK(manifest["rows"] == 500);
    CHECK(manifest["first_id"] == lines.begin()->first);
    CHECK(manifest["last_id"] == lines.rbegin()->first);
    CHECK(manifest["sha256"] == summary["files"][0]["sha256"]);
    CHECK(manifest["oldest_created_at"] == "2025-12-31 15:40:00");
    CHECK(manifest["newest_created_at"] == "2025-12-31 23:59:00");
    const auto verified =
        run_ops({"audit", "verify", summary["files"][0]["path"].get<std::string>()});
    CHECK(verified.exit_code == 0);

    // Files and folder are not world-readable.
    const auto perms = std::filesystem::status(dir.path() / "archives").permissions();
    CHECK((perms & std::filesystem::perms::others_all) == std::filesystem::perms::none);

    // The run recorded itself in the application's audit trail.
    const auto record = db.rows_as_json(
        "SELECT event, actor_type, metadata FROM audit_events WHERE channel = 'ops'");
    REQUIRE(record.size() == 1);
    CHECK(record[0]["event"] == "ops.audit.archive");
    CHECK(record[0]["actor_type"] == "cli");
    CHECK(record[0]["metadata"]["deleted"] == 500);
    CHECK(record[0]["metadata"].contains("os_user"));
    CHECK(record[0]["metadata"].contains("host"));
    CHECK(record[0]["metadata"].contains("tool_version"));
}

TEST_CASE("archive honours --before, --channel and --limit, and never touches other rows") {
    TestDatabase db;
    seed(db, 400);
    TempDir dir;
    auto result = run_ops(archive_args(dir.path(), {"--before", "2025-12-31 20:00", "--channel",
                                                    "web", "--channel", "api", "--limit", "50"}),
                          db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["deleted"] == 50);
    for (const auto& [id, line] : archived_lines(dir.path())) {
        const auto channel = line["channel"].get<std::string>();
        CHECK((channel == "web" || channel == "api"));
        CHECK(line["created_at"].get<std::string>() < "2025-12-31T20:00:00");
    }
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel IN ('wa', 'billing')") == 200);

    // A channel name full of quotes and SQL is just a name that matches nothing.
    const auto before = snapshot(db);
    result = run_ops(archive_args(dir.path(), {"--channel", "web'); DELETE FROM audit_events; --",
                                               "--channel", "\" OR 1=1 --"}),
                     db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["deleted"] == 0);
    CHECK(snapshot(db) == before);
}

TEST_CASE("archive --dry-run reports the plan and creates and changes nothing") {
    TestDatabase db;
    seed(db, 120);
    const auto before = snapshot(db);
    TempDir dir;
    const auto target = dir.path() / "not-yet";
    const auto result = run_ops(archive_args(target, {"--dry-run", "--channel", "wa"}), db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["dry_run"] == true);
    CHECK(summary["selected"] == 30);
    CHECK(summary["deleted"] == 0);
    CHECK(summary["by_channel"] == json({{"wa", 30}}));
    CHECK(summary["oldest_created_at"] == "2025-12-31 22:02:00");
    CHECK(summary["newest_created_at"] == "2025-12-31 23:58:00");
    CHECK(summary["would_write"][0].get<std::string>().find(target.string() + "/audit-events-") ==
          0);
    CHECK(!std::filesystem::exists(target));
    CHECK(snapshot(db) == before);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel = 'ops'") == 0);
    CHECK(result.err.find("[DRY-RUN]") != std::string::npos);
}

TEST_CASE("archive --gzip writes a gzip file that decodes to the rows") {
    TestDatabase db;
    seed(db, 300);
    const auto before = snapshot(db);
    TempDir dir;
    const auto result =
        run_ops(archive_args(dir.path(), {"--gzip", "--batch-size", "50"}), db.env());
    REQUIRE(result.exit_code == 0);
    const auto file = result.json()["files"][0]["path"].get<std::string>();
    CHECK(file.ends_with(".jsonl.gz"));
    const auto lines = archived_lines(dir.path());
    CHECK(lines.size() == 300);
    CHECK(run_ops({"audit", "verify", file}).exit_code == 0);
    restore_and_compare(db, dir.path(), before);
}

// The rest of the table runs in process (tests/cli); these two are decided after connecting.
TEST_CASE("a future --before and a --dir that is a file exit 2 and change nothing") {
    TestDatabase db;
    seed(db, 20);
    const auto before = snapshot(db);
    TempDir dir;
    std::ofstream(dir.path() / "a-file") << "x";
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"--before", "2999-01-01", "--dir", (dir.path() / "out").string()}, "--before"},
        {{"--dir", (dir.path() / "a-file").string()}, "--dir"},
    };
    for (const auto& [extra, option] : cases) {
        INFO(extra[0] << " " << extra[1]);
        std::vector<std::string> args = {"audit", "archive"};
        args.insert(args.end(), extra.begin(), extra.end());
        const auto result = run_ops(args, db.env());
        CHECK(result.exit_code == 2);
        CHECK(result.err.find("ops: error: " + option) != std::string::npos);
    }
    CHECK(snapshot(db) == before);
    CHECK(!std::filesystem::exists(dir.path() / "out"));
}

TEST_CASE("an archive folder that cannot be written fails before any row is touched") {
    TestDatabase db;
    seed(db, 20);
    const auto before = snapshot(db);
    TempDir dir;
    const auto locked = dir.path() / "locked";
    std::filesystem::create_directories(locked);
    std::filesystem::permissions(
        locked, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
    std::vector<std::string> argv = ops_argv({"audit", "archive", "--dir", locked.string()});
    if (geteuid() == 0) {
        // root writes anywhere: run ops as an unprivileged user, as cron would.
        std::filesystem::permissions(dir.path(), std::filesystem::perms::all);
        argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "nobody", "--"});
    }
    Process process(argv, db.env());
    const auto result = process.wait();
    INFO(result.err);
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("--dir") != std::string::npos);
    CHECK(result.err.find("not writable") != std::string::npos);
    CHECK(snapshot(db) == before);
}

TEST_CASE("kill -9 at random moments loses nothing: table plus restored files equal the original") {
    TestDatabase db;
    seed(db, 6000, 3);
    const auto original = snapshot(db);
    TempDir dir;
    std::mt19937 random(20261127);
    for (int round = 0; round < 12; ++round) {
        std::vector<std::string> extra = {"--batch-size", "97", "--parallel",
                                          std::to_string(1 + round % 4)};
        if (round % 3 == 0) extra.push_back("--gzip");
        Process process(ops_argv(archive_args(dir.path(), extra)), db.env());
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + random() % 150));
        process.send(SIGKILL);
        process.wait();
        // At every moment: each original row is in the table or on a whole line of a file.
        const auto table = snapshot(db);
        int torn = 0;
        const auto lines = archived_lines(dir.path(), &torn);
        for (const auto& [id, row] : original) {
            INFO("round " << round << " id " << id);
            if (table.count(id)) {
                CHECK(table.at(id) == row);
            } else {
                REQUIRE(lines.count(id) == 1);
                CHECK(lines.at(id) == row);
            }
        }
    }
    // A last run finishes the job, then verify tells sound files from interrupted ones.
    const auto last = run_ops(archive_args(dir.path()), db.env());
    REQUIRE(last.exit_code == 0);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE created_at < '2026-01-01' AND channel "
                   "<> 'ops'") == 0);
    std::vector<std::string> verify = {"--output", "json", "audit", "verify"};
    for (const auto& f : data_files(dir.path())) verify.push_back(f);
    const auto verified = run_ops(verify);
    CHECK(verified.exit_code == (data_files(dir.path()).size() > 1 ? 1 : 0));
    const auto report = verified.json();
    for (const auto& file : report["files"]) {
        if (file["manifest"] == true) CHECK(file["status"] == "sound");
        if (file["manifest"] == false)
            CHECK(file["status"].get<std::string>().find("no manifest") != std::string::npos);
    }
    restore_and_compare(db, dir.path(), original);
}

TEST_CASE(
    "a database restart mid-run exits 1 with a summary, loses nothing, and the next run carries "
    "on") {
    TestDatabase db;
    seed(db, 3000, 2);
    const auto original = snapshot(db);
    slow_down_deletes(db, "0.05");
    TempDir dir;
    Process process(ops_argv(archive_args(dir.path(), {"--batch-size", "100"})), db.env());
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    cluster("restart");
    db.reconnect();
    const auto result = process.wait();
    INFO(result.err);
    CHECK(result.exit_code == 1);
    const auto summary = result.json();
    CHECK(summary["status"] == "failed");
    CHECK(summary["deleted"].get<int>() > 0);
    CHECK(summary["deleted"].get<int>() < 3000);
    CHECK(result.err.find("connection") != std::string::npos);

    const auto next = run_ops(archive_args(dir.path()), db.env());
    REQUIRE(next.exit_code == 0);
    CHECK(summary["deleted"].get<int>() + next.json()["deleted"].get<int>() == 3000);
    remove_slow_down(db, {"audit_events", "DELETE"});
    restore_and_compare(db, dir.path(), original);
}

TEST_CASE("a full disk mid-run exits 1 and deletes only rows whose lines are on disk") {
    TestDatabase db;
    seed(db, 4000, 2);
    const auto original = snapshot(db);
    TempDir dir;
    // A file-size limit stands in for a full disk: write() fails with EFBIG part-way.
    Process process(
        {"/usr/bin/prlimit", "--fsize=150000", "--", required_env("OPS_BIN"), "--output", "json",
         "audit", "archive", "--dir", dir.path().string(), "--batch-size", "100"},
        db.env());
    const auto result = process.wait();
    INFO(result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("archive file") != std::string::npos);
    const auto summary = result.json();
    CHECK(summary["status"] == "failed");
    CHECK(summary["deleted"].get<int>() > 0);
    const auto table = snapshot(db);
    const auto lines = archived_lines(dir.path());
    for (const auto& [id, row] : original) {
        INFO("id " << id);
        if (!table.count(id)) REQUIRE(lines.count(id) == 1);
    }
    CHECK(original.size() - table.size() ==
          static_cast<std::size_t>(summary["deleted"].get<int>()));
    restore_and_compare(db, dir.path(), original);
}

TEST_CASE(
    "a second concurrent run exits 75 naming the holder and application inserts are untouched") {
    TestDatabase db;
    seed(db, 2000, 0);
    slow_down_deletes(db, "0.1");
    TempDir dir;
    Process first(ops_argv(archive_args(dir.path() / "a", {"--batch-size", "100"})), db.env());
    CHECK(wait_for_advisory_lock(db));
    const auto second =
        run_ops({"audit", "archive", "--dir", (dir.path() / "b").string()}, db.env());
    CHECK(second.exit_code == 75);
    CHECK(second.err.find("ops audit archive") != std::string::npos);
    CHECK(second.err.find("pid ") != std::string::npos);
    CHECK(!std::filesystem::exists(dir.path() / "b"));

    // The application keeps writing meanwhile; its fresh rows stay.
    for (int i = 0; i < 20; ++i) {
        db.exec(
            "INSERT INTO audit_events (channel, event, created_at) VALUES ('web', 'during.run', "
            "(now() AT TIME ZONE 'UTC')::timestamp(0))");
        usleep(20000);
    }
    const auto result = first.wait();
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["deleted"] == 2000);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'during.run'") == 20);
}

TEST_CASE("SIGTERM and SIGINT finish the batch in flight, summarise and exit 143 and 130") {
    TestDatabase db;
    seed(db, 3000, 0);
    const auto original = snapshot(db);
    slow_down_deletes(db, "0.05");
    TempDir dir;
    for (const auto& [signal, code] : {std::pair{SIGTERM, 143}, std::pair{SIGINT, 130}}) {
        Process process(ops_argv(archive_args(dir.path(), {"--batch-size", "50"})), db.env());
        std::this_thread::sleep_for(std::chrono::milliseconds(600));
        process.send(signal);
        const auto result = process.wait();
        INFO(result.err);
        CHECK(result.exit_code == code);
        const auto summary = result.json();
        CHECK(summary["status"] == "interrupted");
        CHECK(summary["deleted"].get<int>() > 0);
        CHECK(summary["deleted"].get<int>() < 3000);
        // A clean stop leaves a sound file with its manifest.
        CHECK(run_ops({"audit", "verify", summary["files"][0]["path"].get<std::string>()})
                  .exit_code == 0);
        CHECK(summary["deleted"] == summary["files"][0]["rows"]);
    }
    remove_slow_down(db, {"audit_events", "DELETE"});
    restore_and_compare(db, dir.path(), original);
}

TEST_CASE("a max runtime stops cleanly after the batch that passes it") {
    TestDatabase db;
    seed(db, 2000, 0);
    slow_down_deletes(db, "0.1");
    TempDir dir;
    const auto result = run_ops(
        archive_args(dir.path(), {"--batch-size", "100", "--max-runtime", "500ms"}), db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["stopped_by"] == "max-runtime");
    CHECK(summary["deleted"].get<int>() >= 100);
    CHECK(summary["deleted"].get<int>() < 2000);
}

TEST_CASE(
    "a lock held by the application is waited out with retries and a statement timeout fails the "
    "run") {
    TestDatabase db;
    seed(db, 200, 0);
    TempDir dir;
    {
        // Another session holds one of the rows for a second: the batch times out on the
        // lock, is retried with backoff, and succeeds once the lock is gone.
        pqxx::connection app(db.url());
        pqxx::work tx(app);
        tx.exec("SELECT id FROM audit_events ORDER BY id LIMIT 1 FOR UPDATE");
        Process process(ops_argv({"--lock-timeout", "200ms", "--output", "json", "audit", "archive",
                                  "--dir", (dir.path() / "a").string()}),
                        db.env());
        std::this_thread::sleep_for(std::chrono::milliseconds(700));
        tx.commit();
        const auto result = process.wait();
        INFO(result.err);
        CHECK(result.exit_code == 0);
        CHECK(result.err.find("transient database error (SQLSTATE 55P03)") != std::string::npos);
        CHECK(result.json()["deleted"] == 200);
    }
    seed(db, 50, 0);
    slow_down_deletes(db, "2");
    const auto timed_out = run_ops({"--statement-timeout", "300ms", "--output", "json", "audit",
                                    "archive", "--dir", (dir.path() / "b").string()},
                                   db.env());
    CHECK(timed_out.exit_code == 1);
    CHECK(timed_out.err.find("57014") != std::string::npos);
    CHECK(timed_out.json()["deleted"] == 0);
}

// libpqxx 6.4 throws a deadlock as deadlock_detected, which is no sql_error: the batch must
// still be retried, not fail the run (CI saw two batches of one run deadlock and exit 1).
TEST_CASE("a deadlock with the application is retried and the run archives every row") {
    TestDatabase db;
    // Ids, created_at and the heap all in one order: whichever scan the DELETE takes, it
    // locks the lower ids before it waits on the last one.
    db.exec(
        "INSERT INTO audit_events (channel, event, created_at) SELECT 'web', 'x', "
        "timestamp '2025-01-01' + i * interval '1 minute' FROM generate_series(1, 200) AS i");
    const auto original = snapshot(db);
    TempDir dir;
    pqxx::connection app(db.url());
    pqxx::work tx(app);
    tx.exec("SET LOCAL deadlock_timeout = '60s'");  // so that ops's backend finds the cycle
    tx.exec("SELECT id FROM audit_events ORDER BY id DESC LIMIT 1 FOR UPDATE");
    Process process(ops_argv({"--lock-timeout", "30s", "--output", "json", "audit", "archive",
                              "--parallel", "1", "--dir", dir.path().string()}),
                    db.env());
    bool waiting = false;
    for (int i = 0; i < 100 && !waiting; ++i) {
        usleep(50000);
        waiting = db.count(
                      "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                      "'ops audit archive' AND wait_event_type = 'Lock'") == 1;
    }
    REQUIRE(waiting);
    // Waits for a row ops's batch holds while ops waits for this one: a deadlock.
    tx.exec("SELECT id FROM audit_events ORDER BY id LIMIT 1 FOR UPDATE");
    tx.commit();
    const auto result = process.wait();
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.err.find("transient database error (SQLSTATE 40P01), retry 1 of 3") !=
          std::string::npos);
    CHECK(result.json()["deleted"] == 200);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'x'") == 0);
    int torn = 0;
    CHECK(archived_lines(dir.path(), &torn) == original);  // each row once, as it was
    CHECK(torn == 0);
}

// libpqxx 6.4 begins its read committed transactions with a bare BEGIN.
TEST_CASE("a database that defaults to serializable still runs ops's batches read committed") {
    TestDatabase db;
    seed(db, 300, 0);
    db.exec("ALTER DATABASE " + db.name() + " SET default_transaction_isolation = 'serializable'");
    db.exec("CREATE TABLE seen_isolation (level text)");
    db.exec(
        "CREATE FUNCTION note_isolation() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO seen_isolation VALUES (current_setting('transaction_isolation')); "
        "RETURN NULL; END $$");
    db.exec(
        "CREATE TRIGGER note_isolation AFTER DELETE ON audit_events FOR EACH STATEMENT "
        "EXECUTE FUNCTION note_isolation()");
    slow_down_deletes(db, "0.5");
    TempDir dir;
    Process process(ops_argv(archive_args(dir.path(), {"--batch-size", "19", "--parallel", "1"})),
                    db.env());
    // Serializable, the run's lock transaction (open for the whole run) would keep its first
    // snapshot, and VACUUM could clean nothing newer anywhere until the run ended. Read
    // committed, it holds none once the lock watchdog's first 5 s touch has run.
    std::this_thread::sleep_for(std::chrono::seconds(6));
    std::int64_t held_horizon = 0;
    for (int i = 0; i < 10; ++i) {
        usleep(100000);
        held_horizon += db.count(
            "SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND "
            "l.locktype = 'advisory' AND l.granted WHERE a.state = 'idle in transaction' AND "
            "a.backend_xmin IS NOT NULL");
    }
    const auto result = process.wait();
    INFO(result.err);
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["deleted"] == 300);
    CHECK(result.json()["duration_ms"].get<int>() > 7000);  // it was sampled mid-run
    CHECK(held_horizon == 0);
    CHECK(db.scalar("SELECT string_agg(DISTINCT level, ',') FROM seen_isolation") ==
          "read committed");
    CHECK(db.count("SELECT count(*) FROM seen_isolation") == 16);
}

// A deferred trigger fails the first batch's COMMIT with a serialization failure once, after
// ops wrote and synced that batch's lines: retrying would write them a second time.
TEST_CASE("a commit that fails after the lines were written ends the run instead of retrying") {
    TestDatabase db;
    seed(db, 300, 0);
    const auto original = snapshot(db);
    db.exec("CREATE SEQUENCE commit_failures");
    db.exec(
        "CREATE FUNCTION fail_first_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF nextval('commit_failures') = 1 THEN RAISE EXCEPTION 'injected' USING ERRCODE = "
        "'40001'; END IF; RETURN NULL; END $$");
    db.exec(
        "CREATE CONSTRAINT TRIGGER fail_first_commit AFTER DELETE ON audit_events DEFERRABLE "
        "INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fail_first_commit()");
    TempDir dir;
    const auto failed =
        run_ops(archive_args(dir.path(), {"--batch-size", "100", "--parallel", "1"}), db.env());
    INFO(failed.err);
    CHECK(failed.exit_code == 1);
    CHECK(failed.err.find("a batch's commit failed after its lines were written to ") !=
          std::string::npos);
    CHECK(failed.err.find("(SQLSTATE 40001): ERROR:  injected") != std::string::npos);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'order.created'") == 300);
    const auto next = run_ops(archive_args(dir.path(), {"--batch-size", "100"}), db.env());
    INFO(next.err);
    REQUIRE(next.exit_code == 0);
    CHECK(next.json()["deleted"] == 300);
    // No file holds a line twice; every row is on a whole line of some file, as it was.
    for (const auto& file : data_files(dir.path())) {
        const auto text = read_file(file);
        std::set<std::string> unique;
        std::size_t lines = 0;
        for (std::size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos;
             at = end + 1, ++lines)
            unique.insert(text.substr(at, end - at));
        CHECK(unique.size() == lines);
    }
    auto dated = original;
    std::erase_if(dated, [](const auto& row) { return row.second["created_at"].is_null(); });
    CHECK(archived_lines(dir.path()) == dated);
}

TEST_CASE("on a terminal archive draws a progress line with rate and ETA") {
    TestDatabase db;
    seed(db, 1500, 0);
    slow_down_deletes(db, "0.1");
    TempDir dir;
    // `script` gives ops a pseudo-terminal, as an operator's shell would.
    std::string command =
        required_env("OPS_BIN") + " audit archive --batch-size 100 --dir " + dir.path().string();
    Process process({"/usr/bin/script", "-qec", command, "/dev/null"}, db.env());
    const auto result = process.wait();
    CHECK(result.exit_code == 0);
    CHECK(result.out.find("\raudit archive: ") != std::string::npos);
    CHECK(result.out.find(" of 1500 rows, ") != std::string::npos);
    CHECK(result.out.find("rows/s, ETA ") != std::string::npos);
}
