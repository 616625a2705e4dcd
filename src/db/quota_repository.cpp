#include "ops/db/quota_repository.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ops/db/statement.hpp"
#include "sql_access.hpp"

namespace ops {

namespace {

// The counting rule for orders aliased `o`, named {counted} in the statements below: created
// in the period, not soft-deleted, not cancelled.
constexpr const char* kCounted = R"sql(o.created_at >= :from::timestamp
          AND o.created_at < :until::timestamp
          AND o.deleted_at IS NULL AND o.status <> 'cancelled')sql";

std::string expand(std::string_view sql, std::string_view lock = {}) {
    return fmt::format(fmt::runtime(sql), fmt::arg("counted", kCounted), fmt::arg("lock", lock));
}

void bind_range(Bindings& b, const QuotaPeriod& period) {
    b.set("from", period.from).set("until", period.until);
}

std::vector<QuotaRow> to_rows(const pqxx::result& result) {
    std::vector<QuotaRow> rows;
    rows.reserve(result.size());
    for (const auto& row : result) {
        QuotaRow r{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(), std::nullopt};
        if (!row[2].is_null()) r.quota_limit = row[2].as<std::int64_t>();
        rows.push_back(r);
    }
    return rows;
}

constexpr const char* kRowsOfTenants = R"sql(
    SELECT q.tenant_id, q.used, q.quota_limit FROM quota_usages q
    WHERE q.period = :period::bpchar
      AND q.tenant_id IN (SELECT json_array_elements_text(:tenants::json)::bigint)
    ORDER BY q.tenant_id {lock}
)sql";

}  // namespace

QuotaRepository::QuotaRepository(Transaction& tx) : tx_(SqlAccess::of(tx)) {}

std::vector<Candidate> QuotaRepository::candidate_tenants(const QuotaPeriod& period,
                                                          std::span<const std::int64_t> only) {
    static const Statement candidates(R"sql(
        SELECT t.id, greatest(coalesce(q.used, 0), 0)
        FROM (SELECT id FROM tenants
              UNION SELECT tenant_id FROM quota_usages WHERE period = :period::bpchar) AS t
        LEFT JOIN quota_usages q ON q.tenant_id = t.id AND q.period = :period::bpchar
        WHERE :only::json IS NULL
           OR t.id IN (SELECT json_array_elements_text(:only::json)::bigint)
        ORDER BY t.id
    )sql");
    const auto rows =
        run(tx_, Bindings(candidates).set("period", period.period).set("only", json_filter(only)));
    std::vector<Candidate> tenants;
    tenants.reserve(rows.size());
    for (const auto& row : rows) {
        tenants.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>()});
    }
    return tenants;
}

std::vector<std::int64_t> QuotaRepository::insert_missing_rows(
    const QuotaPeriod& period, std::span<const std::int64_t> tenants, const std::string& now) {
    static const Statement insert(expand(R"sql(
        INSERT INTO quota_usages (tenant_id, period, used, created_at, updated_at)
        SELECT t.id, :period::bpchar, 0, :now::timestamp, :now::timestamp
        FROM (SELECT json_array_elements_text(:tenants::json)::bigint AS id) t
        WHERE NOT EXISTS (SELECT 1 FROM quota_usages q
                          WHERE q.tenant_id = t.id AND q.period = :period::bpchar)
          AND EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = t.id AND {counted})
        ORDER BY t.id
        ON CONFLICT (tenant_id, period) DO NOTHING
        RETURNING tenant_id
    )sql"));
    Bindings b(insert);
    b.set("period", period.period).set("tenants", json_array(tenants)).set("now", now);
    bind_range(b, period);
    std::vector<std::int64_t> inserted;
    for (const auto& row : run(tx_, b)) inserted.push_back(row[0].as<std::int64_t>());
    std::sort(inserted.begin(), inserted.end());
    return inserted;
}

std::vector<QuotaRow> QuotaRepository::lock_rows(const QuotaPeriod& period,
                                                 std::span<const std::int64_t> tenants) {
    static const Statement lock(expand(kRowsOfTenants, "FOR UPDATE"));
    return to_rows(
        run(tx_, Bindings(lock).set("period", period.period).set("tenants", json_array(tenants))));
}

std::vector<QuotaRow> QuotaRepository::read_rows(const QuotaPeriod& period,
                                                 std::span<const std::int64_t> tenants) {
    static const Statement read(expand(kRowsOfTenants));
    return to_rows(
        run(tx_, Bindings(read).set("period", period.period).set("tenants", json_array(tenants))));
}

std::vector<TenantOrderCount> QuotaRepository::count_orders(const QuotaPeriod& period,
                                                            std::span<const std::int64_t> tenants) {
    static const Statement count(expand(R"sql(
        SELECT t.id, (SELECT count(*) FROM orders o WHERE o.tenant_id = t.id AND {counted})
        FROM (SELECT json_array_elements_text(:tenants::json)::bigint AS id) t
        ORDER BY t.id
    )sql"));
    Bindings b(count);
    b.set("tenants", json_array(tenants));
    bind_range(b, period);
    const auto rows = run(tx_, b);
    std::vector<TenantOrderCount> counts;
    counts.reserve(rows.size());
    for (const auto& row : rows)
        counts.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>()});
    return counts;
}

std::string quota_updates_json(std::span<const QuotaUpdate> updates) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& u : updates) {
        list.push_back({{"tenant_id", u.tenant_id}, {"used", u.used}, {"changed", u.changed}});
    }
    return list.dump();
}

std::int64_t QuotaRepository::apply(const QuotaPeriod& period, std::span<const QuotaUpdate> updates,
                                    const std::string& now) {
    static const Statement update(R"sql(
        UPDATE quota_usages q
        SET used = c.used, reconciled_at = :now::timestamp,
            updated_at = CASE WHEN c.changed THEN :now::timestamp ELSE q.updated_at END
        FROM json_to_recordset(:updates::json) AS c(tenant_id bigint, used integer, changed boolean)
        WHERE q.tenant_id = c.tenant_id AND q.period = :period::bpchar
    )sql");
    return static_cast<std::int64_t>(run(tx_, Bindings(update)
                                                  .set("period", period.period)
                                                  .set("updates", quota_updates_json(updates))
                                                  .set("now", now))
                                         .affected_rows());
}

}  // namespace ops
