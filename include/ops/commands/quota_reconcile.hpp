#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

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
class QuotaReconcileCommand : public Command {
  public:
    struct Options {
        std::string period;
        bool period_given = false;
        std::vector<std::string> tenants;
        std::string batch_size = "500";
        std::string batch_orders = "10000";
        bool dry_run = false;
        bool fail_on_drift = false;
    };

    static CommandSpec spec();

    void validate() override;
    DryRun dry_run() const override { return options_.dry_run ? DryRun::kYes : DryRun::kNo; }
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    bool changed_data() const override { return committed_; }
    ExitCode outcome() const override;

  private:
    void plan(Session& session, const RunContext& run);
    std::vector<UsageCheck> reconcile_batch(Session& session, const RunContext& run,
                                            const std::vector<std::int64_t>& tenants);
    std::vector<UsageCheck> check_batch(Session& session, const std::vector<std::int64_t>& tenants);

    Options options_;
    PeriodArgument period_argument_;
    std::vector<std::int64_t> tenant_filter_;  // ascending, unique; empty: all tenants
    std::int64_t batch_size_ = 500;
    std::int64_t batch_orders_ = 10000;

    QuotaPeriod period_;
    std::vector<std::int64_t> candidates_;
    std::vector<std::pair<std::size_t, std::size_t>> batches_;  // [begin, end) in candidates_
    ReconcileTally tally_;
    bool committed_ = false;
    std::chrono::milliseconds longest_batch_{0};  // how long a batch held its row locks at most
};

}  // namespace ops
