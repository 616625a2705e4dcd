#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ops/batch/engine.hpp"
#include "ops/commands/command.hpp"
#include "ops/core/period.hpp"
#include "ops/core/quota_usage.hpp"
#include "ops/db/quota_repository.hpp"

namespace ops {

// `ops quota reconcile`: recomputes quota_usages.used of one month from the orders, batch by
// batch of tenants, exactly even while the application keeps changing orders. Each batch, in
// one READ COMMITTED transaction: insert the missing rows, lock the batch's rows in tenant
// order, count the orders in a new statement (whose snapshot holds every order whose
// transaction upserted the row before the lock), write the counts, commit. An application
// transaction either committed before the lock (its order is counted and its +-1 overwritten)
// or waits for the commit (its order is not counted and its +-1 lands on the exact value).
// The batches run on the batch engine, one at a time.

// The options as CLI11 binds them.
struct ReconcileOptions {
    std::string period;
    bool period_given = false;
    std::vector<std::string> tenants;
    std::string batch_size = "500";
    std::string batch_orders = "10000";
    bool dry_run = false;
    bool fail_on_drift = false;
};

// What the run was asked, checked: every usage error is found making it.
struct ReconcileRequest {
    PeriodArgument period;
    std::vector<std::int64_t> tenants;  // ascending, unique; empty: all tenants
    std::int64_t batch_size = 500;
    std::int64_t batch_orders = 10000;
    bool dry_run = false;
    bool fail_on_drift = false;
};
ReconcileRequest make_reconcile_request(const ReconcileOptions& options);  // throws UsageError

// The month on the database clock, the tenants to visit and their batches.
struct ReconcilePlan {
    QuotaPeriod period;
    std::vector<std::int64_t> candidates;
    std::vector<std::pair<std::size_t, std::size_t>> batches;  // [begin, end) in candidates
};

struct ReconcileResult {
    ReconcileTally tally;
    bool committed = false;
    std::chrono::milliseconds longest_batch{0};  // how long a batch held its row locks at most
};

Summary reconcile_summary(const ReconcileRequest& request, const ReconcilePlan& plan,
                          const ReconcileResult& result);

class QuotaReconcileCommand : public Command {
  public:
    ReconcileOptions& options() { return options_; }  // for CLI11 to bind

    void validate() override { request_ = make_reconcile_request(options_); }
    DryRun dry_run() const override { return options_.dry_run ? DryRun::kYes : DryRun::kNo; }
    void execute(CommandEnv& env) override;
    Summary summary() const override { return reconcile_summary(request_, plan_, result_); }
    bool changed_data() const override { return result_.committed; }
    ExitCode outcome() const override;

  private:
    void make_plan(Session& session, const RunContext& run);

    ReconcileOptions options_;
    ReconcileRequest request_;
    ReconcilePlan plan_;
    ReconcileResult result_;
};

}  // namespace ops
