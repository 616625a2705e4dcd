// `ops quota reconcile` against a real PostgreSQL: the counting rule, what a run writes and
// leaves alone, dry runs, exit codes, the run record and its undo, and exactness while the
// application's own traffic goes on, when the run is killed, and when it is stopped.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <regex>
#include <thread>

#include "database_waits.hpp"
#include "harness.hpp"

using namespace ops_test;
using nlohmann::json;

namespace {

// Each row update sleeps, so that a signal or a kill lands mid-run.
const SlowDown kSlowRows = {"quota_usages", "UPDATE", "0.02", true};

constexpr const char* kPeriod = "2025-03";

void add_tenants(TestDatabase& db, int count) {
    db.exec(
        "INSERT INTO tenants (name, created_at) SELECT 'tenant ' || i, '2024-01-01' "
        "FROM generate_series(1, " +
        std::to_string(count) + ") AS i");
}

std::string quoted(const std::optional<std::string>& value) {
    return value ? "'" + *value + "'" : "NULL";
}

void add_order(TestDatabase& db, int tenant, const std::string& status,
               const std::optional<std::string>& created_at,
               const std::optional<std::string>& deleted_at = std::nullopt) {
    db.exec(
        "INSERT INTO orders (tenant_id, number, status, created_at, updated_at, deleted_at) "
        "VALUES (" +
        std::to_string(tenant) + ", 'N-' || (SELECT count(*) + 1 FROM orders), '" + status + "', " +
        quoted(created_at) + ", " + quoted(created_at) + ", " + quoted(deleted_at) + ")");
}

void add_usage(TestDatabase& db, int tenant, const std::string& period, int used,
               std::optional<int> limit = std::nullopt) {
    db.exec(
        "INSERT INTO quota_usages (tenant_id, period, used, quota_limit, created_at, updated_at) "
        "VALUES (" +
        std::to_string(tenant) + ", '" + period + "', " + std::to_string(used) + ", " +
        (limit ? std::to_string(*limit) : "NULL") +
        ", '2025-01-01 10:00:00', '2025-01-01 10:00:00')");
}

// `used` of a tenant's row, or -1 when there is none.
std::int64_t used_of(TestDatabase& db, int tenant, const std::string& period = kPeriod) {
    return db.count("SELECT coalesce((SELECT used FROM quota_usages WHERE tenant_id = " +
                    std::to_string(tenant) + " AND period = '" + period + "'), -1)");
}

// The counting rule, written independently of the tool: tenant -> counted orders in the month.
std::map<std::int64_t, std::int64_t> true_counts(TestDatabase& db,
                                                 const std::string& period = kPeriod) {
    std::map<std::int64_t, std::int64_t> counts;
    for (
        const auto& row : db.rows_as_json(
            "SELECT t.id, count(o.id) AS n FROM tenants t LEFT JOIN orders o ON o.tenant_id = t.id "
            "AND to_char(o.created_at, 'YYYY-MM') = '" +
            period +
            "' AND o.deleted_at IS NULL AND o.status <> 'cancelled' GROUP BY t.id ORDER BY t.id")) {
        counts[row["id"].get<std::int64_t>()] = row["n"].get<std::int64_t>();
    }
    return counts;
}

// tenant -> used (rows of the period only).
std::map<std::int64_t, std::int64_t> recorded(TestDatabase& db,
                                              const std::string& period = kPeriod) {
    std::map<std::int64_t, std::int64_t> used;
    for (const auto& row : db.rows_as_json(
             "SELECT tenant_id, used FROM quota_usages WHERE period = '" + period + "'")) {
        used[row["tenant_id"].get<std::int64_t>()] = row["used"].get<std::int64_t>();
    }
    return used;
}

// Every quota_usages row, whole, keyed by id.
std::map<std::int64_t, json> quota_rows(TestDatabase& db, const std::string& where = "true") {
    std::map<std::int64_t, json> rows;
    for (auto& row : db.rows_as_json("SELECT * FROM quota_usages WHERE " + where)) {
        rows[row["id"].get<std::int64_t>()] = row;
    }
    return rows;
}

RunResult reconcile(TestDatabase& db, std::vector<std::string> args) {
    args.insert(args.begin(), {"--output", "json", "quota", "reconcile"});
    return run_ops(args, db.env());
}

// The application's protocol, as the contract writes it, on its own connection: each order
// change and its quota upsert in one transaction.
class Application {
  public:
    explicit Application(const std::string& url) : connection_(url) {}

    void create_order(std::int64_t tenant, const std::string& created_at, bool dawdle) {
        pqxx::work tx(connection_);
        tx.exec_params(
            "INSERT INTO orders (tenant_id, number, status, created_at, updated_at) "
            "VALUES ($1, $2, 'pending', $3, $3)",
            tenant, "APP-" + std::to_string(++orders_), created_at);
        if (dawdle) tx.exec("SELECT pg_sleep(0.002)");
        tx.exec_params(
            "INSERT INTO quota_usages (tenant_id, period, used, created_at, updated_at) "
            "VALUES ($1, $2, 1, now(), now()) "
            "ON CONFLICT (tenant_id, period) DO UPDATE SET used = quota_usages.used + 1, "
            "updated_at = now()",
            tenant, kPeriod);
        tx.commit();
    }

    // Cancels (or soft-deletes) one counted order of the tenant, if it has one.
    bool drop_order(std::int64_t tenant, bool soft_delete, bool dawdle) {
        pqxx::work tx(connection_);
        const auto pick = tx.exec_params(
            "SELECT id FROM orders WHERE tenant_id = $1 AND created_at >= '2025-03-01' "
            "AND created_at < '2025-04-01' AND deleted_at IS NULL AND status <> 'cancelled' "
            "ORDER BY random() LIMIT 1",
            tenant);
        if (pick.empty()) return false;
        const auto id = pick[0][0].as<std::int64_t>();
        const auto changed =
            soft_delete ? tx.exec_params(
                              "UPDATE orders SET deleted_at = now(), updated_at = now() "
                              "WHERE id = $1 AND deleted_at IS NULL AND status <> 'cancelled'",
                              id)
                        : tx.exec_params(
                              "UPDATE orders SET status = 'cancelled', updated_at = now() "
                              "WHERE id = $1 AND deleted_at IS NULL AND status <> 'cancelled'",
                              id);
        if (changed.affected_rows() != 1) return false;  // another connection got there first
        if (dawdle) tx.exec("SELECT pg_sleep(0.002)");
        tx.exec_params(
            "INSERT INTO quota_usages (tenant_id, period, used, created_at, updated_at) "
            "VALUES ($1, $2, 0, now(), now()) "
            "ON CONFLICT (tenant_id, period) DO UPDATE SET used = quota_usages.used - 1, "
            "updated_at = now()",
            tenant, kPeriod);
        tx.commit();
        return true;
    }

  private:
    pqxx::connection connection_;
    std::int64_t orders_ = 0;
};

// Orders, rows and drift for `tenants` tenants in kPeriod: counted orders, every kind of
// uncounted one, orders in the neighbouring months, rows that are too high, too low, missing,
// and rows for tenants without orders.
void seed_drifted(TestDatabase& db, int tenants, unsigned seed) {
    add_tenants(db, tenants);
    const std::string s = std::to_string(seed);
    db.exec(
        "INSERT INTO orders (tenant_id, number, status, created_at, updated_at, deleted_at) "
        "SELECT t, 'S-' || t || '-' || i, "
        "  (ARRAY['pending','paid','completed','cancelled','refunded'])[1 + (i * 7 + t + " +
        s +
        ") % 5], "
        "  CASE WHEN (i + t) % 11 = 0 THEN NULL "
        "       WHEN (i + t) % 13 = 0 THEN timestamp '2025-02-28 23:59:59' "
        "       WHEN (i + t) % 17 = 0 THEN timestamp '2025-04-01 00:00:00' "
        "       ELSE timestamp '2025-03-01 00:00:00' + ((i * 7919 + t * 104729) % 2678400) * "
        "interval '1 second' END, "
        "  now(), CASE WHEN (i * 3 + t) % 9 = 0 THEN timestamp '2025-03-20 12:00:00' END "
        "FROM generate_series(1, " +
        std::to_string(tenants) + ") AS t, generate_series(1, 10 + (t + " + s +
        ") % 15) AS i WHERE t % 10 <> 9");
    // Rows: exact, off by some amount, or missing; tenants ending in 9 have a row but no orders.
    db.exec(
        "INSERT INTO quota_usages (tenant_id, period, used, quota_limit, created_at, updated_at) "
        "SELECT t.id, '" +
        std::string(kPeriod) +
        "', greatest(0, c.n + (t.id % 5) - 2), CASE WHEN t.id % 4 = 0 THEN 8 END, "
        "  '2025-03-01', '2025-03-01' "
        "FROM tenants t CROSS JOIN LATERAL (SELECT count(*) AS n FROM orders o WHERE o.tenant_id = "
        "t.id "
        "  AND o.created_at >= '2025-03-01' AND o.created_at < '2025-04-01' "
        "  AND o.deleted_at IS NULL AND o.status <> 'cancelled') c "
        "WHERE t.id % 7 <> 3");
    // Other periods, which no run of kPeriod touches.
    db.exec(
        "INSERT INTO quota_usages (tenant_id, period, used, created_at) "
        "SELECT id, '2025-02', 999, '2025-02-01' FROM tenants WHERE id % 3 = 0");
}

std::string undo_sql() {
    const std::string doc =
        read_file(required_env("OPS_SOURCE_DIR") + "/docs/commands/quota-reconcile.md");
    const std::string marker = "<!-- undo-sql -->";
    const auto at = doc.find(marker);
    REQUIRE(at != std::string::npos);
    const auto start = doc.find("```sql\n", at);
    REQUIRE(start != std::string::npos);
    const auto end = doc.find("```", start + 7);
    REQUIRE(end != std::string::npos);
    return doc.substr(start + 7, end - start - 7);
}

}  // namespace

TEST_CASE("quota reconcile: the counting rule at the month's edges and for every kind of order") {
    TestDatabase db;
    add_tenants(db, 2);
    add_order(db, 1, "pending", "2025-03-01 00:00:00");  // first second: counted
    add_order(db, 1, "paid", "2025-03-31 23:59:59");     // last second: counted
    add_order(db, 1, "completed", "2025-03-15 12:00:00");
    add_order(db, 1, "refunded", "2025-03-15 12:00:00");  // refunded still counts
    add_order(db, 1, "cancelled", "2025-03-15 12:00:00");
    add_order(db, 1, "paid", "2025-03-15 12:00:00", "2025-03-16 09:00:00");  // soft-deleted
    add_order(db, 1, "cancelled", "2025-03-15 12:00:00", "2025-03-16 09:00:00");
    add_order(db, 1, "paid", std::nullopt);           // NULL created_at never counts
    add_order(db, 1, "paid", "2025-02-28 23:59:59");  // the second before
    add_order(db, 1, "paid", "2025-04-01 00:00:00");  // the second after
    add_order(db, 2, "paid", "2025-03-10 00:00:00");  // another tenant
    add_usage(db, 1, kPeriod, 0, 10);

    const auto result = reconcile(db, {kPeriod});
    REQUIRE(result.exit_code == 0);
    CHECK(used_of(db, 1) == 4);
    CHECK(used_of(db, 2) == 1);
    const auto summary = result.json();
    CHECK(summary["period"] == kPeriod);
    CHECK(summary["counted_from"] == "2025-03-01 00:00:00");
    CHECK(summary["counted_until"] == "2025-04-01 00:00:00");
    CHECK(summary["tenants_checked"] == 2);
    CHECK(summary["drifted"] == 2);
    CHECK(summary["inserted"] == 1);
    CHECK(summary["updated"] == 1);
    CHECK(summary["unchanged"] == 0);
    CHECK(summary["status"] == "completed");
    CHECK(summary["dry_run"] == false);
}

TEST_CASE("quota reconcile: a row without orders becomes 0, orders without a row get one") {
    TestDatabase db;
    add_tenants(db, 4);
    add_usage(db, 1, kPeriod, 7, 100);
    add_order(db, 2, "paid", "2025-03-05 08:00:00");
    add_order(db, 2, "paid", "2025-03-06 08:00:00");
    add_order(db, 3, "cancelled", "2025-03-05 08:00:00");  // tenant 3: nothing counted, no row
    // Tenant 4 has nothing at all.
    const std::string now_before =
        db.scalar("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')");

    const auto result = reconcile(db, {kPeriod});
    REQUIRE(result.exit_code == 0);
    const auto rows = db.rows_as_json(
        "SELECT tenant_id, used, quota_limit, "
        "to_char(reconciled_at, 'YYYY-MM-DD HH24:MI:SS') AS reconciled_at, "
        "to_char(created_at, 'YYYY-MM-DD HH24:MI:SS') AS created_at, "
        "to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') AS updated_at "
        "FROM quota_usages ORDER BY tenant_id");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["tenant_id"] == 1);
    CHECK(rows[0]["used"] == 0);
    CHECK(rows[0]["quota_limit"] == 100);
    CHECK(rows[0]["created_at"] == "2025-01-01 10:00:00");
    CHECK(rows[0]["updated_at"].get<std::string>() >= now_before);
    CHECK(rows[1]["tenant_id"] == 2);
    CHECK(rows[1]["used"] == 2);
    CHECK(rows[1]["quota_limit"].is_null());
    CHECK(rows[1]["created_at"].get<std::string>() >= now_before);
    for (const auto& row : rows) CHECK(row["reconciled_at"].get<std::string>() >= now_before);

    const auto summary = result.json();
    CHECK(summary["tenants_checked"] == 2);
    CHECK(summary["inserted"] == 1);
    CHECK(summary["updated"] == 1);
    CHECK(summary["drift"] == json::parse(R"([{"tenant_id":1,"recorded":7,"actual":0,"delta":-7},
                                               {"tenant_id":2,"recorded":null,"actual":2,"delta":2}])"));
    CHECK(summary["changes"] == json::parse(R"([{"tenant_id":1,"previous":7,"new":0},
                                                 {"tenant_id":2,"previous":null,"new":2}])"));
}

TEST_CASE("quota reconcile: --tenant narrows the run, other tenants and periods are untouched") {
    TestDatabase db;
    seed_drifted(db, 30, 1);
    const auto untouched_before =
        quota_rows(db, "period <> '2025-03' OR tenant_id NOT IN (4, 5, 6)");
    const auto counts = true_counts(db);

    const auto result = reconcile(db, {kPeriod, "--tenant", "5", "--tenant", "4", "--tenant=6",
                                       "--tenant", "5", "--tenant", "999999"});
    REQUIRE(result.exit_code == 0);
    const auto summary = result.json();
    CHECK(summary["tenants"] == json::parse("[4,5,6,999999]"));
    CHECK(summary["tenants_checked"] == 3);
    for (int tenant : {4, 5, 6}) CHECK(used_of(db, tenant) == counts.at(tenant));
    CHECK(quota_rows(db, "period <> '2025-03' OR tenant_id NOT IN (4, 5, 6)") == untouched_before);

    // A whole run of one month leaves the other months alone too.
    REQUIRE(reconcile(db, {kPeriod}).exit_code == 0);
    const auto other_period = quota_rows(db, "period = '2025-02'");
    REQUIRE(!other_period.empty());
    for (const auto& [id, row] : other_period) {
        CHECK(row["used"] == 999);
        CHECK(row["reconciled_at"].is_null());
    }
}

TEST_CASE("quota reconcile: a second run finds no drift and changes no used value") {
    TestDatabase db;
    seed_drifted(db, 40, 2);
    const auto first = reconcile(db, {kPeriod, "--batch-size", "7"});
    REQUIRE(first.exit_code == 0);
    CHECK(first.json()["drifted"].get<int>() > 10);
    const auto counts = true_counts(db);
    for (const auto& [tenant, used] : recorded(db)) CHECK(used == counts.at(tenant));

    const auto updated_before = db.rows_as_json(
        "SELECT tenant_id, updated_at FROM quota_usages WHERE period = '2025-03' ORDER BY "
        "tenant_id");
    sleep(1);  // updated_at has whole seconds: a rewrite would show
    const auto second = reconcile(db, {kPeriod, "--fail-on-drift"});
    CHECK(second.exit_code == 0);
    const auto summary = second.json();
    CHECK(summary["drifted"] == 0);
    CHECK(summary["inserted"] == 0);
    CHECK(summary["updated"] == 0);
    CHECK(summary["unchanged"] == first.json()["tenants_checked"]);
    CHECK(summary["drift"].empty());
    CHECK(summary["changes"].empty());
    CHECK(db.rows_as_json("SELECT tenant_id, updated_at FROM quota_usages WHERE period = '2025-03' "
                          "ORDER BY tenant_id") == updated_before);
    // reconciled_at moved on for every row in scope.
    CHECK(db.count("SELECT count(*) FROM quota_usages WHERE period = '2025-03' "
                   "AND reconciled_at < (SELECT max(reconciled_at) FROM quota_usages)") == 0);
}

TEST_CASE("quota reconcile: a dry run changes nothing and reports the drift, largest first") {
    TestDatabase db;
    add_tenants(db, 30);
    for (int tenant = 1; tenant <= 25; ++tenant) {
        add_order(db, tenant, "paid", "2025-03-02 10:00:00");
        add_usage(db, tenant, kPeriod, 1 + tenant);  // delta -tenant
    }
    add_order(db, 26, "paid", "2025-03-02 10:00:00");  // missing row: recorded null, delta +1
    add_usage(db, 27, kPeriod, 0, 0);                  // exact
    const auto before = quota_rows(db);
    const auto events_before = db.count("SELECT count(*) FROM audit_events");

    auto result = reconcile(db, {kPeriod, "--dry-run"});
    REQUIRE(result.exit_code == 0);
    CHECK(quota_rows(db) == before);
    CHECK(db.count("SELECT count(*) FROM audit_events") == events_before);
    const auto summary = result.json();
    CHECK(summary["dry_run"] == true);
    CHECK(summary["tenants_checked"] == 27);
    CHECK(summary["drifted"] == 26);
    CHECK(summary["inserted"] == 1);
    CHECK(summary["updated"] == 25);
    CHECK(summary["unchanged"] == 1);
    CHECK_FALSE(summary.contains("changes"));
    const auto& drift = summary["drift"];
    REQUIRE(drift.size() == 26);
    CHECK(drift[0] == json::parse(R"({"tenant_id":25,"recorded":26,"actual":1,"delta":-25})"));
    CHECK(drift[23]["tenant_id"] == 2);
    CHECK(drift[24]["tenant_id"] == 1);  // |-1| ties with tenant 26's |+1|: lower id first
    CHECK(drift[25]["tenant_id"] == 26);
    CHECK(drift[25]["recorded"].is_null());
    CHECK(drift[25]["delta"] == 1);
    for (std::size_t i = 1; i < drift.size(); ++i) {
        CHECK(std::abs(drift[i - 1]["delta"].get<int>()) >= std::abs(drift[i]["delta"].get<int>()));
    }

    // Text: the top 20 and the totals.
    result = run_ops({"quota", "reconcile", kPeriod, "--dry-run"}, db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(std::regex_search(result.out, std::regex("\ndrifted +26\n")));
    CHECK(result.out.find("... 6 more (use --output json for all)") != std::string::npos);
    CHECK(std::regex_search(result.out, std::regex("\n  25 +26 +1 +-25 ")));
    CHECK(result.err.find("[DRY-RUN]") != std::string::npos);
    CHECK(quota_rows(db) == before);
}

TEST_CASE("quota reconcile: --fail-on-drift exits 3 on drift and 0 without") {
    TestDatabase db;
    add_tenants(db, 2);
    add_order(db, 1, "paid", "2025-03-02 10:00:00");
    add_usage(db, 1, kPeriod, 5);
    add_usage(db, 2, kPeriod, 0);

    auto result = reconcile(db, {kPeriod, "--dry-run", "--fail-on-drift"});
    CHECK(result.exit_code == 3);
    CHECK(result.json()["drifted"] == 1);
    CHECK(used_of(db, 1) == 5);
    CHECK(reconcile(db, {kPeriod, "--dry-run"}).exit_code == 0);

    result = reconcile(db, {kPeriod, "--fail-on-drift"});  // fixes it, and still reports it
    CHECK(result.exit_code == 3);
    CHECK(result.json()["status"] == "completed");
    CHECK(used_of(db, 1) == 1);
    CHECK(reconcile(db, {kPeriod, "--fail-on-drift"}).exit_code == 0);
    CHECK(reconcile(db, {kPeriod, "--fail-on-drift", "--dry-run"}).exit_code == 0);
}

TEST_CASE("quota reconcile: tenants over quota are listed after reconciling") {
    TestDatabase db;
    add_tenants(db, 4);
    for (int i = 0; i < 5; ++i) add_order(db, 1, "paid", "2025-03-02 10:00:00");
    for (int i = 0; i < 3; ++i) add_order(db, 2, "paid", "2025-03-02 10:00:00");
    for (int i = 0; i < 9; ++i) add_order(db, 3, "paid", "2025-03-02 10:00:00");
    add_usage(db, 1, kPeriod, 0, 2);   // recorded under the limit, actually 3 over
    add_usage(db, 2, kPeriod, 50, 3);  // recorded over, actually at the limit
    add_usage(db, 3, kPeriod, 9);      // unlimited
    add_usage(db, 4, kPeriod, 0, 0);

    const json expected = json::parse(R"([{"tenant_id":1,"used":5,"quota_limit":2}])");
    auto result = reconcile(db, {kPeriod, "--dry-run"});
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["over_quota"] == expected);
    result = reconcile(db, {kPeriod});
    REQUIRE(result.exit_code == 0);
    CHECK(result.json()["over_quota"] == expected);
}

TEST_CASE(
    "quota reconcile: batches hold at most --batch-size tenants and about --batch-orders orders") {
    TestDatabase db;
    add_tenants(db, 6);
    for (int tenant = 1; tenant <= 6; ++tenant) {
        add_usage(db, tenant, kPeriod, tenant == 3 ? 50 : 4);
        add_order(db, tenant, "paid", "2025-03-02 10:00:00");
    }
    const auto result = run_ops({"--log-level", "debug", "quota", "reconcile", kPeriod,
                                 "--batch-size", "2", "--batch-orders", "10"},
                                db.env());
    REQUIRE(result.exit_code == 0);
    CHECK(result.err.find("6 tenants to visit in 4 batches") != std::string::npos);
    for (const char* batch : {"tenants 1..2:", "tenants 3..3:", "tenants 4..5:", "tenants 6..6:"}) {
        CHECK(result.err.find(batch) != std::string::npos);
    }
    for (int tenant = 1; tenant <= 6; ++tenant) CHECK(used_of(db, tenant) == 1);
}

TEST_CASE("quota reconcile: current and previous are months of the application's clock") {
    TestDatabase db;
    add_tenants(db, 1);
    for (const char* zone : {"UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"}) {
        INFO(zone);
        const std::string local = std::string("now() AT TIME ZONE '") + zone + "'";
        const std::string current = db.scalar("SELECT to_char(" + local + ", 'YYYY-MM')");
        const std::string previous = db.scalar("SELECT to_char(date_trunc('month', " + local +
                                               ") - interval '1 day', 'YYYY-MM')");
        auto result = run_ops(
            {"--output", "json", "--timezone", zone, "quota", "reconcile", "--dry-run"}, db.env());
        REQUIRE(result.exit_code == 0);
        CHECK(result.json()["period"] == current);
        result = run_ops(
            {"--output", "json", "--timezone", zone, "quota", "reconcile", "previous", "--dry-run"},
            db.env());
        REQUIRE(result.exit_code == 0);
        CHECK(result.json()["period"] == previous);
        CHECK(result.json()["counted_from"] == previous + "-01 00:00:00");
        result = run_ops(
            {"--output", "json", "--timezone", zone, "quota", "reconcile", "current", "--dry-run"},
            db.env());
        CHECK(result.json()["period"] == current);
    }
}

TEST_CASE("quota reconcile: the run record carries every change, and the runbook's SQL undoes it") {
    TestDatabase db;
    seed_drifted(db, 25, 3);
    const auto before = recorded(db);
    const auto result = reconcile(db, {kPeriod, "--batch-size", "4"});
    REQUIRE(result.exit_code == 0);
    const std::string run_id = result.json()["run_id"];
    const auto records = db.rows_as_json(
        "SELECT event, actor_type, metadata FROM audit_events WHERE channel = 'ops' ORDER BY id");
    REQUIRE(records.size() == 1);
    CHECK(records[0]["event"] == "ops.quota.reconcile");
    const auto& metadata = records[0]["metadata"];
    CHECK(metadata["run_id"] == run_id);
    CHECK(metadata["period"] == kPeriod);
    const auto& changes = metadata["changes"];
    CHECK(changes.size() == metadata["drifted"].get<std::size_t>());
    int inserted = 0;
    for (const auto& change : changes) {
        const auto tenant = change["tenant_id"].get<std::int64_t>();
        if (change["previous"].is_null()) {
            ++inserted;
            CHECK(before.count(tenant) == 0);
        } else {
            CHECK(change["previous"] == before.at(tenant));
        }
        CHECK(change["new"] == used_of(db, static_cast<int>(tenant)));
    }
    CHECK(inserted > 0);
    CHECK(inserted == metadata["inserted"]);

    // The application keeps working after the run: one more order for tenant 1.
    Application app(db.url());
    app.create_order(1, "2025-03-20 10:00:00", false);

    // The runbook's undo, run by psql exactly as the document shows it.
    TempDir dir;
    { std::ofstream(dir.path() / "undo.sql") << undo_sql(); }
    Process psql({"/bin/sh", "-c",
                  "psql -X -q -v ON_ERROR_STOP=1 -v run_id=" + run_id +
                      " -d \"$DATABASE_URL\" -f " + (dir.path() / "undo.sql").string()},
                 db.env());
    const auto undone = psql.wait();
    INFO(undone.out << undone.err);
    REQUIRE(undone.exit_code == 0);
    for (const auto& [tenant, used] : recorded(db)) {
        const std::int64_t extra = tenant == 1 ? 1 : 0;
        if (before.count(tenant)) {
            CHECK(used == before.at(tenant) + extra);
        } else {
            CHECK(used == extra);  // the row the run inserted is back to "no usage"
        }
    }
}

TEST_CASE("quota reconcile: exact while the application creates, cancels and deletes orders") {
    TestDatabase db;
    constexpr int kTenants = 60;
    seed_drifted(db, kTenants, 4);

    std::atomic<bool> stop{false};
    std::atomic<std::int64_t> operations{0}, failures{0}, slowest_ms{0};
    std::vector<std::thread> traffic;
    std::string failure_text;
    std::mutex failure_mutex;
    for (int worker = 0; worker < 8; ++worker) {
        traffic.emplace_back([&, worker] {
            try {
                Application app(db.url());
                std::mt19937 random(static_cast<unsigned>(worker * 7919 + 17));
                std::uniform_int_distribution<int> tenant(1, kTenants), action(0, 9),
                    second(0, 2678399);
                while (!stop) {
                    const auto started = std::chrono::steady_clock::now();
                    const bool dawdle = action(random) < 3;
                    try {
                        const int a = action(random);
                        if (a < 6) {
                            char created[32];
                            const int s = second(random);
                            std::snprintf(created, sizeof created, "2025-03-%02d %02d:%02d:%02d",
                                          1 + s / 86400, s % 86400 / 3600, s % 3600 / 60, s % 60);
                            app.create_order(tenant(random), created, dawdle);
                        } else {
                            app.drop_order(tenant(random), a >= 8, dawdle);
                        }
                        ++operations;
                    } catch (const std::exception& e) {
                        ++failures;
                        std::lock_guard lock(failure_mutex);
                        failure_text = e.what();
                    }
                    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - started)
                                        .count();
                    std::int64_t seen = slowest_ms;
                    while (ms > seen && !slowest_ms.compare_exchange_weak(seen, ms)) {
                    }
                }
            } catch (const std::exception& e) {
                ++failures;
                std::lock_guard lock(failure_mutex);
                failure_text = e.what();
            }
        });
    }

    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::int64_t changed = 0;
    const auto before_runs = operations.load();
    for (const char* batch : {"3", "1", "7", "500", "2", "1"}) {
        const auto result = reconcile(db, {kPeriod, "--batch-size", batch});
        CHECK(result.exit_code == 0);
        if (result.exit_code == 0) changed += result.json()["drifted"].get<std::int64_t>();
    }
    const auto during_runs = operations.load() - before_runs;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    stop = true;
    for (auto& thread : traffic) thread.join();

    INFO("operations during the runs: " << during_runs << ", failures: " << failures << " (last: "
                                        << failure_text << "), slowest ms: " << slowest_ms);
    CHECK(failures == 0);
    CHECK(during_runs > 200);
    CHECK(changed > 0);
    CHECK(slowest_ms < 3000);
    const auto counts = true_counts(db);
    const auto used = recorded(db);
    for (const auto& [tenant, count] : counts) {
        INFO("tenant " << tenant);
        const auto it = used.find(tenant);
        CHECK((it == used.end() ? 0 : it->second) == count);
    }
}

TEST_CASE("quota reconcile: kill -9 mid-run leaves every row at its old value or the exact one") {
    TestDatabase db;
    constexpr int kTenants = 120;
    seed_drifted(db, kTenants, 5);
    const auto old_values = recorded(db);
    const auto counts = true_counts(db);
    // Slow each row write down so that the kill lands mid-run.
    slow_down(db, kSlowRows);

    Process run(ops_argv({"quota", "reconcile", kPeriod, "--batch-size", "3"}), db.env());
    std::int64_t reconciled = 0;
    for (int i = 0; i < 400 && reconciled < 15; ++i) {
        usleep(20000);
        reconciled = db.count("SELECT count(*) FROM quota_usages WHERE reconciled_at IS NOT NULL");
    }
    REQUIRE(reconciled >= 15);
    run.send(SIGKILL);
    const auto killed = run.wait();
    CHECK(killed.signal == SIGKILL);
    wait_for_backend_to_leave(db, "ops quota reconcile");

    const auto after = recorded(db);
    int exact = 0, old = 0;
    for (const auto& [tenant, count] : counts) {
        INFO("tenant " << tenant);
        const auto was = old_values.find(tenant);
        const auto now = after.find(tenant);
        if (now == after.end()) {
            CHECK(was == old_values.end());  // a missing row stays missing until its batch commits
            ++old;
        } else if (now->second == count) {
            ++exact;
        } else {
            REQUIRE(was != old_values.end());
            CHECK(now->second == was->second);
            ++old;
        }
    }
    CHECK(db.count("SELECT count(*) FROM quota_usages WHERE reconciled_at IS NOT NULL AND used <> "
                   "(SELECT count(*) FROM orders o WHERE o.tenant_id = quota_usages.tenant_id "
                   "AND o.created_at >= '2025-03-01' AND o.created_at < '2025-04-01' "
                   "AND o.deleted_at IS NULL AND o.status <> 'cancelled')") == 0);
    CHECK(exact >= 15);
    CHECK(db.count("SELECT count(*) FROM quota_usages WHERE period = '2025-03' AND reconciled_at "
                   "IS NULL") > 0);
    CHECK(db.count("SELECT count(*) FROM audit_events WHERE channel = 'ops'") == 0);

    // The next run finishes the job.
    remove_slow_down(db, kSlowRows);
    REQUIRE(reconcile(db, {kPeriod}).exit_code == 0);
    for (const auto& [tenant, used] : recorded(db)) CHECK(used == counts.at(tenant));
    CHECK(reconcile(db, {kPeriod, "--fail-on-drift"}).exit_code == 0);
}

TEST_CASE("quota reconcile: SIGTERM stops after the batch in flight and records what it changed") {
    TestDatabase db;
    seed_drifted(db, 60, 6);
    const auto counts = true_counts(db);
    slow_down(db, kSlowRows);

    Process run(ops_argv({"--output", "json", "quota", "reconcile", kPeriod, "--batch-size", "2"}),
                db.env());
    for (int i = 0; i < 400; ++i) {
        usleep(20000);
        if (db.count("SELECT count(*) FROM quota_usages WHERE reconciled_at IS NOT NULL") >= 6)
            break;
    }
    run.send(SIGTERM);
    const auto result = run.wait();
    CHECK(result.exit_code == 143);
    const auto summary = result.json();
    CHECK(summary["status"] == "interrupted");
    const auto checked = summary["tenants_checked"].get<std::int64_t>();
    CHECK(checked > 0);
    CHECK(db.count("SELECT count(*) FROM quota_usages WHERE reconciled_at IS NOT NULL") == checked);
    const auto records = db.rows_as_json("SELECT metadata FROM audit_events WHERE channel = 'ops'");
    REQUIRE(records.size() == 1);
    CHECK(records[0]["metadata"]["changes"] == summary["changes"]);
    CHECK(records[0]["metadata"]["status"] == "interrupted");
    for (const auto& change : summary["changes"]) {
        CHECK(change["new"] == counts.at(change["tenant_id"].get<std::int64_t>()));
    }
}
