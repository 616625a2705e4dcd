#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <vector>

#include "ops/db/session.hpp"

namespace ops {

// One month of quota: the quota_usages period key and the half-open created_at range
// [from, until) of the orders it counts, as naive wall times in the application's zone.
struct QuotaPeriod {
    std::string period;  // "YYYY-MM"
    std::string from;    // "YYYY-MM-01 00:00:00"
    std::string until;   // first moment of the next month
};

// A tenant to visit, with the `used` its row records (0 without a row): how many orders
// counting it will read, about.
struct Candidate {
    std::int64_t tenant_id = 0;
    std::int64_t recorded = 0;
};

// A quota_usages row of the period.
struct QuotaRow {
    std::int64_t tenant_id = 0;
    std::int64_t used = 0;
    std::optional<std::int64_t> quota_limit;  // NULL: unlimited plan
};

// A tenant's counted orders in the period (created_at in range, not soft-deleted, not cancelled).
struct TenantOrderCount {
    std::int64_t tenant_id = 0;
    std::int64_t orders = 0;
};

// The new `used` of a locked row; `changed` says whether it differs from the recorded value.
struct QuotaUpdate {
    std::int64_t tenant_id = 0;
    std::int64_t used = 0;
    bool changed = false;
};

// All SQL on quota_usages and the order counts that feed it. Tenant lists travel as one
// JSON-array parameter; the caller commits.
class QuotaRepository {
  public:
    explicit QuotaRepository(Transaction& tx);

    // Tenants that may be in scope, ascending: every tenant plus every tenant with a row of
    // the period (orders and quota_usages both reference tenants), only those of `only` when
    // it is not empty.
    std::vector<Candidate> candidate_tenants(const QuotaPeriod& period,
                                             std::span<const std::int64_t> only);

    // Inserts a row (used 0, created_at = updated_at = `now`) for each tenant of the list that
    // has a counted order but no row, in tenant order; returns the tenants it inserted. A row
    // the application inserts meanwhile wins (ON CONFLICT DO NOTHING).
    std::vector<std::int64_t> insert_missing_rows(const QuotaPeriod& period,
                                                  std::span<const std::int64_t> tenants,
                                                  const std::string& now);

    // The rows of the listed tenants, locked FOR UPDATE in tenant order.
    std::vector<QuotaRow> lock_rows(const QuotaPeriod& period,
                                    std::span<const std::int64_t> tenants);

    // The same rows without locking them (dry run).
    std::vector<QuotaRow> read_rows(const QuotaPeriod& period,
                                    std::span<const std::int64_t> tenants);

    // Counted orders per listed tenant, zero included, in tenant order. One index range scan
    // on orders (tenant_id, created_at) per tenant.
    std::vector<TenantOrderCount> count_orders(const QuotaPeriod& period,
                                               std::span<const std::int64_t> tenants);

    // Sets `used` and reconciled_at = `now` on the rows of the updates (updated_at = `now`
    // where changed). Returns the rows written.
    std::int64_t apply(const QuotaPeriod& period, std::span<const QuotaUpdate> updates,
                       const std::string& now);

  private:
    pqxx::transaction_base& tx_;
};

// The updates as the JSON-array parameter apply() binds ([{tenant_id, used, changed}]).
std::string quota_updates_json(std::span<const QuotaUpdate> updates);

}  // namespace ops
