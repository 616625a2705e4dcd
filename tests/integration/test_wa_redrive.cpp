// `ops wa redrive-failed` against the real application side: what it selects and leaves alone,
// the jobs rows a real Laravel 8 worker (tests/laravel) then runs, and what concurrent
// writers, a second run and kill -9 leave behind.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <set>

#include "database_waits.hpp"
#include "harness.hpp"

using namespace ops_test;

namespace {

// Every batch's INSERT into jobs sleeps, so that a kill lands mid-run, inside a transaction.
const SlowDown kSlowInserts = {"jobs", "INSERT", "0.05"};

constexpr const char* kPhp = "/usr/bin/php";

// The waMessageId inside a jobs.payload (the serialized command, JSON-escaped).
constexpr const char* kJobMessageId =
    R"(substring(payload FROM 'waMessageId\\";i:([0-9]+);')::bigint)";

void seed_tenants(TestDatabase& db) {
    db.exec(
        "INSERT INTO tenants (id, name, created_at) VALUES (1, 'Toko Satu', '2025-01-01'), "
        "(2, 'Toko Dua', '2025-01-01'), (3, 'Toko Tiga', '2025-01-01')");
}

// Adds a message; `code` and `failed_at` are SQL expressions ('timeout', NULL, ...).
std::int64_t add_message(TestDatabase& db, int tenant, const std::string& status,
                         const std::string& code,
                         const std::string& failed_at = "'2026-01-15 10:00:00'") {
    return db.count(
        "INSERT INTO wa_messages (tenant_id, recipient, template, status, attempts, error_code, "
        "error_message, failed_at, created_at, updated_at) VALUES (" +
        std::to_string(tenant) + ", '+6281234567', 'order_paid', '" + status + "', 3, " + code +
        ", CASE WHEN " + code + " IS NULL THEN NULL ELSE 'provider said ' || " + code + " END, " +
        failed_at + ", '2026-01-15 09:00:00', '2026-01-15 10:00:00') RETURNING id");
}

// `n` failed messages with transient codes, spread over the three tenants.
void add_transient_failures(TestDatabase& db, int n) {
    db.exec(
        "INSERT INTO wa_messages (tenant_id, recipient, status, attempts, error_code, "
        "error_message, "
        "failed_at, created_at) "
        "SELECT 1 + i % 3, '+62' || i, 'failed', 1 + i % 3, "
        "(ARRAY['timeout','network_error','rate_limited','provider_unavailable','provider_error'])"
        "[1 + i % 5], 'error ' || i, timestamp '2026-01-15 10:00:00' - i * interval '1 minute', "
        "'2026-01-15 09:00:00' FROM generate_series(1, " +
        std::to_string(n) + ") AS i");
}

std::set<std::int64_t> ids(TestDatabase& db, const std::string& sql) {
    std::set<std::int64_t> out;
    for (const auto& row : db.rows_as_json(sql))
        out.insert(row.begin().value().get<std::int64_t>());
    return out;
}

std::set<std::int64_t> job_message_ids(TestDatabase& db) {
    return ids(db, std::string("SELECT ") + kJobMessageId + " AS id FROM jobs");
}

// The all-or-nothing rule: every failed or queued message (none is queued before a test's
// runs) is still failed with no job and no audit event, or queued with exactly one job and
// exactly one wa.message.redriven event.
void check_all_or_nothing(TestDatabase& db) {
    const auto broken = db.count(
        std::string("WITH j AS (SELECT ") + kJobMessageId +
        " AS id, count(*) AS n FROM jobs GROUP BY 1), "
        "a AS (SELECT subject_id AS id, count(*) AS n FROM audit_events "
        "      WHERE event = 'wa.message.redriven' GROUP BY 1) "
        "SELECT count(*) FROM wa_messages m LEFT JOIN j USING (id) LEFT JOIN a USING (id) "
        "WHERE (m.status IN ('failed', 'queued') OR j.n IS NOT NULL OR a.n IS NOT NULL) "
        "  AND NOT ((m.status = 'failed' AND j.n IS NULL AND a.n IS NULL) "
        "        OR (m.status = 'queued' AND m.error_code IS NULL AND j.n = 1 AND a.n = 1))");
    CHECK(broken == 0);
    CHECK(db.count("SELECT count(*) FROM jobs") ==
          db.count(std::string("SELECT count(DISTINCT ") + kJobMessageId + ") FROM jobs"));
}

Env php_env(const TestDatabase& db) {
    return {{"OPS_TEST_PGHOST", "127.0.0.1"},
            {"OPS_TEST_PGPORT", required_env("OPS_TEST_PGPORT")},
            {"OPS_TEST_PGDATABASE", db.name()},
            {"OPS_TEST_PGUSER", "postgres"}};
}

// Runs one of the Laravel harness scripts; PHP is a test dependency, so its absence fails.
RunResult run_php(const TestDatabase& db, const std::string& script,
                  const std::vector<std::string>& args = {}, Env extra = {}) {
    if (!std::filesystem::exists(kPhp)) {
        FAIL(kPhp << " is missing: install php-cli, php-pgsql and php-laravel-framework");
    }
    std::vector<std::string> argv = {kPhp,
                                     required_env("OPS_SOURCE_DIR") + "/tests/laravel/" + script};
    argv.insert(argv.end(), args.begin(), args.end());
    Env env = php_env(db);
    env.insert(extra.begin(), extra.end());
    Process process(argv, env);
    RunResult result = process.wait();
    UNSCOPED_INFO("php " << script << " exit " << result.exit_code << "\nstdout:\n"
                         << result.out << "\nstderr:\n"
                         << result.err);
    return result;
}

std::string table_snapshot(TestDatabase& db) {
    std::string snapshot;
    for (const char* table : {"wa_messages", "jobs", "audit_events", "failed_jobs"}) {
        for (const auto& row :
             db.rows_as_json(std::string("SELECT * FROM ") + table + " ORDER BY id")) {
            snapshot += row.dump() + "\n";
        }
    }
    return snapshot;
}

std::string uuid_blanked(const std::string& payload) {
    static const std::regex kUuid(
        R"("uuid":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")");
    return std::regex_replace(payload, kUuid, R"("uuid":"-")");
}

}  // namespace

TEST_CASE("wa redrive-failed: a real Laravel worker runs every redriven message once") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 23);
    const auto permanent = add_message(db, 1, "failed", "'blocked'");
    const auto unknown = add_message(db, 2, "failed", "'webhook_lost'");
    const auto null_code = add_message(db, 3, "failed", "NULL");
    const auto sent = add_message(db, 1, "sent", "NULL");
    const auto expected = ids(db,
                              "SELECT id FROM wa_messages WHERE error_code IN "
                              "('timeout','network_error','rate_limited','provider_unavailable',"
                              "'provider_error')");
    REQUIRE(expected.size() == 23);

    const auto result =
        run_ops({"--output", "json", "wa", "redrive-failed", "--batch-size", "5"}, db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["queue"] == "default");
    CHECK(summary["selected"] == 23);
    CHECK(summary["redriven"] == 23);
    CHECK(summary["jobs_inserted"] == 23);
    CHECK(summary["audit_events"] == 23);
    CHECK(summary["left_alone"] ==
          nlohmann::json({{"blocked", 1}, {"webhook_lost", 1}, {"none", 1}}));
    CHECK(summary["by_reason"].size() == 5);

    // The messages and their jobs, as Laravel's own dispatch would leave them.
    CHECK(ids(db, "SELECT id FROM wa_messages WHERE status = 'queued'") == expected);
    CHECK(db.count(
              "SELECT count(*) FROM wa_messages WHERE status = 'queued' AND (attempts <> 0 "
              "OR error_code IS NOT NULL OR error_message IS NOT NULL OR failed_at IS NOT NULL "
              "OR updated_at < (now() AT TIME ZONE 'UTC')::timestamp(0) - interval '1 minute')") ==
          0);
    CHECK(job_message_ids(db) == expected);
    CHECK(db.count("SELECT count(*) FROM jobs WHERE queue <> 'default' OR attempts <> 0 OR "
                   "reserved_at IS NOT NULL OR available_at <> created_at OR "
                   "created_at > floor(extract(epoch FROM now()))") == 0);
    CHECK(db.count("SELECT count(DISTINCT payload::json->>'uuid') FROM jobs") == 23);
    // Jobs go in message order (the worker takes them by jobs.id).
    CHECK(db.count(std::string("SELECT count(*) FROM (SELECT ") + kJobMessageId +
                   " AS m, row_number() OVER (ORDER BY id) AS a, row_number() OVER (ORDER BY " +
                   kJobMessageId + ") AS b FROM jobs) x WHERE a <> b") == 0);
    check_all_or_nothing(db);

    // The history the redrive cleared is in the audit trail.
    const auto events = db.rows_as_json(
        "SELECT channel, actor_type, subject_type, metadata FROM audit_events "
        "WHERE event = 'wa.message.redriven' AND subject_id = " +
        std::to_string(*expected.begin()));
    REQUIRE(events.size() == 1);
    CHECK(events[0]["channel"] == "ops");
    CHECK(events[0]["subject_type"] == "wa_message");
    const auto metadata = events[0]["metadata"];
    CHECK(metadata["error_code"] == "network_error");
    CHECK(metadata["error_message"] == "error 1");
    CHECK(metadata["attempts"] == 2);
    CHECK(metadata["failed_at"] == "2026-01-15 09:59:00");
    CHECK(metadata["run_id"] == summary["run_id"]);
    const auto run_record =
        db.rows_as_json("SELECT metadata FROM audit_events WHERE event = 'ops.wa.redrive-failed'");
    REQUIRE(run_record.size() == 1);
    CHECK(run_record[0]["metadata"]["by_reason"] == summary["by_reason"]);

    // An unmodified Laravel 8 worker runs each job once, with the right id.
    const auto worker = run_php(db, "work.php");
    CHECK(worker.exit_code == 0);
    CHECK(worker.out == "processed=23 failed=0 released=0\n");
    CHECK(ids(db, "SELECT DISTINCT wa_message_id FROM test_job_runs") == expected);
    CHECK(db.count("SELECT count(*) FROM test_job_runs") == 23);
    CHECK(db.count("SELECT count(*) FROM jobs") == 0);
    CHECK(db.count("SELECT count(*) FROM failed_jobs") == 0);
    CHECK(db.count("SELECT count(*) FROM wa_messages WHERE status = 'sent'") == 24);
    for (const auto id : {permanent, unknown, null_code}) {
        CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(id)) ==
              "failed");
    }
    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(sent)) == "sent");
}

TEST_CASE("wa redrive-failed: --queue, --tries, --backoff and --timeout reach a real worker") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 6);
    const auto result = run_ops({"--output", "json", "wa", "redrive-failed", "--queue", "wa-retry",
                                 "--tries", "3", "--backoff", "10,60", "--timeout", "120"},
                                db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["queue"] == "wa-retry");
    CHECK(db.count("SELECT count(*) FROM jobs WHERE queue = 'wa-retry'") == 6);
    const auto payload = nlohmann::json::parse(db.scalar("SELECT payload FROM jobs LIMIT 1"));
    CHECK(payload["maxTries"] == 3);
    CHECK(payload["backoff"] == "10,60");
    CHECK(payload["timeout"] == 120);

    CHECK(run_php(db, "work.php").out == "processed=0 failed=0 released=0\n");  // not on default
    const auto worker = run_php(db, "work.php", {"wa-retry"});
    CHECK(worker.exit_code == 0);
    CHECK(worker.out == "processed=6 failed=0 released=0\n");
    CHECK(db.count("SELECT count(DISTINCT wa_message_id) FROM test_job_runs") == 6);
    CHECK(db.count("SELECT count(*) FROM jobs") == 0);
    CHECK(db.count("SELECT count(*) FROM failed_jobs") == 0);
}

TEST_CASE("wa redrive-failed: the payload equals Laravel's own dispatch byte for byte") {
    TestDatabase db;
    seed_tenants(db);
    db.exec(
        "INSERT INTO wa_messages (id, tenant_id, recipient, status, error_code, failed_at) VALUES "
        "(42, 1, '+100', 'failed', 'timeout', '2026-01-15 10:00:00'), "
        "(9007199254740993, 1, '+101', 'failed', 'timeout', '2026-01-15 10:00:00')");
    for (const std::string queue : {"", "wa-high", "wa/sends", "we\"ird\\q \xc3\xa4\xc3\xb6"}) {
        for (const std::string id : {"42", "9007199254740993"}) {
            INFO("queue '" << queue << "', id " << id);
            std::vector<std::string> args = {id};
            if (!queue.empty()) args.push_back(queue);
            const auto dispatched = run_php(db, "dispatch.php", args);
            REQUIRE(dispatched.exit_code == 0);
            const auto laravel_row = nlohmann::json::parse(dispatched.out);
            db.exec("DELETE FROM jobs");

            std::vector<std::string> ops_args = {"--output",       "json",     "wa",
                                                 "redrive-failed", "--reason", "timeout"};
            if (!queue.empty()) ops_args.insert(ops_args.end(), {"--queue", queue});
            REQUIRE(run_ops(ops_args, db.env()).exit_code == 0);
            const auto ours = db.rows_as_json("SELECT * FROM jobs WHERE " +
                                              std::string(kJobMessageId) + " = " + id);
            REQUIRE(ours.size() == 1);
            const std::string our_payload = ours[0]["payload"];
            const std::string laravel_payload = laravel_row["payload"];
            CHECK(uuid_blanked(our_payload) == uuid_blanked(laravel_payload));
            CHECK(our_payload != laravel_payload);  // a fresh uuid, not Laravel's
            CHECK(ours[0]["queue"] == laravel_row["queue"]);
            CHECK(ours[0]["attempts"] == laravel_row["attempts"]);
            CHECK(ours[0]["reserved_at"] == laravel_row["reserved_at"]);
            CHECK(ours[0]["available_at"] == ours[0]["created_at"]);
            CHECK(ours[0]["created_at"].get<std::int64_t>() -
                      laravel_row["created_at"].get<std::int64_t>() <
                  30);
            db.exec(
                "DELETE FROM jobs; UPDATE wa_messages SET status = 'failed', error_code = "
                "'timeout'");
        }
    }
}

TEST_CASE("wa redrive-failed: permanent, unknown and NULL reasons are left alone by default") {
    TestDatabase db;
    seed_tenants(db);
    const auto transient = add_message(db, 1, "failed", "'rate_limited'");
    for (const char* code :
         {"'invalid_recipient'", "'not_on_whatsapp'", "'blocked'", "'template_rejected'",
          "'auth_failed'", "'TIMEOUT'", "' timeout'", "'timeout '", "'webhook_lost'", "NULL"}) {
        add_message(db, 2, "failed", code);
    }
    add_message(db, 3, "sent", "'timeout'");  // not failed: never touched
    const std::string untouched_before =
        db.rows_as_json("SELECT json_agg(m ORDER BY id) FROM wa_messages m WHERE id <> " +
                        std::to_string(transient))[0]
            .dump();

    const auto result = run_ops({"--output", "json", "wa", "redrive-failed"}, db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["redriven"] == 1);
    CHECK(summary["left_alone"].size() == 10);
    CHECK(summary["left_alone"]["none"] == 1);
    CHECK(summary["left_alone"][" timeout"] == 1);
    CHECK(job_message_ids(db) == std::set<std::int64_t>{transient});
    CHECK(db.rows_as_json("SELECT json_agg(m ORDER BY id) FROM wa_messages m WHERE id <> " +
                          std::to_string(transient))[0]
              .dump() == untouched_before);
    check_all_or_nothing(db);
}

TEST_CASE("wa redrive-failed: --include-permanent and --reason choose the codes") {
    TestDatabase db;
    seed_tenants(db);
    const auto timeout = add_message(db, 1, "failed", "'timeout'");
    const auto blocked = add_message(db, 1, "failed", "'blocked'");
    const auto invalid = add_message(db, 1, "failed", "'invalid_recipient'");
    const auto unknown = add_message(db, 1, "failed", "'webhook_lost'");
    const auto null_code = add_message(db, 1, "failed", "NULL");
    const auto rate_limited = add_message(db, 1, "failed", "'rate_limited'");

    // --reason narrows to exactly the codes named.
    auto result =
        run_ops({"--output", "json", "wa", "redrive-failed", "--reason", "rate_limited"}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(job_message_ids(db) == std::set<std::int64_t>{rate_limited});
    CHECK(result.json()["left_alone"] ==
          nlohmann::json(
              {{"blocked", 1}, {"invalid_recipient", 1}, {"webhook_lost", 1}, {"none", 1}}));

    // A permanent code needs --include-permanent.
    result = run_ops({"wa", "redrive-failed", "--reason", "blocked"}, db.env());
    CHECK(result.exit_code == 2);
    CHECK(result.err.find("'blocked' is a permanent reason") != std::string::npos);
    CHECK(result.err.find("--include-permanent") != std::string::npos);
    result =
        run_ops({"wa", "redrive-failed", "--reason", "blocked", "--include-permanent"}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(job_message_ids(db) == std::set<std::int64_t>{rate_limited, blocked});

    // --reason none is the NULL error_code, an unknown reason.
    CHECK(run_ops({"wa", "redrive-failed", "--reason", "none"}, db.env()).exit_code == 2);
    result = run_ops(
        {"--output", "json", "wa", "redrive-failed", "--reason", "none", "--include-permanent"},
        db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["by_reason"] == nlohmann::json({{"none", 1}}));
    CHECK(job_message_ids(db) == std::set<std::int64_t>{rate_limited, blocked, null_code});

    // --include-permanent alone: the transient and the permanent codes, never unknown ones.
    result = run_ops({"--output", "json", "wa", "redrive-failed", "--include-permanent"}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(job_message_ids(db) ==
          std::set<std::int64_t>{rate_limited, blocked, null_code, timeout, invalid});
    CHECK(result.json()["left_alone"] == nlohmann::json({{"webhook_lost", 1}}));
    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(unknown)) ==
          "failed");
    check_all_or_nothing(db);
}

TEST_CASE("wa redrive-failed: tenant and failed_at filters, in the application's timezone") {
    TestDatabase db;
    seed_tenants(db);
    const auto t1 = add_message(db, 1, "failed", "'timeout'", "'2026-01-10 08:00:00'");
    const auto t2 = add_message(db, 2, "failed", "'timeout'", "'2026-01-15 12:00:00'");
    const auto t3 = add_message(db, 3, "failed", "'timeout'", "'2026-01-20 12:00:00'");
    const auto t3_late = add_message(db, 3, "failed", "'timeout'", "'2026-01-25 00:00:00'");
    const auto no_time = add_message(db, 2, "failed", "'timeout'", "NULL");

    auto result = run_ops(
        {"--output", "json", "wa", "redrive-failed", "--tenant", "2", "--tenant", "3",
         "--failed-after", "2026-01-15 12:00", "--failed-before", "2026-01-25", "--dry-run"},
        db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["selected"] == 2);
    CHECK(result.json()["tenants"] == nlohmann::json({2, 3}));
    CHECK(result.json()["failed_after"] == "2026-01-15 12:00:00");
    CHECK(result.json()["failed_before"] == "2026-01-25 00:00:00");
    result = run_ops({"wa", "redrive-failed", "--tenant", "2", "--tenant", "3", "--failed-after",
                      "2026-01-15 12:00", "--failed-before", "2026-01-25"},
                     db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(job_message_ids(db) == std::set<std::int64_t>{t2, t3});

    result = run_ops({"wa", "redrive-failed", "--tenant", "1"}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(job_message_ids(db) == std::set<std::int64_t>{t1, t2, t3});
    (void)t3_late;
    (void)no_time;

    // Relative times count back from now in the application's timezone (failed_at is wall
    // time there). Jakarta is UTC+7: read as UTC, the cutoff would be 7 hours off.
    db.exec("DELETE FROM jobs; DELETE FROM audit_events; DELETE FROM wa_messages");
    const std::string jakarta_now = "(now() AT TIME ZONE 'Asia/Jakarta')::timestamp(0)";
    const auto recent =
        add_message(db, 1, "failed", "'timeout'", jakarta_now + " - interval '2 hours'");
    const auto older =
        add_message(db, 1, "failed", "'timeout'", jakarta_now + " - interval '5 hours'");
    const auto oldest =
        add_message(db, 1, "failed", "'timeout'", jakarta_now + " - interval '3 days'");
    result = run_ops({"--timezone", "Asia/Jakarta", "--output", "json", "wa", "redrive-failed",
                      "--failed-after", "3h"},
                     db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(job_message_ids(db) == std::set<std::int64_t>{recent});
    result = run_ops(
        {"--timezone", "Asia/Jakarta", "wa", "redrive-failed", "--failed-before", "2d"}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(job_message_ids(db) == std::set<std::int64_t>{recent, oldest});
    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(older)) ==
          "failed");
    // updated_at is the application's wall time too.
    CHECK(db.count(
              "SELECT count(*) FROM wa_messages WHERE status = 'queued' AND abs(extract(epoch FROM "
              "updated_at - " +
              jakarta_now + ")) > 60") == 0);
    check_all_or_nothing(db);
}

TEST_CASE("wa redrive-failed: --limit and --rate spacing of available_at") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 14);

    auto result = run_ops({"--output", "json", "wa", "redrive-failed", "--rate", "3", "--limit",
                           "10", "--batch-size", "4", "--dry-run"},
                          db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["selected"] == 10);
    CHECK(result.json()["rate"]["per_second"] == 3);
    CHECK(result.json()["rate"]["last_available_after_s"] == 3);

    const auto before = db.count("SELECT floor(extract(epoch FROM now()))::bigint");
    result = run_ops({"--output", "json", "wa", "redrive-failed", "--rate", "3", "--limit", "10",
                      "--batch-size", "4"},
                     db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["redriven"] == 10);
    CHECK(job_message_ids(db) == ids(db, "SELECT id FROM wa_messages ORDER BY id LIMIT 10"));
    const auto start = summary["rate"]["first_available_at"].get<std::int64_t>();
    CHECK(start >= before);
    CHECK(summary["rate"]["last_available_at"] == start + 3);
    // The k-th job of the run becomes available at start + floor(k / 3), across batches.
    const auto jobs =
        db.rows_as_json(std::string("SELECT ") + kJobMessageId +
                        " AS message, available_at, created_at FROM jobs ORDER BY id");
    REQUIRE(jobs.size() == 10);
    for (std::size_t k = 0; k < jobs.size(); ++k) {
        INFO("job " << k);
        CHECK(jobs[k]["available_at"].get<std::int64_t>() ==
              start + static_cast<std::int64_t>(k) / 3);
        CHECK(jobs[k]["created_at"].get<std::int64_t>() >= start);
        if (k > 0)
            CHECK(jobs[k]["message"].get<std::int64_t>() >
                  jobs[k - 1]["message"].get<std::int64_t>());
    }
    check_all_or_nothing(db);
}

TEST_CASE("wa redrive-failed: --rate holds across parallel batches") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 200);
    // One message is being sent: its batch requeues one fewer than planned (a gap in the rate).
    const auto held = db.count("SELECT id FROM wa_messages ORDER BY id OFFSET 40 LIMIT 1");
    pqxx::connection app(db.url());
    pqxx::work tx(app);
    tx.exec("SELECT * FROM wa_messages WHERE id = " + std::to_string(held) + " FOR UPDATE");

    const auto before = db.count("SELECT floor(extract(epoch FROM now()))::bigint");
    const auto result = run_ops({"--output", "json", "wa", "redrive-failed", "--rate", "7",
                                 "--batch-size", "6", "--parallel", "3"},
                                db.env());
    tx.commit();
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["redriven"] == 199);
    CHECK(summary["jobs_inserted"] == 199);
    CHECK(summary["skipped"] == 1);
    const auto start = summary["rate"]["first_available_at"].get<std::int64_t>();
    CHECK(start >= before);
    // No second has more than 7 jobs becoming available, and none is before the start.
    CHECK(db.count("SELECT count(*) FROM (SELECT available_at FROM jobs GROUP BY available_at "
                   "HAVING count(*) > 7) AS crowded") == 0);
    CHECK(db.count("SELECT count(*) FROM jobs WHERE available_at < " + std::to_string(start)) == 0);
    CHECK(db.count("SELECT max(available_at) FROM jobs") ==
          summary["rate"]["last_available_at"].get<std::int64_t>());
    // Every message but the held one got exactly one job, and jobs.id follows message order.
    auto expected = ids(db, "SELECT id FROM wa_messages");
    expected.erase(held);
    CHECK(job_message_ids(db) == expected);
    CHECK(db.count("SELECT count(*) FROM jobs") == 199);
    CHECK(db.count(std::string("SELECT count(*) FROM (SELECT ") + kJobMessageId +
                   " AS m, row_number() OVER (ORDER BY id) AS a, row_number() OVER (ORDER BY " +
                   kJobMessageId + ") AS b FROM jobs) x WHERE a <> b") == 0);
    check_all_or_nothing(db);
}

TEST_CASE("wa redrive-failed: a dry run reports the plan and changes nothing") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 10);
    add_message(db, 1, "failed", "'not_on_whatsapp'");
    add_message(db, 1, "failed", "'not_on_whatsapp'");
    add_message(db, 2, "failed", "NULL");
    add_message(db, 2, "delivered", "NULL");
    const std::string before = table_snapshot(db);

    const auto result =
        run_ops({"--output", "json", "wa", "redrive-failed", "--dry-run", "--rate", "4"}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(table_snapshot(db) == before);
    const auto summary = result.json();
    CHECK(summary["dry_run"] == true);
    CHECK(summary["selected"] == 10);
    CHECK(summary["redriven"] == 0);
    CHECK(summary["jobs_inserted"] == 0);
    CHECK(summary["by_reason"] == nlohmann::json({{"network_error", 2},
                                                  {"provider_error", 2},
                                                  {"provider_unavailable", 2},
                                                  {"rate_limited", 2},
                                                  {"timeout", 2}}));
    // Largest first: tenant 2 has i%3 == 1 (i = 1, 4, 7, 10), tenants 1 and 3 three each.
    REQUIRE(summary["by_tenant"].size() == 3);
    CHECK(summary["by_tenant"][0] == nlohmann::json({{"tenant_id", 2}, {"messages", 4}}));
    CHECK(summary["by_tenant"][1] == nlohmann::json({{"tenant_id", 1}, {"messages", 3}}));
    CHECK(summary["left_alone"] == nlohmann::json({{"not_on_whatsapp", 2}, {"none", 1}}));
    CHECK(summary["oldest_failed_at"] == "2026-01-15 09:50:00");
    CHECK(summary["newest_failed_at"] == "2026-01-15 09:59:00");
    CHECK(summary["rate"]["last_available_after_s"] == 2);
    CHECK(result.err.find("[DRY-RUN]") != std::string::npos);

    const auto text = run_ops({"wa", "redrive-failed", "--dry-run"}, db.env());
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("left_alone") != std::string::npos);
    CHECK(table_snapshot(db) == before);
}

TEST_CASE("wa redrive-failed: a message that already has a job waiting is not queued twice") {
    TestDatabase db;
    seed_tenants(db);
    const auto waiting = add_message(db, 1, "failed", "'timeout'");
    const auto other = add_message(db, 1, "failed", "'timeout'");
    REQUIRE(run_php(db, "dispatch.php", {std::to_string(waiting)}).exit_code == 0);
    const auto result = run_ops({"--output", "json", "wa", "redrive-failed"}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["already_queued"] == 1);
    CHECK(result.json()["redriven"] == 1);
    CHECK(db.count("SELECT count(*) FROM jobs") == 2);
    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(waiting)) ==
          "failed");
    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(other)) ==
          "queued");
}

// The check reads the jobs table once per run; each batch then excludes only the waiting
// messages inside its own id range. Waiting messages at a batch's start, middle and end, in
// later planning rounds (8 batches per round) and last of all are each skipped, their batch's
// other messages are not.
TEST_CASE("wa redrive-failed: already-queued messages are skipped in every batch's range") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 120);
    std::vector<std::int64_t> all;
    for (const auto id : ids(db, "SELECT id FROM wa_messages")) all.push_back(id);
    REQUIRE(all.size() == 120);
    const std::vector<std::int64_t> waiting = {all[0],  all[5],  all[6],   all[7],
                                               all[50], all[93], all[118], all[119]};
    // The application's own job for the first, and the same payload for the others.
    REQUIRE(run_php(db, "dispatch.php", {std::to_string(waiting[0])}).exit_code == 0);
    for (std::size_t i = 1; i < waiting.size(); ++i) {
        db.exec(
            "INSERT INTO jobs (queue, payload, attempts, available_at, created_at) "
            "SELECT queue, replace(payload, 'i:" +
            std::to_string(waiting[0]) + ";', 'i:" + std::to_string(waiting[i]) +
            ";'), 0, available_at, created_at FROM jobs WHERE id = (SELECT min(id) FROM jobs)");
    }
    const auto result = run_ops(
        {"--output", "json", "wa", "redrive-failed", "--batch-size", "4", "--parallel", "2"},
        db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["already_queued"] == 8);
    CHECK(summary["selected"] == 112);
    CHECK(summary["redriven"] == 112);
    CHECK(summary["skipped"] == 0);

    std::set<std::int64_t> expected(all.begin(), all.end());
    for (const auto id : waiting) {
        expected.erase(id);
        CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(id)) ==
              "failed");
    }
    CHECK(ids(db, "SELECT id FROM wa_messages WHERE status = 'queued'") == expected);
    // Every message has exactly one job: the application's or the redrive's.
    CHECK(db.count("SELECT count(*) FROM jobs") == 120);
    CHECK(job_message_ids(db).size() == 120);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE event = 'wa.message.redriven' AND "
                   "subject_id IN (" +
                   std::to_string(waiting[0]) + ", " + std::to_string(waiting[3]) + ", " +
                   std::to_string(waiting[7]) + ")") == 0);
}

// The uuids are drawn per batch and matched to the messages by position: each job's uuid is
// the one its message's audit event names, and the summary's breakdown (grouped per batch on
// the server) adds up to what the audit events hold.
TEST_CASE("wa redrive-failed: each job's uuid is its audit event's, and the breakdown adds up") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 150);
    const auto result = run_ops(
        {"--output", "json", "wa", "redrive-failed", "--batch-size", "7", "--parallel", "3"},
        db.env());
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["redriven"] == 150);
    CHECK(db.count(std::string("SELECT count(*) FROM jobs j JOIN audit_events e ON e.subject_id "
                               "= ") +
                   kJobMessageId +
                   " AND e.event = 'wa.message.redriven' "
                   "WHERE e.metadata->>'job_uuid' = j.payload::json->>'uuid'") == 150);
    CHECK(db.count("SELECT count(DISTINCT payload::json->>'uuid') FROM jobs") == 150);

    const std::string events =
        "FROM audit_events e JOIN wa_messages m ON m.id = e.subject_id "
        "WHERE e.event = 'wa.message.redriven'";
    nlohmann::json by_reason = nlohmann::json::object();
    for (const auto& row : db.rows_as_json("SELECT e.metadata->>'error_code' AS code, count(*) "
                                           "AS n " +
                                           events + " GROUP BY 1"))
        by_reason[row["code"].get<std::string>()] = row["n"];
    CHECK(summary["by_reason"] == by_reason);
    std::int64_t tenants = 0;
    for (const auto& entry : summary["by_tenant"]) {
        CHECK(entry["messages"] == db.count("SELECT count(*) " + events + " AND m.tenant_id = " +
                                            std::to_string(entry["tenant_id"].get<int>())));
        tenants += entry["messages"].get<std::int64_t>();
    }
    CHECK(tenants == 150);
    CHECK(summary["oldest_failed_at"] ==
          db.scalar("SELECT min(e.metadata->>'failed_at') " + events));
    CHECK(summary["newest_failed_at"] ==
          db.scalar("SELECT max(e.metadata->>'failed_at') " + events));
    check_all_or_nothing(db);
}

TEST_CASE("wa redrive-failed: a row another transaction holds is skipped and left as it is") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 30);
    const auto held = db.count("SELECT id FROM wa_messages ORDER BY id OFFSET 12 LIMIT 1");

    // The application's worker is sending this message right now (its own transaction).
    pqxx::connection app(db.url());
    pqxx::work tx(app);
    tx.exec("UPDATE wa_messages SET status = 'sending', updated_at = now() WHERE id = " +
            std::to_string(held));
    const auto result = run_ops(
        {"--output", "json", "--lock-timeout", "1s", "wa", "redrive-failed", "--batch-size", "5"},
        db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["selected"] == 30);
    CHECK(result.json()["redriven"] == 29);
    CHECK(result.json()["skipped"] == 1);
    tx.commit();

    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(held)) ==
          "sending");
    CHECK(job_message_ids(db).count(held) == 0);
    CHECK(db.count("SELECT count(*) FROM jobs") == 29);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE subject_id = " +
                   std::to_string(held)) == 0);

    // A lock held only to read (FOR UPDATE, like the app's lockForUpdate) is skipped the same way.
    db.exec("UPDATE wa_messages SET status = 'failed', error_code = 'timeout' WHERE id = " +
            std::to_string(held));
    pqxx::work reader(app);
    reader.exec("SELECT * FROM wa_messages WHERE id = " + std::to_string(held) + " FOR UPDATE");
    CHECK(run_ops({"wa", "redrive-failed"}, db.env()).exit_code == 0);
    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(held)) ==
          "failed");
    reader.commit();
    CHECK(run_ops({"wa", "redrive-failed"}, db.env()).exit_code == 0);
    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(held)) ==
          "queued");
    check_all_or_nothing(db);
}

TEST_CASE("wa redrive-failed: two runs at once never queue a message twice") {
    for (const auto& [p1, p2] :
         std::vector<std::pair<std::string, std::string>>{{"1", "3"}, {"3", "1"}}) {
        INFO("--parallel " << p1 << " and " << p2);
        TestDatabase db;
        seed_tenants(db);
        add_transient_failures(db, 2000);
        Process first(ops_argv({"--output", "json", "wa", "redrive-failed", "--batch-size", "25",
                                "--parallel", p1}),
                      db.env());
        Process second(ops_argv({"--output", "json", "wa", "redrive-failed", "--batch-size", "25",
                                 "--parallel", p2}),
                       db.env());
        const auto a = first.wait();
        const auto b = second.wait();
        INFO("first: " << a.exit_code << " " << a.err << "\nsecond: " << b.exit_code << " "
                       << b.err);
        CHECK((a.exit_code == 0 || a.exit_code == 75));
        CHECK((b.exit_code == 0 || b.exit_code == 75));
        CHECK((a.exit_code == 0 || b.exit_code == 0));
        // Then a third run finds nothing left.
        const auto third = run_ops({"--output", "json", "wa", "redrive-failed"}, db.env());
        REQUIRE(third.exit_code == 0);
        CHECK(third.json()["redriven"] == 0);
        CHECK(db.count("SELECT count(*) FROM jobs") == 2000);
        CHECK(db.count("SELECT count(*) FROM wa_messages WHERE status = 'queued'") == 2000);
        check_all_or_nothing(db);
    }
}

TEST_CASE(
    "wa redrive-failed: kill -9 mid-run leaves each message failed without a job or queued with "
    "one") {
    for (const std::string parallel : {"1", "3"}) {
        INFO("--parallel " << parallel);
        TestDatabase db;
        seed_tenants(db);
        add_transient_failures(db, 1000);
        // Slow every batch down so that the kill lands mid-run, inside a transaction.
        slow_down(db, kSlowInserts);

        Process run(
            ops_argv({"wa", "redrive-failed", "--batch-size", "10", "--parallel", parallel}),
            db.env());
        for (int i = 0; i < 400 && db.count("SELECT count(*) FROM jobs") < 50; ++i) usleep(20000);
        usleep(30000);
        run.send(SIGKILL);
        const auto killed = run.wait();
        CHECK(killed.signal == SIGKILL);
        wait_for_backend_to_leave(db, "ops wa redrive-failed");

        const auto queued = db.count("SELECT count(*) FROM wa_messages WHERE status = 'queued'");
        CHECK(queued >= 50);
        CHECK(queued < 1000);
        CHECK(queued % 10 == 0);  // whole batches only
        CHECK(db.count("SELECT count(*) FROM jobs") == queued);
        CHECK(
            db.count(
                "SELECT count(*) FROM wa_messages WHERE status = 'failed' AND (error_code IS NULL "
                "OR error_message IS NULL OR failed_at IS NULL OR attempts = 0)") == 0);
        check_all_or_nothing(db);

        // A second run finishes the rest.
        remove_slow_down(db, kSlowInserts);
        const auto rerun = run_ops({"--output", "json", "wa", "redrive-failed"}, db.env());
        REQUIRE(rerun.exit_code == 0);
        CHECK(rerun.json()["redriven"] == 1000 - queued);
        CHECK(db.count("SELECT count(*) FROM jobs") == 1000);
        check_all_or_nothing(db);
    }
}

TEST_CASE("wa redrive-failed: SIGTERM finishes the batch in flight and stops") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 600);
    slow_down(db, kSlowInserts);
    Process run(ops_argv({"--output", "json", "wa", "redrive-failed", "--batch-size", "10"}),
                db.env());
    for (int i = 0; i < 400 && db.count("SELECT count(*) FROM jobs") < 30; ++i) usleep(20000);
    run.send(SIGTERM);
    const auto result = run.wait();
    CHECK(result.exit_code == 143);
    const auto summary = result.json();
    CHECK(summary["status"] == "interrupted");
    CHECK(summary["redriven"] ==
          db.count("SELECT count(*) FROM wa_messages WHERE status = 'queued'"));
    CHECK(summary["redriven"].get<std::int64_t>() < 600);
    CHECK_FALSE(summary.contains("skipped"));
    check_all_or_nothing(db);
}

// The table of bad options runs in process (tests/cli); these need the database's clock.
TEST_CASE(
    "wa redrive-failed: reversed resolved bounds exit 2, an injected reason matches nothing") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 3);
    const std::string injection = "timeout'); DELETE FROM wa_messages; --\"";
    const std::string before = table_snapshot(db);
    // Reversed time bounds are caught once the relative one is resolved.
    const auto reversed =
        run_ops({"wa", "redrive-failed", "--failed-after", "1h", "--failed-before", "2020-01-01"},
                db.env());
    CHECK(reversed.exit_code == 2);
    CHECK(reversed.err.find("--failed-after") != std::string::npos);
    CHECK(table_snapshot(db) == before);

    // With --include-permanent, quotes and SQL are just an unknown code that matches nothing.
    const auto allowed = run_ops(
        {"--output", "json", "wa", "redrive-failed", "--reason", injection, "--include-permanent"},
        db.env());
    REQUIRE(allowed.exit_code == 0);
    CHECK(allowed.json()["selected"] == 0);
    CHECK(allowed.json()["reasons"] == nlohmann::json::array({injection}));
    CHECK(table_snapshot(db) == before);
}

TEST_CASE("wa redrive-failed: --rate holds across runs, and other job classes do not delay it") {
    TestDatabase db;
    seed_tenants(db);
    add_transient_failures(db, 20);
    // Another class's job waiting on the same queue far ahead: not ours to space after.
    db.exec(
        "INSERT INTO jobs (queue, payload, attempts, reserved_at, available_at, created_at) "
        "SELECT 'default', '{\"displayName\":\"App\\\\Jobs\\\\OtherJob\",\"commandName\":"
        "\"App\\\\Jobs\\\\OtherJob\"}', 0, NULL, e + 100000, e "
        "FROM (SELECT floor(extract(epoch FROM now()))::integer AS e) AS now");
    const auto first = run_ops(
        {"--output", "json", "wa", "redrive-failed", "--rate", "5", "--limit", "10"}, db.env());
    REQUIRE(first.exit_code == 0);
    // A rerun at once (as after a kill, or a manual run after the scheduled one).
    const auto second =
        run_ops({"--output", "json", "wa", "redrive-failed", "--rate", "5"}, db.env());
    REQUIRE(second.exit_code == 0);
    CHECK(second.json()["redriven"] == 10);
    const auto first_last = first.json()["rate"]["last_available_at"].get<std::int64_t>();
    const auto second_start = second.json()["rate"]["first_available_at"].get<std::int64_t>();
    CHECK(second_start == first_last + 1);
    // Over both runs, no second has more than 5 of our jobs becoming available.
    CHECK(db.count(std::string("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM jobs "
                               "WHERE ") +
                   kJobMessageId + " IS NOT NULL GROUP BY available_at) AS per_second") == 5);
    CHECK(db.count(std::string("SELECT count(*) FROM jobs WHERE ") + kJobMessageId +
                   " IS NOT NULL") == 20);
}
