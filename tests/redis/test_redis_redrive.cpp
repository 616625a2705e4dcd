// `ops wa redrive-failed` onto Laravel's redis driver, against a real redis-server (started by
// the test run, appendonly), the real cluster and the Debian Laravel 8 worker on php-redis:
// each redriven message is sent exactly once, whatever kill -9, a rerun, a concurrent run or a
// Redis restart did in between; a dry run and an unreachable Redis change nothing.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "harness.hpp"
#include "ops/queue/redis_client.hpp"

using namespace ops_test;

namespace {

constexpr const char* kPhp = "/usr/bin/php";
constexpr const char* kPrefix = "laravel_database_";  // APP_NAME unset: the skeleton's default

std::string redis_port() {
    const char* port = std::getenv("OPS_TEST_REDIS_PORT");
    return port != nullptr && *port != '\0' ? port : OPS_TEST_REDIS_PORT;
}

ops::RedisClient& redis() {
    static ops::RedisClient client(
        ops::RedisEndpoint{"127.0.0.1", std::stoi(redis_port()), "", "", 0, "test"},
        std::chrono::seconds(10));
    if (!client.connected()) client.reconnect();
    return client;
}

// One reconnect when the server restarted since the last command.
ops::RedisValue cmd(const ops::RedisCommand& args) {
    try {
        return redis().command(args);
    } catch (const ops::RedisUnavailable&) {
        return redis().command(args);
    }
}
long long llen(const std::string& key) { return cmd({"LLEN", key}).integer; }
long long zcard(const std::string& key) { return cmd({"ZCARD", key}).integer; }
std::string list_key(const std::string& prefix = kPrefix, const std::string& q = "default") {
    return prefix + "queues:" + q;
}

void redis_script(const std::string& action) {
    Process p({required_env("OPS_SOURCE_DIR") + "/tests/redis/setup-redis.sh", action,
               OPS_TEST_REDIS_DIR, redis_port()},
              {});
    REQUIRE(p.wait().exit_code == 0);
}

void seed(TestDatabase& db, int n, int first_tenant_messages_permanent = 0) {
    db.exec("INSERT INTO tenants (id, name, created_at) VALUES (1, 'Toko', '2025-01-01')");
    db.exec(
        "INSERT INTO wa_messages (tenant_id, recipient, status, attempts, error_code, "
        "error_message, failed_at, created_at) SELECT 1, '+62' || i, 'failed', 2, "
        "(ARRAY['timeout','network_error','rate_limited'])[1 + i % 3], 'error ' || i, "
        "timestamp '2026-01-15 10:00:00' - i * interval '1 minute', '2026-01-15 09:00:00' "
        "FROM generate_series(1, " +
        std::to_string(n) + ") AS i");
    if (first_tenant_messages_permanent > 0) {
        db.exec(
            "INSERT INTO wa_messages (tenant_id, recipient, status, attempts, error_code, "
            "error_message, failed_at, created_at) SELECT 1, '+63' || i, 'failed', 1, 'blocked', "
            "'blocked', '2026-01-15 10:00:00', '2026-01-15 09:00:00' FROM generate_series(1, " +
            std::to_string(first_tenant_messages_permanent) + ") AS i");
    }
    // The worker's view: a message it sends must be 'queued', never 'failed'.
    db.exec("CREATE TABLE sent_while (id bigint, old_status text)");
    db.exec(
        "CREATE FUNCTION note_send() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "INSERT INTO sent_while VALUES (OLD.id, OLD.status); RETURN NEW; END $$");
    db.exec(
        "CREATE TRIGGER note_send BEFORE UPDATE ON wa_messages FOR EACH ROW "
        "WHEN (NEW.status = 'sent') EXECUTE FUNCTION note_send()");
}

// An env file as the application's: QUEUE_CONNECTION=redis and the test server.
std::string env_file(const TempDir& dir, const std::string& extra = "") {
    const auto path = dir.path() / ".env";
    std::ofstream(path) << "QUEUE_CONNECTION=redis\nREDIS_HOST=127.0.0.1\nREDIS_PORT="
                        << redis_port() << "\n"
                        << extra;
    return path.string();
}

RunResult redrive(TestDatabase& db, const std::string& env, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--output", "json", "--env-file", env, "wa", "redrive-failed"};
    args.insert(args.end(), more.begin(), more.end());
    auto result = run_ops(args, db.env());
    UNSCOPED_INFO("ops exit " << result.exit_code << "\n" << result.out << "\n" << result.err);
    return result;
}

RunResult work(TestDatabase& db, const std::string& prefix = kPrefix) {
    Process p({kPhp, required_env("OPS_SOURCE_DIR") + "/tests/redis/work.php"},
              {{"OPS_TEST_PGHOST", "127.0.0.1"},
               {"OPS_TEST_PGPORT", required_env("OPS_TEST_PGPORT")},
               {"OPS_TEST_PGDATABASE", db.name()},
               {"OPS_TEST_PGUSER", "postgres"},
               {"OPS_TEST_REDIS_PORT", redis_port()},
               {"OPS_TEST_REDIS_PREFIX", prefix}});
    auto result = p.wait();
    UNSCOPED_INFO("worker exit " << result.exit_code << "\n" << result.out << "\n" << result.err);
    return result;
}

std::int64_t redriven_events(TestDatabase& db) {
    return db.count("SELECT count(*) FROM audit_events WHERE event = 'wa.message.redriven'");
}

// After the worker: every message that was selected ran exactly once, none while 'failed',
// nothing is left queued, on Redis or in PostgreSQL.
void check_each_sent_once(TestDatabase& db, std::int64_t selected,
                          const std::string& prefix = kPrefix) {
    CHECK(db.count("SELECT count(DISTINCT wa_message_id) FROM test_job_runs") == selected);
    CHECK(db.count("SELECT count(*) FROM test_job_runs") == selected);
    CHECK(db.count("SELECT count(*) FROM sent_while WHERE old_status <> 'queued'") == 0);
    CHECK(db.count("SELECT count(*) FROM wa_messages WHERE status = 'queued'") == 0);
    CHECK(llen(list_key(prefix)) == 0);
    CHECK(zcard(list_key(prefix) + ":delayed") == 0);
    CHECK(zcard(list_key(prefix) + ":reserved") == 0);
    CHECK(db.count("SELECT count(*) FROM jobs") == 0);
}

// Between runs: each message is 'failed' with no redrive event, or 'queued' with exactly one;
// Redis holds at most one job per message and none for a 'failed' one.
void check_consistent(TestDatabase& db) {
    CHECK(db.count("WITH a AS (SELECT subject_id AS id, count(*) AS n FROM audit_events "
                   "WHERE event = 'wa.message.redriven' GROUP BY 1) "
                   "SELECT count(*) FROM wa_messages m LEFT JOIN a USING (id) "
                   "WHERE NOT ((m.status = 'failed' AND a.n IS NULL) "
                   "        OR (m.status = 'queued' AND a.n = 1))") == 0);
    std::multiset<std::int64_t> on_redis;
    for (const auto& entry : cmd({"LRANGE", list_key(), "0", "-1"}).elements) {
        const std::regex id(R"(waMessageId\\";i:([0-9]+);)");
        std::smatch m;
        REQUIRE(std::regex_search(entry.text, m, id));
        on_redis.insert(std::stoll(m[1]));
    }
    for (const auto id : on_redis) {
        CHECK(on_redis.count(id) == 1);
        CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = " + std::to_string(id)) ==
              "queued");
    }
}

std::string redis_snapshot() {
    std::string out;
    auto keys = cmd({"KEYS", "*"}).elements;
    std::sort(keys.begin(), keys.end(),
              [](const auto& a, const auto& b) { return a.text < b.text; });
    for (const auto& key : keys) {
        out += key.text + "=" + cmd({"DUMP", key.text}).text + "\n";
    }
    return out;
}

std::string db_snapshot(TestDatabase& db) {
    std::string out;
    for (const char* table : {"wa_messages", "jobs", "audit_events"}) {
        for (const auto& row :
             db.rows_as_json(std::string("SELECT * FROM ") + table + " ORDER BY id")) {
            out += row.dump() + "\n";
        }
    }
    return out;
}

void slow_batches(TestDatabase& db) {
    db.exec(
        "CREATE FUNCTION slow_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "PERFORM pg_sleep(0.05); RETURN NULL; END $$");
    db.exec(
        "CREATE TRIGGER slow AFTER INSERT ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION "
        "slow_audit()");
}

void wait_for_backend_to_leave(TestDatabase& db) {
    for (int i = 0; i < 400; ++i) {
        if (db.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                     "'ops wa redrive-failed' AND datname = current_database()") == 0) {
            return;
        }
        usleep(50000);
    }
    FAIL("the killed run's backend did not go away");
}

}  // namespace

TEST_CASE("every redriven message is pushed once and run once by the Laravel 8 worker") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 50, 5);
    const auto result = redrive(db, env_file(dir), {"--batch-size", "7"});
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["queue_connection"] == "redis");
    CHECK(summary["redriven"] == 50);
    CHECK(summary["redis"]["pushed"] == 50);
    CHECK(summary["redis"]["prefix"] == kPrefix);
    CHECK(llen(list_key()) == 50);
    CHECK(llen(list_key() + ":notify") == 50);
    CHECK(db.count("SELECT count(*) FROM jobs") == 0);
    check_consistent(db);

    // Each payload is what Laravel's redis driver pushes: `id` and `attempts` present, and the
    // uuid its audit row recorded.
    for (const auto& entry : cmd({"LRANGE", list_key(), "0", "-1"}).elements) {
        const auto payload = nlohmann::json::parse(entry.text);
        CHECK(payload["attempts"] == 0);
        CHECK(std::regex_match(payload["id"].get<std::string>(), std::regex("[A-Za-z0-9]{32}")));
        CHECK(db.count("SELECT count(*) FROM audit_events WHERE metadata->>'job_uuid' = '" +
                       payload["uuid"].get<std::string>() + "'") == 1);
    }
    const auto worker = work(db);
    CHECK(worker.out == "processed=50 failed=0 released=0\n");
    check_each_sent_once(db, 50);
    CHECK(db.count("SELECT count(*) FROM wa_messages WHERE error_code = 'blocked' AND status = "
                   "'failed'") == 5);

    // A rerun finds nothing to redrive and pushes nothing again.
    const auto again = redrive(db, env_file(dir));
    REQUIRE(again.exit_code == 0);
    CHECK(again.json()["redriven"] == 0);
    CHECK(again.json()["redis"]["recovered"] == 0);
    CHECK(llen(list_key()) == 0);
}

TEST_CASE("the pushed payload is Laravel 8's own, byte for byte but uuid and id") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 1);
    Process dispatch({kPhp, required_env("OPS_SOURCE_DIR") + "/tests/redis/dispatch.php", "1"},
                     {{"OPS_TEST_PGDATABASE", db.name()}, {"OPS_TEST_REDIS_PORT", redis_port()}});
    const auto laravel = dispatch.wait();
    REQUIRE(laravel.exit_code == 0);
    cmd({"DEL", list_key(), list_key() + ":notify"});
    REQUIRE(redrive(db, env_file(dir), {"--laravel-version", "8.83"}).exit_code == 0);
    const auto ours = cmd({"LRANGE", list_key(), "0", "0"}).elements.at(0).text;
    const std::regex uuid(R"("uuid":"[0-9a-f-]{36}")");
    const std::regex id(R"("id":"[A-Za-z0-9]{32}")");
    const auto blank = [&](const std::string& p) {
        return std::regex_replace(std::regex_replace(p, uuid, "\"uuid\":\"-\""), id,
                                  "\"id\":\"-\"");
    };
    CHECK(blank(ours) + "\n" == blank(laravel.out));
}

TEST_CASE("a dry run changes neither PostgreSQL nor Redis") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 20);
    cmd({"RPUSH", list_key(), "not ours"});
    const auto before_db = db_snapshot(db);
    const auto before_redis = redis_snapshot();
    const auto result = redrive(db, env_file(dir), {"--dry-run"});
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["selected"] == 20);
    CHECK(db_snapshot(db) == before_db);
    CHECK(redis_snapshot() == before_redis);
}

TEST_CASE("Redis unreachable is exit 69 and the database is unchanged") {
    TestDatabase db;
    TempDir dir;
    seed(db, 10);
    const auto before = db_snapshot(db);
    // A port nothing listens on (this test's redis port + 1 is no one's).
    const auto dead = "redis://127.0.0.1:" + std::to_string(std::stoi(redis_port()) + 1000);
    const auto result = redrive(db, env_file(dir), {"--redis-url", dead});
    CHECK(result.exit_code == 69);
    CHECK(result.err.find("cannot connect to Redis") != std::string::npos);
    CHECK(db_snapshot(db) == before);
    // TLS and a password in the URL: refused (78) or redacted, never printed.
    const auto tls = redrive(db, env_file(dir), {"--redis-url", "rediss://:s3cret@127.0.0.1"});
    CHECK(tls.exit_code == 78);
    const auto secret =
        redrive(db, env_file(dir, "REDIS_PASSWORD=s3cret-pw\n"),
                {"--redis-url",
                 "redis://:s3cret-pw@127.0.0.1:" + std::to_string(std::stoi(redis_port()) + 1000)});
    CHECK(secret.exit_code == 69);
    CHECK((secret.out + secret.err).find("s3cret-pw") == std::string::npos);
    CHECK(db_snapshot(db) == before);
}

TEST_CASE("kill -9 after the commit, before the push: the rerun pushes each job once") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 30);
    // Redis holds every write: the run commits its first batch and then waits on its push.
    cmd({"CLIENT", "PAUSE", "20000", "WRITE"});
    Process run(ops_argv({"--env-file", env_file(dir), "wa", "redrive-failed", "--batch-size", "10",
                          "--parallel", "1"}),
                db.env());
    for (int i = 0; i < 400 && redriven_events(db) < 10; ++i) usleep(20000);
    usleep(200000);
    run.send(SIGKILL);
    CHECK(run.wait().signal == SIGKILL);
    cmd({"CLIENT", "UNPAUSE"});
    wait_for_backend_to_leave(db);
    CHECK(redriven_events(db) == 10);
    CHECK(db.count("SELECT count(*) FROM wa_messages WHERE status = 'queued'") == 10);
    CHECK(llen(list_key()) == 0);  // committed, not pushed: no worker can run them yet
    check_consistent(db);

    const auto rerun = redrive(db, env_file(dir));
    REQUIRE(rerun.exit_code == 0);
    CHECK(rerun.json()["redis"]["recovered"] == 10);
    CHECK(rerun.json()["redriven"] == 20);
    CHECK(llen(list_key()) == 30);
    const auto third = redrive(db, env_file(dir));
    REQUIRE(third.exit_code == 0);
    CHECK(third.json()["redis"]["recovered"] == 0);
    CHECK(work(db).out == "processed=30 failed=0 released=0\n");
    check_each_sent_once(db, 30);
}

TEST_CASE("kill -9 at random moments, then a rerun, then the worker: each sent once") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 300);
    slow_batches(db);
    std::mt19937 random(std::random_device{}());
    for (int round = 0; round < 6; ++round) {
        const int delay_ms = std::uniform_int_distribution<int>(30, 400)(random);
        INFO("round " << round << ": kill after " << delay_ms << " ms");
        Process run(ops_argv({"--env-file", env_file(dir), "wa", "redrive-failed", "--batch-size",
                              "5", "--parallel", round % 2 == 0 ? "1" : "3"}),
                    db.env());
        usleep(static_cast<useconds_t>(delay_ms) * 1000);
        run.send(SIGKILL);
        run.wait();
        wait_for_backend_to_leave(db);
        check_consistent(db);
    }
    db.exec("DROP TRIGGER slow ON audit_events");
    REQUIRE(redrive(db, env_file(dir)).exit_code == 0);
    check_consistent(db);
    CHECK(llen(list_key()) == 300);
    CHECK(work(db).out == "processed=300 failed=0 released=0\n");
    check_each_sent_once(db, 300);
}

TEST_CASE("two concurrent runs push each message once") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 200);
    const auto env = env_file(dir);
    Process a(ops_argv({"--output", "json", "--env-file", env, "wa", "redrive-failed",
                        "--batch-size", "10"}),
              db.env());
    Process b(ops_argv({"--output", "json", "--env-file", env, "wa", "redrive-failed",
                        "--batch-size", "10"}),
              db.env());
    const auto ra = a.wait();
    const auto rb = b.wait();
    // One takes the command's lock; the other waits for nothing and says so (75), or ran after.
    CHECK((ra.exit_code == 0 || ra.exit_code == 75));
    CHECK((rb.exit_code == 0 || rb.exit_code == 75));
    CHECK((ra.exit_code == 0 || rb.exit_code == 0));
    if (ra.exit_code != 0 || rb.exit_code != 0) REQUIRE(redrive(db, env).exit_code == 0);
    CHECK(llen(list_key()) == 200);
    CHECK(work(db).out == "processed=200 failed=0 released=0\n");
    check_each_sent_once(db, 200);
}

TEST_CASE("a Redis restart mid-run is ridden out, each message sent once") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 200);
    slow_batches(db);
    Process run(ops_argv({"--output", "json", "--env-file", env_file(dir), "wa", "redrive-failed",
                          "--batch-size", "5", "--parallel", "1"}),
                db.env());
    for (int i = 0; i < 400 && redriven_events(db) < 30; ++i) usleep(20000);
    redis_script("restart");           // appendonly: what was pushed survives
    CHECK(redriven_events(db) < 200);  // the run was still going
    const auto result = run.wait();
    UNSCOPED_INFO(result.out << result.err);
    db.exec("DROP TRIGGER slow ON audit_events");
    CHECK(result.exit_code == 0);
    if (result.exit_code != 0) REQUIRE(redrive(db, env_file(dir)).exit_code == 0);
    CHECK(llen(list_key()) == 200);
    CHECK(work(db).out == "processed=200 failed=0 released=0\n");
    check_each_sent_once(db, 200);
}

TEST_CASE("a rate limit puts the jobs on the delayed set, spaced, and holds across runs") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 12);
    // Another class's job due tomorrow does not push ours back.
    const auto tomorrow = std::to_string(std::time(nullptr) + 86400);
    cmd({"ZADD", list_key() + ":delayed", tomorrow, R"({"displayName":"App\Jobs\Other"})"});
    REQUIRE(redrive(db, env_file(dir), {"--rate", "4", "--limit", "8"}).exit_code == 0);
    cmd({"ZREM", list_key() + ":delayed", R"({"displayName":"App\Jobs\Other"})"});
    CHECK(llen(list_key()) == 0);
    CHECK(zcard(list_key() + ":delayed") == 8);
    const auto scores = [&] {
        std::map<long long, int> per_second;
        const auto entries =
            cmd({"ZRANGE", list_key() + ":delayed", "0", "-1", "WITHSCORES"}).elements;
        for (std::size_t i = 1; i < entries.size(); i += 2) {
            ++per_second[std::stoll(entries[i].text)];
        }
        return per_second;
    };
    auto first = scores();
    CHECK(first.size() == 2);
    for (const auto& [second, n] : first) CHECK(n == 4);
    const long long last_of_first = first.rbegin()->first;
    // The second run continues after the first run's last second: still 4 a second.
    REQUIRE(redrive(db, env_file(dir), {"--rate", "4"}).exit_code == 0);
    auto both = scores();
    CHECK(zcard(list_key() + ":delayed") == 12);
    CHECK(both.size() == 3);
    CHECK(both.rbegin()->first == last_of_first + 1);
    for (const auto& [second, n] : both) CHECK(n == 4);
    // Once due, the worker runs them all.
    const auto wait_until = both.rbegin()->first + 1;
    while (std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count() <= wait_until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    CHECK(work(db).out == "processed=12 failed=0 released=0\n");
    check_each_sent_once(db, 12);
}

TEST_CASE("the prefix from APP_NAME (per Laravel version) and REDIS_PREFIX") {
    struct Case {
        std::string env;
        std::vector<std::string> args;
        std::string prefix;
    };
    const std::vector<Case> cases = {
        {"APP_NAME=\"Toko Online\"\n", {}, "toko_online_database_"},
        {"APP_NAME=\"Toko Online\"\n", {"--laravel-version", "12.3"}, "toko-online-database-"},
        {"APP_NAME=\"Toko Online\"\nREDIS_PREFIX=shop:\n", {"--laravel-version", "12.3"}, "shop:"},
    };
    for (const auto& c : cases) {
        INFO(c.env);
        cmd({"FLUSHALL"});
        TestDatabase db;
        TempDir dir;
        seed(db, 3);
        std::vector<std::string> args = {"--env-file", env_file(dir, c.env), "--output", "json"};
        args.insert(args.end(), c.args.begin(), c.args.end());
        args.insert(args.end(), {"wa", "redrive-failed"});
        const auto result = run_ops(args, db.env());
        REQUIRE(result.exit_code == 0);
        CHECK(result.json()["redis"]["prefix"] == c.prefix);
        CHECK(llen(list_key(c.prefix)) == 3);
        CHECK(work(db, c.prefix).out == "processed=3 failed=0 released=0\n");
        check_each_sent_once(db, 3, c.prefix);
    }
}

TEST_CASE("doctor checks the Redis connection, the prefix and whether a worker consumes") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 3);
    const auto env = env_file(dir);
    std::string last;
    const auto doctor = [&] {
        const auto result =
            run_ops({"--env-file", env, "--output", "json", "doctor", "--dir", dir.path().string()},
                    db.env());
        last = result.out + result.err;
        std::map<std::string, nlohmann::json> rows;
        const auto summary = result.json();
        for (const auto& row : summary["checks"]) {
            const std::string name = row["check"];
            if (name.rfind("redis ", 0) == 0) rows[name.substr(0, name.find(' ', 6))] = row;
        }
        return rows;
    };
    auto rows = doctor();
    INFO(last);
    REQUIRE(rows.size() == 3);
    CHECK(rows["redis connection"]["status"] == "ok");
    CHECK(rows["redis connection"]["detail"] == "Redis 7.0.15, appendonly yes");
    CHECK(rows["redis prefix"]["status"] == "problem");  // nothing pushed yet
    cmd({"RPUSH", "shop_database_queues:default", "x"});
    rows = doctor();
    CHECK(rows["redis prefix"]["detail"].get<std::string>().find(
              "queue keys found: shop_database_queues:default") != std::string::npos);

    REQUIRE(redrive(db, env).exit_code == 0);
    rows = doctor();
    CHECK(rows["redis prefix"]["status"] == "ok");
    CHECK(rows["redis prefix"]["detail"] ==
          "queue keys found: laravel_database_queues:default, "
          "laravel_database_queues:default:notify");
    CHECK(rows["redis worker"]["status"] == "problem");
    CHECK(rows["redis worker"]["detail"].get<std::string>().rfind(
              "3 waiting, 0 delayed, 0 reserved", 0) == 0);
    CHECK(work(db).out == "processed=3 failed=0 released=0\n");
    rows = doctor();
    CHECK(rows["redis worker"]["status"] == "ok");

    // Without persistence the guarantee is void: doctor says so.
    cmd({"CONFIG", "SET", "appendonly", "no"});
    rows = doctor();
    cmd({"CONFIG", "SET", "appendonly", "yes"});
    CHECK(rows["redis connection"]["status"] == "problem");
    CHECK(rows["redis connection"]["detail"].get<std::string>().find("without appendonly") !=
          std::string::npos);
}

TEST_CASE("messages with a job in the list, the delayed or the reserved set are already queued") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 6);
    // The application dispatched jobs for messages 1, 2 and 3 (Laravel 8's own push); a worker
    // reserved 2's, 3's is delayed.
    for (const std::string id : {"1", "2", "3"}) {
        Process dispatch(
            {kPhp, required_env("OPS_SOURCE_DIR") + "/tests/redis/dispatch.php", id},
            {{"OPS_TEST_PGDATABASE", db.name()}, {"OPS_TEST_REDIS_PORT", redis_port()}});
        REQUIRE(dispatch.wait().exit_code == 0);
    }
    const auto third = cmd({"RPOP", list_key()}).text;
    const auto second = cmd({"RPOP", list_key()}).text;
    cmd({"ZADD", list_key() + ":reserved", std::to_string(std::time(nullptr) + 90), second});
    cmd({"ZADD", list_key() + ":delayed", std::to_string(std::time(nullptr) + 3600), third});
    const auto result = redrive(db, env_file(dir));
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["already_queued"] == 3);
    CHECK(result.json()["redriven"] == 3);
    CHECK(db.count(
              "SELECT count(*) FROM wa_messages WHERE id IN (1, 2, 3) AND status = 'failed'") == 3);
    CHECK(llen(list_key()) == 1 + 3);
}

TEST_CASE(
    "a redis url option puts the jobs on Redis under REDIS_QUEUE, as summary and doctor say") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 4);
    // The env file still says database: --redis-url is the operator's word.
    const auto env = (dir.path() / ".env").string();
    std::ofstream(env) << "QUEUE_CONNECTION=database\nDB_QUEUE=db-queue\nREDIS_QUEUE=wa\n";
    const std::string url = "redis://127.0.0.1:" + redis_port();

    const auto result = redrive(db, env, {"--redis-url", url});
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["queue_connection"] == "redis");
    CHECK(summary["queue"] == "wa");
    CHECK(summary["table"].is_null());
    CHECK(summary["redriven"] == 4);
    CHECK(llen(list_key(kPrefix, "wa")) == 4);
    CHECK(llen(list_key()) == 0);
    CHECK(db.count("SELECT count(*) FROM jobs") == 0);

    const auto doctor = run_ops({"--env-file", env, "--output", "json", "doctor", "--for",
                                 "wa redrive-failed", "--redis-url", url},
                                db.env());
    INFO(doctor.out << doctor.err);
    const auto report = doctor.json();
    CHECK(report["queue"]["connection"] == "redis");
    CHECK(report["queue"]["queue"] == "wa");
    CHECK(report["queue"]["table"].is_null());
    int redis_rows = 0;
    for (const auto& row : report["checks"]) {
        if (row["check"].get<std::string>().rfind("redis worker on queue 'wa'", 0) == 0)
            ++redis_rows;
    }
    CHECK(redis_rows == 1);
}

TEST_CASE("an application on Redis without a jobs table (Laravel 8 to 10): doctor and redrive") {
    cmd({"FLUSHALL"});
    TestDatabase db;
    TempDir dir;
    seed(db, 3);
    db.exec("DROP TABLE jobs, failed_jobs");
    const auto env = env_file(dir);
    const auto doctor = run_ops(
        {"--env-file", env, "--output", "json", "doctor", "--for", "wa redrive-failed"}, db.env());
    INFO(doctor.out << doctor.err);
    const auto report = doctor.json();
    CHECK(report["commands"]["wa redrive-failed"] == "ready");
    for (const auto& row : report["checks"]) {
        CHECK(row["check"].get<std::string>().find("jobs") == std::string::npos);
    }

    REQUIRE(redrive(db, env).exit_code == 0);
    CHECK(llen(list_key()) == 3);
    CHECK(work(db).out == "processed=3 failed=0 released=0\n");
    CHECK(db.count("SELECT count(DISTINCT wa_message_id) FROM test_job_runs") == 3);
    CHECK(db.count("SELECT count(*) FROM wa_messages WHERE status = 'queued'") == 0);
}
