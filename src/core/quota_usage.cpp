#include "ops/core/quota_usage.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>

namespace ops {
namespace {

Summary optional_value(const std::optional<std::int64_t>& value) {
    return value ? Summary(*value) : Summary(nullptr);
}

}  // namespace

std::vector<UsageCheck> check_usage(
    const std::vector<RecordedUsage>& rows,
    const std::vector<std::pair<std::int64_t, std::int64_t>>& counts) {
    std::map<std::int64_t, UsageCheck> by_tenant;
    for (const auto& row : rows) {
        by_tenant[row.tenant_id] = {row.tenant_id, row.used, 0, row.quota_limit};
    }
    for (const auto& [tenant, orders] : counts) {
        const auto it = by_tenant.find(tenant);
        if (it != by_tenant.end()) {
            it->second.actual = orders;
        } else if (orders > 0) {
            by_tenant[tenant] = {tenant, std::nullopt, orders, std::nullopt};
        }
    }
    std::vector<UsageCheck> checks;
    checks.reserve(by_tenant.size());
    for (auto& [tenant, check] : by_tenant) checks.push_back(check);
    return checks;
}

std::vector<std::pair<std::size_t, std::size_t>> split_batches(
    const std::vector<std::int64_t>& expected_orders, std::int64_t max_tenants,
    std::int64_t max_orders) {
    std::vector<std::pair<std::size_t, std::size_t>> batches;
    std::size_t begin = 0;
    std::int64_t orders = 0;
    for (std::size_t i = 0; i < expected_orders.size(); ++i) {
        const std::int64_t expected = std::max<std::int64_t>(expected_orders[i], 0);
        const auto tenants = static_cast<std::int64_t>(i - begin);
        if (i > begin && (tenants >= max_tenants || orders + expected > max_orders)) {
            batches.emplace_back(begin, i);
            begin = i;
            orders = 0;
        }
        orders += expected;
    }
    if (begin < expected_orders.size()) batches.emplace_back(begin, expected_orders.size());
    return batches;
}

void ReconcileTally::add(const std::vector<UsageCheck>& checks) {
    for (const auto& check : checks) {
        ++checked_;
        if (check.missing_row()) {
            ++inserted_;
        } else if (check.drifted()) {
            ++updated_;
        }
        if (check.drifted()) drifted_.push_back(check);
        if (check.over_quota()) over_.push_back(check);
    }
}

Summary ReconcileTally::drift() const {
    std::vector<UsageCheck> sorted = drifted_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const UsageCheck& a, const UsageCheck& b) {
        const auto da = std::llabs(a.delta()), db = std::llabs(b.delta());
        return da != db ? da > db : a.tenant_id < b.tenant_id;
    });
    Summary list = Summary::array();
    for (const auto& c : sorted) {
        list.push_back({{"tenant_id", c.tenant_id},
                        {"recorded", optional_value(c.recorded)},
                        {"actual", c.actual},
                        {"delta", c.delta()}});
    }
    return list;
}

Summary ReconcileTally::over_quota() const {
    std::vector<UsageCheck> sorted = over_;
    std::stable_sort(sorted.begin(), sorted.end(), [](const UsageCheck& a, const UsageCheck& b) {
        const auto ea = a.actual - *a.quota_limit, eb = b.actual - *b.quota_limit;
        return ea != eb ? ea > eb : a.tenant_id < b.tenant_id;
    });
    Summary list = Summary::array();
    for (const auto& c : sorted) {
        list.push_back(
            {{"tenant_id", c.tenant_id}, {"used", c.actual}, {"quota_limit", *c.quota_limit}});
    }
    return list;
}

Summary ReconcileTally::changes() const {
    std::vector<UsageCheck> sorted = drifted_;
    std::sort(sorted.begin(), sorted.end(),
              [](const UsageCheck& a, const UsageCheck& b) { return a.tenant_id < b.tenant_id; });
    Summary list = Summary::array();
    for (const auto& c : sorted) {
        list.push_back({{"tenant_id", c.tenant_id},
                        {"previous", optional_value(c.recorded)},
                        {"new", c.actual}});
    }
    return list;
}

}  // namespace ops
