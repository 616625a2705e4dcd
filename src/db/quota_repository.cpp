#include "ops/db/quota_repository.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ops {
namespace {

// The counting rule, for orders aliased `o` against $from and $until (placeholders given).
std::string counted_orders(const std::string& from, const std::string& until) {
    return "o.created_at >= " + from + "::timestamp AND o.created_at < " + until +
           "::timestamp AND o.deleted_at IS NULL AND o.status <> 'cancelled'";
}

std::string ids_json(const std::vector<std::int64_t>& tenants) {
    return nlohmann::json(tenants).dump();
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

constexpr const char* kRowsOfTenants =
    "SELECT q.tenant_id, q.used, q.quota_limit FROM quota_usages q "
    "WHERE q.period = $1::bpchar "
    "AND q.tenant_id IN (SELECT json_array_elements_text($2::json)::bigint) "
    "ORDER BY q.tenant_id";

}  // namespace

std::vector<Candidate> QuotaRepository::candidate_tenants(const QuotaPeriod& period,
                                                          const std::vector<std::int64_t>& only) {
    const std::string filter = only.empty() ? "" : ids_json(only);
    const auto rows = tx_.exec_params(
        "SELECT t.id, greatest(coalesce(q.used, 0), 0) "
        "FROM (SELECT id FROM tenants "
        "      UNION SELECT tenant_id FROM quota_usages WHERE period = $1::bpchar) AS t "
        "LEFT JOIN quota_usages q ON q.tenant_id = t.id AND q.period = $1::bpchar "
        "WHERE $2::json IS NULL OR t.id IN (SELECT json_array_elements_text($2::json)::bigint) "
        "ORDER BY t.id",
        period.period, filter.empty() ? nullptr : filter.c_str());
    std::vector<Candidate> tenants;
    tenants.reserve(rows.size());
    for (const auto& row : rows) {
        tenants.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>()});
    }
    return tenants;
}

std::vector<std::int64_t> QuotaRepository::insert_missing_rows(
    const QuotaPeriod& period, const std::vector<std::int64_t>& tenants, const std::string& now) {
    const auto rows = tx_.exec_params(
        "INSERT INTO quota_usages (tenant_id, period, used, created_at, updated_at) "
        "SELECT t.id, $1::bpchar, 0, $5::timestamp, $5::timestamp "
        "FROM (SELECT json_array_elements_text($2::json)::bigint AS id) t "
        "WHERE NOT EXISTS (SELECT 1 FROM quota_usages q WHERE q.tenant_id = t.id AND q.period = "
        "$1::bpchar) "
        "AND EXISTS (SELECT 1 FROM orders o WHERE o.tenant_id = t.id AND " +
            counted_orders("$3", "$4") +
            ") "
            "ORDER BY t.id "
            "ON CONFLICT (tenant_id, period) DO NOTHING "
            "RETURNING tenant_id",
        period.period, ids_json(tenants), period.from, period.until, now);
    std::vector<std::int64_t> inserted;
    for (const auto& row : rows) inserted.push_back(row[0].as<std::int64_t>());
    std::sort(inserted.begin(), inserted.end());
    return inserted;
}

std::vector<QuotaRow> QuotaRepository::lock_rows(const QuotaPeriod& period,
                                                 const std::vector<std::int64_t>& tenants) {
    return to_rows(tx_.exec_params(std::string(kRowsOfTenants) + " FOR UPDATE", period.period,
                                   ids_json(tenants)));
}

std::vector<QuotaRow> QuotaRepository::read_rows(const QuotaPeriod& period,
                                                 const std::vector<std::int64_t>& tenants) {
    return to_rows(tx_.exec_params(kRowsOfTenants, period.period, ids_json(tenants)));
}

std::vector<TenantOrderCount> QuotaRepository::count_orders(
    const QuotaPeriod& period, const std::vector<std::int64_t>& tenants) {
    const auto rows = tx_.exec_params(
        "SELECT t.id, (SELECT count(*) FROM orders o WHERE o.tenant_id = t.id AND " +
            counted_orders("$2", "$3") +
            ") "
            "FROM (SELECT json_array_elements_text($1::json)::bigint AS id) t "
            "ORDER BY t.id",
        ids_json(tenants), period.from, period.until);
    std::vector<TenantOrderCount> counts;
    counts.reserve(rows.size());
    for (const auto& row : rows)
        counts.push_back({row[0].as<std::int64_t>(), row[1].as<std::int64_t>()});
    return counts;
}

std::int64_t QuotaRepository::apply(const QuotaPeriod& period,
                                    const std::vector<QuotaUpdate>& updates,
                                    const std::string& now) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& u : updates) {
        list.push_back({{"tenant_id", u.tenant_id}, {"used", u.used}, {"changed", u.changed}});
    }
    return static_cast<std::int64_t>(
        tx_.exec_params(
               "UPDATE quota_usages q "
               "SET used = c.used, reconciled_at = $3::timestamp, "
               "    updated_at = CASE WHEN c.changed THEN $3::timestamp ELSE q.updated_at END "
               "FROM json_to_recordset($2::json) AS c(tenant_id bigint, used integer, changed "
               "boolean) "
               "WHERE q.tenant_id = c.tenant_id AND q.period = $1::bpchar",
               period.period, list.dump(), now)
            .affected_rows());
}

}  // namespace ops
