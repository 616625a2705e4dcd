// ops reads the Laravel application as Laravel does: its env file (DB_CONNECTION, DB_URL,
// interpolation), its queue settings (QUEUE_CONNECTION, DB_QUEUE_*), the payload of the
// application's Laravel release (tests/laravel/payloads) and its job settings; Debian's
// Laravel 8 worker runs what ops writes.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "harness.hpp"

using namespace ops_test;

namespace {

constexpr const char* kPhp = "/usr/bin/php";

std::string write_env(const TempDir& dir, const std::string& text,
                      const std::string& name = ".env") {
    const auto path = dir.path() / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
}

// DB_* lines that reach the test database.
std::string db_lines(const TestDatabase& db) {
    return "DB_HOST=127.0.0.1\nDB_PORT=" + required_env("OPS_TEST_PGPORT") +
           "\nDB_DATABASE=" + db.name() + "\nDB_USERNAME=postgres\n";
}

// One tenant and failed message `id` with a transient reason.
void add_failed(TestDatabase& db, std::int64_t id) {
    db.exec("INSERT INTO tenants (id, name) VALUES (1, 't') ON CONFLICT DO NOTHING");
    db.exec(
        "INSERT INTO wa_messages (id, tenant_id, recipient, status, error_code, failed_at) "
        "VALUES (" +
        std::to_string(id) +
        ", 1, '+100', 'failed', 'timeout', "
        "'2026-01-15 10:00:00')");
}

std::string reference(const std::string& file) {
    std::string text =
        read_file(required_env("OPS_SOURCE_DIR") + "/tests/laravel/payloads/" + file);
    REQUIRE(!text.empty());
    text.pop_back();  // the file's newline
    return text;
}

// A reference payload for another wa_messages id.
std::string with_message_id(std::string payload, std::int64_t id) {
    return std::regex_replace(payload, std::regex(R"re(waMessageId\\";i:42;)re"),
                              "waMessageId\\\";i:" + std::to_string(id) + ";");
}

// Stores `payload` as the application would have: a jobs row (or a failed_jobs row).
void store_application_job(TestDatabase& db, const std::string& payload, bool failed = false) {
    pqxx::work tx(db.connection());
    if (failed) {
        tx.exec_params(
            "INSERT INTO failed_jobs (uuid, connection, queue, payload, exception) "
            "VALUES (gen_random_uuid()::text, 'database', 'default', $1, 'x')",
            payload);
    } else {
        tx.exec_params(
            "INSERT INTO jobs (queue, payload, attempts, available_at, created_at) "
            "VALUES ('default', $1, 0, 2000000000, extract(epoch FROM now())::int)",
            payload);
    }
    tx.commit();
}

RunResult run_worker(const TestDatabase& db, const std::string& queue = "default") {
    REQUIRE(std::filesystem::exists(kPhp));
    Process process({kPhp, required_env("OPS_SOURCE_DIR") + "/tests/laravel/work.php", queue},
                    {{"OPS_TEST_PGHOST", "127.0.0.1"},
                     {"OPS_TEST_PGPORT", required_env("OPS_TEST_PGPORT")},
                     {"OPS_TEST_PGDATABASE", db.name()},
                     {"OPS_TEST_PGUSER", "postgres"}});
    RunResult result = process.wait();
    UNSCOPED_INFO("worker: " << result.out << result.err);
    return result;
}

std::string snapshot(TestDatabase& db) {
    std::string out;
    for (const char* table : {"wa_messages", "jobs", "audit_events"}) {
        for (const auto& row :
             db.rows_as_json(std::string("SELECT * FROM ") + table + " ORDER BY id"))
            out += row.dump() + "\n";
    }
    return out;
}

std::vector<std::string> redrive(const std::string& env_file, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"--env-file", env_file, "--output",
                                     "json",       "wa",     "redrive-failed"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
}

}  // namespace

TEST_CASE("laravel env: another DB_CONNECTION, a folder, other URLs exit 78 and change nothing") {
    TestDatabase db;
    TempDir dir;
    add_failed(db, 1);
    const std::string before = snapshot(db);
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"DB_CONNECTION=mysql\n" + db_lines(db), "DB_CONNECTION is 'mysql'"},
        {"DB_CONNECTION=\n" + db_lines(db), "DB_CONNECTION is ''"},
        {db_lines(db) + "DB_URL=mysql://root@127.0.0.1/app\n", "DB_URL is a 'mysql' URL"},
        {db_lines(db) + "DB_URL=postgresql://a@h/x\nDATABASE_URL=postgresql://b@h/y\n",
         "DB_URL (read by Laravel 11+) and DATABASE_URL"},
        {db_lines(db) + "DB_PASSWORD=s3cret word\n", ".env:5: DB_PASSWORD: unexpected whitespace"},
        {db_lines(db) + "OPS_LARAVEL_VERSION=7.4\n",
         "OPS_LARAVEL_VERSION: expected a Laravel version"},
    };
    for (const auto& [text, message] : cases) {
        INFO(text);
        const auto result = run_ops(redrive(write_env(dir, text)));
        CHECK(result.exit_code == 78);
        CHECK(result.err.find(message) != std::string::npos);
        CHECK(result.err.find("s3cret") == std::string::npos);
        CHECK(snapshot(db) == before);
    }
    // Also when the connection comes from elsewhere: the env file is a MySQL application's.
    const auto mysql =
        run_ops({"--env-file", write_env(dir, "DB_CONNECTION=mysql\n"), "doctor"}, db.env());
    CHECK(mysql.exit_code == 78);
    const auto folder = run_ops({"--env-file", dir.path().string(), "doctor"});
    CHECK(folder.exit_code == 78);
    CHECK(folder.err.find("is a directory") != std::string::npos);
}

TEST_CASE("laravel env: DB_URL, DATABASE_URL, interpolation, a BOM and the process environment") {
    TestDatabase db;
    TempDir dir;
    const std::string port = required_env("OPS_TEST_PGPORT");
    // Laravel 11+: DB_URL's parts override DB_*; ${NAME} comes from the file or the process.
    std::string file = write_env(dir,
                                 "\xEF\xBB\xBF# app\nKEY=\"-----BEGIN-----\nabc\n-----END-----\"\n"
                                 "DB_HOST=nowhere.invalid\nDB_DATABASE=${APP_DB}\n"
                                 "DB_URL=\"pgsql://postgres@127.0.0.1:" +
                                     port + "\"\n");
    auto result = run_ops({"--env-file", file, "doctor"}, {{"APP_DB", db.name()}});
    CHECK(result.exit_code == 0);
    CHECK(result.err.find("(from --env-file " + file + " (DB_URL))") != std::string::npos);
    // Laravel 8 to 10 read DATABASE_URL, not DB_URL.
    file = write_env(dir,
                     "DB_URL=postgresql://postgres@127.0.0.1:1/nowhere\n"
                     "DATABASE_URL=postgres://postgres@127.0.0.1:" +
                         port + "/" + db.name() + "\n");
    result = run_ops({"--env-file", file, "--laravel-version", "10.48", "doctor"});
    CHECK(result.exit_code == 0);
    result = run_ops({"--env-file", file, "--laravel-version", "11", "doctor"});
    CHECK(result.exit_code == 69);
    // The process environment wins over the file, as in Laravel's immutable repository.
    file = write_env(dir, db_lines(db) + "DB_PORT=1\n");
    CHECK(run_ops({"--env-file", file, "doctor"}).exit_code == 69);
    CHECK(run_ops({"--env-file", file, "doctor"}, {{"DB_PORT", port}}).exit_code == 0);
}

TEST_CASE(
    "laravel queue: a connection that is neither the database nor the redis driver is refused with "
    "78") {
    TestDatabase db;
    TempDir dir;
    add_failed(db, 1);
    const std::string before = snapshot(db);
    for (const std::string connection : {"beanstalkd", "sync", "sqs", "mongo"}) {
        INFO(connection);
        const auto result = run_ops(
            redrive(write_env(dir, db_lines(db) + "QUEUE_CONNECTION=" + connection + "\n")));
        CHECK(result.exit_code == 78);
        CHECK(result.err.find("QUEUE_CONNECTION is '" + connection + "'") != std::string::npos);
        CHECK(snapshot(db) == before);
    }
    // doctor names the refusal once, as its queue check, and checks no Redis server for it.
    const auto doctor =
        run_ops({"--output", "json", "--env-file",
                 write_env(dir, db_lines(db) + "QUEUE_CONNECTION=sqs\n"), "doctor"});
    CHECK(doctor.exit_code == 1);
    const auto report = doctor.json();
    CHECK(report["queue"]["refused"].get<std::string>().find("QUEUE_CONNECTION is 'sqs'") !=
          std::string::npos);
    int queue_rows = 0;
    for (const auto& check : report["checks"]) {
        const auto name = check["check"].get<std::string>();
        if (name.find("redis") != std::string::npos || name.find("queue") != std::string::npos)
            ++queue_rows;
        if (name == "queue connection") CHECK(check["status"] == "problem");
    }
    CHECK(queue_rows == 1);
    const auto bad = run_ops(redrive(write_env(dir, db_lines(db) + "DB_QUEUE_CONNECTION=other\n")));
    CHECK(bad.exit_code == 78);
    CHECK(bad.err.find("DB_QUEUE_CONNECTION is 'other'") != std::string::npos);
    CHECK(snapshot(db) == before);
}

TEST_CASE("laravel queue: DB_QUEUE and DB_QUEUE_TABLE decide where jobs go, --queue still wins") {
    TestDatabase db;
    TempDir dir;
    add_failed(db, 1);
    const std::string file =
        write_env(dir, db_lines(db) + "QUEUE_CONNECTION=database\nDB_QUEUE=wa-low\n");
    auto result = run_ops(redrive(file));
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["queue"] == "wa-low");
    CHECK(db.scalar("SELECT queue FROM jobs") == "wa-low");
    // A plain dispatch: the serialized queue stays null, the row is on the connection's queue.
    CHECK(db.scalar("SELECT payload FROM jobs").find(R"(s:5:\"queue\";N;)") != std::string::npos);
    CHECK(run_worker(db, "wa-low").out == "processed=1 failed=0 released=0\n");
    CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = 1") == "sent");

    // Laravel 8 to 10's config/queue.php does not read DB_QUEUE.
    db.exec("DELETE FROM jobs; UPDATE wa_messages SET status = 'failed', error_code = 'timeout'");
    result = run_ops(redrive(file, {"--laravel-version", "10.48"}));
    CHECK(result.json()["queue"] == "default");

    db.exec("DELETE FROM jobs; UPDATE wa_messages SET status = 'failed', error_code = 'timeout'");
    result = run_ops(redrive(file, {"--queue", "wa-high"}));
    CHECK(db.scalar("SELECT queue FROM jobs") == "wa-high");

    db.exec("DELETE FROM jobs; UPDATE wa_messages SET status = 'failed', error_code = 'timeout'");
    db.exec(
        "CREATE TABLE app_jobs (id bigserial PRIMARY KEY, queue varchar(255) NOT NULL, "
        "payload text NOT NULL, attempts smallint NOT NULL, reserved_at integer, "
        "available_at integer NOT NULL, created_at integer NOT NULL)");
    result = run_ops(redrive(write_env(dir, db_lines(db) + "DB_QUEUE_TABLE=app_jobs\n")));
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["table"] == "app_jobs");
    CHECK(db.count("SELECT count(*) FROM app_jobs") == 1);
    CHECK(db.count("SELECT count(*) FROM jobs") == 0);
    const auto invalid =
        run_ops(redrive(write_env(dir, db_lines(db) + "DB_QUEUE_TABLE=\"x; drop\"\n")));
    CHECK(invalid.exit_code == 78);
}

TEST_CASE(
    "laravel payloads: --laravel-version writes that release's payload, a Laravel 8 worker runs "
    "it") {
    TestDatabase db;
    TempDir dir;
    const std::string file = write_env(dir, db_lines(db));
    struct Case {
        std::vector<std::string> options;
        std::string reference;
        bool models;
    };
    const std::vector<Case> cases = {
        {{"--laravel-version", "12.67"}, "v12.67.0.json", false},
        {{"--laravel-version", "13.26.1"}, "v13.26.1.json", false},
        {{"--laravel-version", "11.1"}, "v11.1.1.json", false},
        {{"--laravel-version", "13.0", "--serializes-models"}, "v13.0.0.json", true}};
    add_failed(db, 42);
    for (const auto& c : cases) {
        INFO(c.reference);
        const auto result = run_ops(redrive(file, c.options));
        REQUIRE(result.exit_code == 0);
        const auto job = db.rows_as_json("SELECT * FROM jobs")[0];
        std::string expected = reference(c.reference);
        if (c.models) {
            expected = std::regex_replace(
                expected, std::regex(R"re("command":"O:25:.*?\}")re"),
                R"re("command":"O:25:\"App\\Jobs\\SendWaMessageJob\":1:{s:11:\"waMessageId\";i:42;}")re");
        }
        std::string ours = job["payload"];
        // The uuid and createdAt are the dispatch's own; createdAt is the row's created_at.
        ours =
            std::regex_replace(ours, std::regex(R"re("uuid":"[0-9a-f-]{36}")re"), "\"uuid\":\"U\"");
        expected = std::regex_replace(expected, std::regex(R"re("uuid":"[0-9a-f-]{36}")re"),
                                      "\"uuid\":\"U\"");
        expected = std::regex_replace(
            expected, std::regex(R"re("createdAt":[0-9]+)re"),
            "\"createdAt\":" + std::to_string(job["created_at"].get<std::int64_t>()));
        CHECK(ours == expected);
        CHECK(result.json()["payload"]["why"].get<std::string>().find("--laravel-version") !=
              std::string::npos);
        CHECK(run_worker(db).out == "processed=1 failed=0 released=0\n");
        CHECK(db.scalar("SELECT status FROM wa_messages WHERE id = 42") == "sent");
        db.exec(
            "DELETE FROM jobs; UPDATE wa_messages SET status = 'failed', error_code = 'timeout'");
    }
}

TEST_CASE("laravel payloads: the application's newest own job decides the form, ops's own do not") {
    TestDatabase db;
    TempDir dir;
    const std::string file = write_env(dir, db_lines(db));
    add_failed(db, 1);
    add_failed(db, 2);
    store_application_job(db, with_message_id(reference("v12.50.0.json"), 900), true);
    store_application_job(db, with_message_id(reference("v13.26.1.json"), 901));
    auto result = run_ops(redrive(file, {"--reason", "timeout", "--limit", "1"}));
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["payload"]["laravel"] == "13.24");
    CHECK(result.json()["payload"]["why"].get<std::string>().find("jobs id") != std::string::npos);
    CHECK(
        db.scalar("SELECT payload FROM jobs WHERE payload LIKE '%i:1;%'").find("uniqueLockOwner") !=
        std::string::npos);
    // Without the application's jobs row, its failed_jobs row is the newest of its own; ops's
    // own 13.24 row is not the application's.
    db.exec("DELETE FROM jobs WHERE payload LIKE '%i:901;%'");
    result = run_ops(redrive(file));
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["payload"]["laravel"] == "12.32");
    CHECK(result.json()["payload"]["why"].get<std::string>().find("failed_jobs id") !=
          std::string::npos);
    db.exec("DELETE FROM failed_jobs");
    db.exec("UPDATE wa_messages SET status = 'failed', error_code = 'timeout' WHERE id = 1");
    db.exec("DELETE FROM jobs WHERE payload LIKE '%i:1;%'");
    result = run_ops(redrive(file));
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["payload"]["laravel"] == "8.0");
    CHECK(result.json()["payload"]["why"].get<std::string>().find("default") != std::string::npos);
    CHECK(run_worker(db).out == "processed=2 failed=0 released=0\n");

    // A version that names another form than the application's rows is said, and followed.
    db.exec("UPDATE wa_messages SET status = 'failed', error_code = 'timeout'");
    store_application_job(db, with_message_id(reference("v12.67.0.json"), 902), true);
    write_env(dir, db_lines(db) + "OPS_LARAVEL_VERSION=13.26\n");
    result = run_ops(redrive(file, {"--dry-run"}));
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["payload"]["laravel"] == "13.24");
    CHECK(result.json()["payload"]["why"] ==
          "OPS_LARAVEL_VERSION 13.26.0; the application's newest own job (failed_jobs id 2) has "
          "the Laravel 12.51 to 12.x form");
    CHECK(result.err.find("warn") != std::string::npos);
}

TEST_CASE("laravel payloads: job settings unlike the application's own are reported and refused") {
    TestDatabase db;
    TempDir dir;
    const std::string file = write_env(dir, db_lines(db));
    add_failed(db, 1);
    std::string theirs = with_message_id(reference("v8.83.26.json"), 900);
    theirs = std::regex_replace(theirs, std::regex(R"re("maxTries":null)re"), "\"maxTries\":5");
    theirs =
        std::regex_replace(theirs, std::regex(R"re("backoff":null)re"), "\"backoff\":\"10,60\"");
    store_application_job(db, theirs, true);
    const std::string before = snapshot(db);

    auto result = run_ops(redrive(file, {"--dry-run"}));
    REQUIRE(result.exit_code == 0);
    const auto mismatches = result.json()["payload"]["job_settings"]["mismatches"];
    REQUIRE(mismatches.size() == 2);
    CHECK(mismatches[0]["setting"] == "maxTries");
    CHECK(mismatches[0]["fix"] == "--tries 5");
    CHECK(mismatches[1]["fix"] == "--backoff 10,60");

    result = run_ops(redrive(file));
    CHECK(result.exit_code == 78);
    CHECK(result.err.find("maxTries, backoff") != std::string::npos);
    CHECK(snapshot(db) == before);

    const auto doctor =
        run_ops({"--env-file", file, "--output", "json", "doctor", "--dir", dir.path().string()});
    CHECK(doctor.exit_code == 1);
    CHECK(doctor.out.find("give --tries 5") != std::string::npos);

    result = run_ops(redrive(file, {"--tries", "5", "--backoff", "10,60"}));
    CHECK(result.exit_code == 0);
    CHECK(result.json()["redriven"] == 1);
    db.exec("DELETE FROM jobs; UPDATE wa_messages SET status = 'failed', error_code = 'timeout'");
    result = run_ops(redrive(file, {"--allow-settings-mismatch"}));
    CHECK(result.exit_code == 0);
    CHECK(result.json()["redriven"] == 1);
}

TEST_CASE("laravel payloads: a job of any release already waiting counts as already queued") {
    TestDatabase db;
    TempDir dir;
    int id = 0;
    for (const auto& entry : std::filesystem::directory_iterator(required_env("OPS_SOURCE_DIR") +
                                                                 "/tests/laravel/payloads")) {
        if (entry.path().extension() != ".json") continue;
        add_failed(db, ++id);
        store_application_job(db, with_message_id(reference(entry.path().filename().string()), id));
    }
    add_failed(db, 100);
    const auto result = run_ops(redrive(write_env(dir, db_lines(db)), {"--dry-run"}));
    REQUIRE(result.exit_code == 0);
    CHECK(id == 10);
    CHECK(result.json()["already_queued"] == id);
    CHECK(result.json()["selected"] == 1);
}

TEST_CASE("laravel doctor: the queue it writes to, and jobs no worker took within retry_after") {
    TestDatabase db;
    TempDir dir;
    std::string file = write_env(dir, db_lines(db) + "DB_QUEUE=wa\nDB_QUEUE_RETRY_AFTER=60\n");
    auto result =
        run_ops({"--env-file", file, "--output", "json", "doctor", "--dir", dir.path().string()});
    CHECK(result.exit_code == 0);
    auto queue = result.json()["queue"];
    CHECK(queue["connection"] == "database");
    CHECK(queue["table"] == "jobs");
    CHECK(queue["queue"] == "wa");
    CHECK(queue["retry_after_s"] == 60);
    db.exec(
        "INSERT INTO jobs (queue, payload, attempts, available_at, created_at) VALUES "
        "('wa', '{}', 0, extract(epoch FROM now())::int - 300, extract(epoch FROM now())::int - "
        "300)");
    result =
        run_ops({"--env-file", file, "--output", "json", "doctor", "--dir", dir.path().string()});
    CHECK(result.exit_code == 1);
    CHECK(result.json()["queue"]["waiting_past_retry_after"] == 1);
    CHECK(result.out.find("no worker took them") != std::string::npos);
    // The redis driver (#18): doctor checks the Redis server instead (none listens on port 1).
    file = write_env(dir, db_lines(db) + "QUEUE_CONNECTION=redis\nREDIS_PORT=1\n");
    result =
        run_ops({"--env-file", file, "--output", "json", "doctor", "--dir", dir.path().string()});
    CHECK(result.exit_code == 1);
    CHECK(result.out.find("cannot connect to Redis at redis://127.0.0.1:1/0") != std::string::npos);
}
