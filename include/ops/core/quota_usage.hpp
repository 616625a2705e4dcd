#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ops/core/summary_data.hpp"

// The arithmetic of quota reconcile, apart from the database: which tenants are in scope,
// what drifted, what a run changes and which tenants are over quota.
namespace ops {

// A quota_usages row as the run found it; `used` is empty when the row was missing (or was
// inserted by this run a moment ago).
struct RecordedUsage {
    std::int64_t tenant_id = 0;
    std::optional<std::int64_t> used;
    std::optional<std::int64_t> quota_limit;
};

// What `used` should be (`actual`, the counted orders) next to what was recorded.
struct UsageCheck {
    std::int64_t tenant_id = 0;
    std::optional<std::int64_t> recorded;
    std::int64_t actual = 0;
    std::optional<std::int64_t> quota_limit;

    bool missing_row() const { return !recorded.has_value(); }
    bool drifted() const { return missing_row() || *recorded != actual; }
    std::int64_t delta() const { return actual - recorded.value_or(0); }
    bool over_quota() const { return quota_limit.has_value() && actual > *quota_limit; }
};

// Joins rows and counts (both for the same tenants, any order) into checks in tenant order.
// In scope: every tenant with a row, and every tenant without one that has counted orders.
std::vector<UsageCheck> check_usage(
    const std::vector<RecordedUsage>& rows,
    const std::vector<std::pair<std::int64_t, std::int64_t>>& counts);

// Splits tenants (in order, each with its expected number of orders) into consecutive batches
// of at most `max_tenants` tenants whose expected orders stay within `max_orders`; a tenant
// that alone exceeds it gets a batch of its own. Returns [begin, end) index pairs. The expected
// orders (the recorded `used`) bound how long a batch counts, and so holds its row locks.
std::vector<std::pair<std::size_t, std::size_t>> split_batches(
    const std::vector<std::int64_t>& expected_orders, std::int64_t max_tenants,
    std::int64_t max_orders);

// Totals and lists over all batches of a run, rendered into its summary.
class ReconcileTally {
  public:
    void add(const std::vector<UsageCheck>& checks);

    std::int64_t checked() const { return checked_; }
    std::int64_t drifted() const { return inserted_ + updated_; }
    std::int64_t inserted() const { return inserted_; }
    std::int64_t updated() const { return updated_; }
    std::int64_t unchanged() const { return checked_ - inserted_ - updated_; }
    std::size_t over_quota_count() const { return over_.size(); }

    // {tenant_id, recorded, actual, delta}, largest absolute delta first, then by tenant.
    Summary drift() const;
    // {tenant_id, used, quota_limit}, largest excess first, then by tenant.
    Summary over_quota() const;
    // {tenant_id, previous, new} of every row written with a new `used` (previous null for a
    // row the run inserted), by tenant: what undoing the run needs.
    Summary changes() const;

  private:
    std::int64_t checked_ = 0;
    std::int64_t inserted_ = 0;
    std::int64_t updated_ = 0;
    std::vector<UsageCheck> drifted_;
    std::vector<UsageCheck> over_;
};

}  // namespace ops
