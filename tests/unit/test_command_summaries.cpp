// The batch commands' requests and summaries, in process: a summary is a pure function of
// request, plan, result and how planning stopped.
#include <catch2/catch.hpp>

#include "commands/audit_archive.hpp"
#include "commands/audit_restore.hpp"
#include "commands/quota_reconcile.hpp"
#include "commands/wa_redrive_failed.hpp"

using ops::Summary;
using ops::batch::Stop;

namespace {

ops::ArchivePlan archive_plan() {
    ops::ArchivePlan plan;
    plan.selection.cutoff = "2026-09-01 00:00:00";
    plan.channels = {{"web", 7, "2026-01-02 00:00:00", "2026-08-01 00:00:00"},
                     {"api", 3, "2025-12-01 00:00:00", "2026-03-01 00:00:00"}};
    plan.selected = 10;
    plan.data_file = "/tmp/a/audit-events-x.jsonl";
    return plan;
}

}  // namespace

TEST_CASE("archive request: each bad option is a usage error naming it") {
    const auto fails = [](auto change, const std::string& option) {
        ops::ArchiveOptions options;
        change(options);
        INFO(option);
        CHECK_THROWS_WITH(ops::make_archive_request(options),
                          Catch::Matchers::StartsWith(option + ":"));
    };
    fails([](auto& o) { o.max_runtime = "0"; }, "--max-runtime");
    fails([](auto& o) { o.parallel = "9"; }, "--parallel");
    fails([](auto& o) { o.channels = {""}; }, "--channel");
    fails([](auto& o) { o.channels = {"\xff"}; }, "--channel");
    fails([](auto& o) { o.dir = ""; }, "--dir");
    fails([](auto& o) { o.limit = "0"; }, "--limit");
    const auto request = ops::make_archive_request({});
    CHECK(request.days == 90);
    CHECK(request.parallel == 2);
    CHECK_FALSE(request.max_rows);
}

TEST_CASE("archive summary: a dry run shows the plan, a run what it took, and why it stopped") {
    ops::ArchiveRequest request;
    request.dry_run = true;
    const auto plan = archive_plan();
    ops::ArchiveResult none;
    const Summary dry = ops::archive_summary(request, plan, none, std::nullopt);
    CHECK(dry["selected"] == 10);
    CHECK(dry["by_channel"]["web"] == 7);
    CHECK(dry["oldest_created_at"] == "2025-12-01 00:00:00");
    CHECK(dry["newest_created_at"] == "2026-08-01 00:00:00");
    CHECK(dry["would_write"].size() == 2);
    CHECK_FALSE(dry.contains("files"));
    CHECK_FALSE(dry.contains("stopped_by"));

    request.dry_run = false;
    ops::ArchiveResult result;
    result.deleted = 4;
    result.by_channel = {{"web", 4}};
    result.oldest_created_at = "2026-01-02 00:00:00";
    const Summary stopped = ops::archive_summary(request, plan, result, Stop::kDeadline);
    CHECK(stopped["archived"] == 4);
    CHECK(stopped["by_channel"] == Summary{{"web", 4}});
    CHECK(stopped["files"].empty());  // no manifest: the file is not complete
    CHECK(stopped["stopped_by"] == "max-runtime");
    CHECK(ops::archive_summary(request, plan, result, Stop::kRefused)["stopped_by"] ==
          "replica-lag");
    CHECK_FALSE(ops::archive_summary(request, plan, result, Stop::kLimit).contains("stopped_by"));

    result.manifest.emplace();
    result.manifest->rows = 4;
    result.manifest->sha256 = "ab";
    const Summary done = ops::archive_summary(request, plan, result, Stop::kExhausted);
    REQUIRE(done["files"].size() == 1);
    CHECK(done["files"][0]["rows"] == 4);
    CHECK(done["files"][0]["path"] == plan.data_file.string());
}

TEST_CASE("redrive request: reasons, tenants and the job settings are checked") {
    ops::RedriveOptions options;
    options.reasons = {"not_on_whatsapp"};
    CHECK_THROWS_WITH(ops::make_redrive_request(options),
                      Catch::Matchers::Contains("--include-permanent"));
    options.include_permanent = true;
    options.tenants = {"3", "3", "1"};
    options.backoff = "1,2,3";
    const auto request = ops::make_redrive_request(options);
    CHECK(request.selection.codes == std::vector<std::string>{"not_on_whatsapp"});
    CHECK(request.selection.tenants == std::vector<std::int64_t>{3, 1});
    CHECK(request.properties.backoff == std::vector<std::int64_t>{1, 2, 3});
    options.queue = "a,b";
    CHECK_THROWS_WITH(ops::make_redrive_request(options), Catch::Matchers::StartsWith("--queue:"));
}

TEST_CASE("redrive summary: skipped only once the selection was visited, largest first") {
    ops::RedriveRequest request;
    ops::RedrivePlan plan;
    plan.tally.messages = 5;
    ops::RedriveResult result;
    result.redriven = 3;
    result.jobs_inserted = 3;
    result.by_reason = {{"a", 1}, {"b", 2}};
    result.by_tenant = {{7, 1}, {8, 2}};
    const Summary done = ops::redrive_summary(request, plan, result, Stop::kExhausted);
    CHECK(done["skipped"] == 2);
    CHECK(done["by_reason"].begin().key() == "b");
    CHECK(done["by_tenant"][0]["tenant_id"] == 8);
    CHECK(done["queue"] == "default");
    CHECK(done["rate"].is_null());
    CHECK(ops::redrive_summary(request, plan, result, Stop::kLimit)["skipped"] == 2);
    CHECK_FALSE(ops::redrive_summary(request, plan, result, Stop::kSignal).contains("skipped"));
    CHECK_FALSE(ops::redrive_summary(request, plan, result, std::nullopt).contains("skipped"));
    const Summary refused = ops::redrive_summary(request, plan, result, Stop::kRefused);
    CHECK_FALSE(refused.contains("skipped"));
    CHECK(refused["stopped_by"] == "replica-lag");

    request.rate = 2;
    plan.rate_start = 1000;
    result.rate_last_index = 4;  // a batch that requeued fewer than planned left a gap
    const Summary rate = ops::redrive_summary(request, plan, result, Stop::kExhausted)["rate"];
    CHECK(rate["jobs"] == 3);
    CHECK(rate["last_available_after_s"] == 2);
    CHECK(rate["last_available_at"] == 1002);

    request.dry_run = true;
    CHECK_FALSE(ops::redrive_summary(request, plan, result, Stop::kExhausted).contains("skipped"));
}

TEST_CASE("reconcile summary: the changes only in a real run") {
    ops::ReconcileOptions options;
    options.tenants = {"5", "2", "5"};
    auto request = ops::make_reconcile_request(options);
    CHECK(request.tenants == std::vector<std::int64_t>{2, 5});
    options.tenants = {"x"};
    CHECK_THROWS_WITH(ops::make_reconcile_request(options),
                      Catch::Matchers::StartsWith("--tenant:"));
    ops::ReconcilePlan plan;
    plan.period = {"2026-11", "2026-11-01 00:00:00", "2026-12-01 00:00:00"};
    ops::ReconcileResult result;
    result.tally.add({{2, 4, 5, std::nullopt}, {5, 1, 1, std::nullopt}});
    const Summary run = ops::reconcile_summary(request, plan, result);
    CHECK(run["drifted"] == 1);
    CHECK(run["tenants"] == Summary::array({2, 5}));
    CHECK(run.contains("changes"));
    request.dry_run = true;
    CHECK_FALSE(ops::reconcile_summary(request, plan, result).contains("changes"));
}

TEST_CASE("restore summary: a dry run says would_") {
    ops::RestoreRequest request;
    request.files = {"a.jsonl"};
    ops::RestorePlan plan;
    plan.lines = 3;
    ops::RestoreResult result;
    result.inserted = 2;
    result.skipped_existing = 1;
    CHECK(ops::restore_summary(request, plan, result)["inserted"] == 2);
    request.dry_run = true;
    const Summary dry = ops::restore_summary(request, plan, result);
    CHECK(dry["would_insert"] == 2);
    CHECK(dry["would_skip_existing"] == 1);
    CHECK_FALSE(dry.contains("inserted"));
    CHECK_FALSE(dry.contains("dropped_columns"));
}
