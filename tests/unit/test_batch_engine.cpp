#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <mutex>
#include <pqxx/pqxx>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ops/batch/engine.hpp"

using namespace std::chrono_literals;
using ops::batch::Engine;
using ops::batch::Planned;
using ops::batch::Range;
using ops::batch::Stop;

namespace {

struct Worker {
    int id = 0;
};

struct Batch {
    Range range;
    int worker = 0;
};

// A table of ids 1..rows in batches, as a range source and batch runner; what a test
// wants to happen to a batch is a function of its range.
class FakeJob : public ops::batch::Job<Worker, int, Batch> {
  public:
    explicit FakeJob(std::int64_t rows) : rows_(rows) {}

    std::optional<Planned<int>> plan(Worker& /*worker*/, const ops::batch::Next& next) override {
        const std::int64_t after = next.after;
        const std::int64_t wanted = next.wanted;
        ++plans;
        if (on_plan) on_plan(next);
        if (after >= rows_) return std::nullopt;
        const std::int64_t upper = std::min(rows_, after + wanted);
        return Planned<int>{{after, upper, upper - after}, 0};
    }
    bool admit(Worker& /*worker*/) override { return admit_after < 0 || plans <= admit_after; }
    Batch run(Worker& worker, const Planned<int>& batch, ops::batch::Serial& /*serial*/) override {
        if (on_run) on_run(batch.range);
        {
            const std::lock_guard lock(mutex_);
            threads.insert(std::this_thread::get_id());
        }
        return {batch.range, worker.id};
    }
    std::int64_t fold(Batch&& batch) override {
        folded_on.insert(std::this_thread::get_id());
        folded.push_back(batch);
        return batch.range.rows;
    }

    std::function<void(const ops::batch::Next&)> on_plan;
    std::function<void(const Range&)> on_run;
    int admit_after = -1;  // admit() refuses from plan number admit_after + 1 on
    std::atomic<int> plans{0};
    std::vector<Batch> folded;
    std::set<std::thread::id> folded_on;
    std::set<std::thread::id> threads;

  private:
    std::int64_t rows_;
    std::mutex mutex_;
};

ops::batch::Hooks test_hooks(std::atomic<bool>& stop) {
    ops::batch::Hooks hooks = ops::batch::default_hooks();
    hooks.stop_requested = [&stop] { return stop.load(); };
    return hooks;
}

ops::batch::Config config(std::int64_t batch_size, std::size_t parallel) {
    ops::batch::Config c;
    c.what = "test";
    c.parallel = parallel;
    c.limits.batch_size = batch_size;
    return c;
}

std::vector<Worker> workers_of(std::size_t n) {
    std::vector<Worker> workers;
    for (std::size_t i = 0; i < n; ++i) workers.push_back({static_cast<int>(i)});
    return workers;
}

std::vector<Worker*> pointers(std::vector<Worker>& workers) {
    std::vector<Worker*> out;
    for (auto& w : workers) out.push_back(&w);
    return out;
}

}  // namespace

TEST_CASE("batch engine: results come back in plan order, on the caller's thread") {
    FakeJob job(100);
    // Later batches finish first: each batch waits less the higher its range.
    job.on_run = [](const Range& r) { std::this_thread::sleep_for(1ms * (100 - r.upper) / 5); };
    std::atomic<bool> stop{false};
    auto workers = workers_of(4);
    Engine<Worker, int, Batch> engine(job, config(7, 4), test_hooks(stop));
    const auto outcome = engine.run(pointers(workers));

    CHECK(outcome.stop == Stop::kExhausted);
    CHECK(outcome.planned_rows == 100);
    CHECK(outcome.batches == 15);
    REQUIRE(job.folded.size() == 15);
    std::int64_t after = 0;
    for (const auto& batch : job.folded) {
        CHECK(batch.range.after == after);
        after = batch.range.upper;
    }
    CHECK(after == 100);
    CHECK(job.folded_on == std::set{std::this_thread::get_id()});
    // A fixed set of workers: at most 4 threads ran batches, none of them the caller's.
    CHECK(job.threads.size() <= 4);
    CHECK(job.threads.count(std::this_thread::get_id()) == 0);
}

TEST_CASE("batch engine: --limit caps the rows planned, the last batch is cut to it") {
    FakeJob job(100);
    std::atomic<bool> stop{false};
    auto c = config(10, 2);
    c.limits.max_rows = 25;
    auto workers = workers_of(2);
    const auto outcome =
        Engine<Worker, int, Batch>(job, c, test_hooks(stop)).run(pointers(workers));
    CHECK(outcome.stop == Stop::kLimit);
    CHECK(outcome.planned_rows == 25);
    REQUIRE(job.folded.size() == 3);
    CHECK(job.folded.back().range.rows == 5);
}

TEST_CASE("batch engine: a stop request ends planning, batches in flight finish") {
    FakeJob job(1000);
    std::atomic<bool> stop{false};
    job.on_run = [&stop](const Range& r) {
        if (r.upper == 30) stop = true;
    };
    auto workers = workers_of(1);
    const auto outcome =
        Engine<Worker, int, Batch>(job, config(10, 1), test_hooks(stop)).run(pointers(workers));
    CHECK(outcome.stop == Stop::kSignal);
    REQUIRE(job.folded.size() == 3);  // the batch that saw the signal still came back
    CHECK(job.folded.back().range.upper == 30);
}

TEST_CASE("batch engine: a stop request that comes while a plan runs stops before its batch") {
    FakeJob job(1000);
    std::atomic<bool> stop{false};
    job.on_plan = [&stop](const ops::batch::Next& next) {
        if (next.after == 20) stop = true;  // the signal lands during the third plan
    };
    auto workers = workers_of(1);
    const auto outcome =
        Engine<Worker, int, Batch>(job, config(10, 1), test_hooks(stop)).run(pointers(workers));
    CHECK(outcome.stop == Stop::kSignal);
    REQUIRE(job.folded.size() == 2);  // that plan's batch never ran
    CHECK(job.folded.back().range.upper == 20);
}

TEST_CASE("batch engine: --max-runtime stops at the first plan past the deadline") {
    FakeJob job(1000);
    std::atomic<bool> stop{false};
    auto hooks = test_hooks(stop);
    auto clock = std::make_shared<std::atomic<int>>(0);  // milliseconds on a fake clock
    const auto start = std::chrono::steady_clock::time_point{};
    hooks.now = [clock, start] { return start + std::chrono::milliseconds(clock->load()); };
    job.on_run = [clock](const Range&) { *clock += 40; };  // each batch takes 40 ms
    auto c = config(10, 1);
    c.limits.started = start;
    c.limits.max_runtime = 100ms;
    auto workers = workers_of(1);
    const auto outcome = Engine<Worker, int, Batch>(job, c, hooks).run(pointers(workers));
    CHECK(outcome.stop == Stop::kDeadline);
    CHECK(job.folded.size() == 3);  // planned at 0, 40 and 80 ms; not at 120
}

TEST_CASE("batch engine: --sleep pauses between plans, cut short at the deadline") {
    FakeJob job(40);
    std::atomic<bool> stop{false};
    auto hooks = test_hooks(stop);
    auto clock = std::make_shared<std::atomic<int>>(0);
    const auto start = std::chrono::steady_clock::time_point{};
    hooks.now = [clock, start] { return start + std::chrono::milliseconds(clock->load()); };
    std::vector<std::chrono::milliseconds> pauses;
    hooks.sleep = [&pauses, clock](std::chrono::milliseconds d) {
        pauses.push_back(d);
        *clock += static_cast<int>(d.count());
    };
    auto c = config(10, 1);
    c.limits.started = start;
    c.limits.sleep = 300ms;
    c.limits.max_runtime = 700ms;
    auto workers = workers_of(1);
    const auto outcome = Engine<Worker, int, Batch>(job, c, hooks).run(pointers(workers));
    // Plans at 0, 300 and 600 ms; the pause after the third ends at the deadline (700 ms).
    CHECK(pauses == std::vector<std::chrono::milliseconds>{300ms, 300ms, 100ms});
    CHECK(outcome.stop == Stop::kDeadline);
    CHECK(job.folded.size() == 3);
}

TEST_CASE("batch engine: a refused admission stops the run before the batch") {
    FakeJob job(100);
    job.admit_after = 2;
    std::atomic<bool> stop{false};
    auto workers = workers_of(2);
    const auto outcome =
        Engine<Worker, int, Batch>(job, config(10, 2), test_hooks(stop)).run(pointers(workers));
    CHECK(outcome.stop == Stop::kRefused);
    CHECK(job.folded.size() == 2);
}

TEST_CASE("batch engine: the first failure wins, the batches in flight drain and fold") {
    FakeJob job(1000);
    std::atomic<bool> first_failed{false};
    std::atomic<int> in_flight{0};  // of the batches up to 30 and 40
    const auto wait_for = [](const std::atomic<bool>& flag) {
        while (!flag) std::this_thread::sleep_for(1ms);
    };
    job.on_run = [&](const Range& r) {
        if (r.upper == 20) {
            // Fails first, once 30 and 40 are running.
            while (in_flight < 2) std::this_thread::sleep_for(1ms);
            first_failed = true;
            throw std::runtime_error("first");
        }
        if (r.upper == 30) {
            ++in_flight;
            wait_for(first_failed);  // in flight when the first failure happened; fails later
            std::this_thread::sleep_for(20ms);
            throw std::runtime_error("second");
        }
        if (r.upper == 40) {
            ++in_flight;
            wait_for(first_failed);
            std::this_thread::sleep_for(10ms);  // ends after the failure, and is folded
        }
        if (r.upper > 40) {
            // The one worker left waits too, then ends (after the failure was recorded).
            wait_for(first_failed);
            std::this_thread::sleep_for(30ms);
        }
    };
    std::atomic<bool> stop{false};
    auto workers = workers_of(4);
    Engine<Worker, int, Batch> engine(job, config(10, 4), test_hooks(stop));
    CHECK_THROWS_WITH(engine.run(pointers(workers)), "first");
    std::set<std::int64_t> uppers;
    for (const auto& b : job.folded) uppers.insert(b.range.upper);
    CHECK(uppers.count(10) == 1);
    CHECK(uppers.count(40) == 1);
    CHECK(uppers.count(20) == 0);
    CHECK(uppers.count(30) == 0);
    // Nothing is planned once the failure is known: the 4 workers' batches and the one the
    // worker left over took before it.
    CHECK(job.plans <= 5);
    CHECK(job.folded.size() <= 3);  // 10, 40 and 50 if it was planned before the failure
}

TEST_CASE("batch engine: a failing plan ends the run with that failure") {
    FakeJob job(100);
    job.on_plan = [](const ops::batch::Next& next) {
        if (next.after == 30) throw std::runtime_error("plan broke");
    };
    std::atomic<bool> stop{false};
    auto workers = workers_of(2);
    Engine<Worker, int, Batch> engine(job, config(10, 2), test_hooks(stop));
    CHECK_THROWS_WITH(engine.run(pointers(workers)), "plan broke");
    CHECK(job.folded.size() == 3);  // the batches planned before it committed and count
}

TEST_CASE("batch engine: a plan that awaits the batches in flight sees them all ended") {
    FakeJob job(60);
    std::atomic<int> ended{0};
    int ended_when_planned = -1;
    job.on_run = [&ended](const Range& r) {
        if (r.upper <= 30) std::this_thread::sleep_for(50ms);
        ++ended;
    };
    job.on_plan = [&](const ops::batch::Next& next) {
        if (next.after != 30) return;
        next.await_in_flight();
        ended_when_planned = ended.load();
    };
    std::atomic<bool> stop{false};
    auto workers = workers_of(3);
    const auto outcome =
        Engine<Worker, int, Batch>(job, config(10, 3), test_hooks(stop)).run(pointers(workers));
    CHECK(outcome.batches == 6);
    CHECK(ended_when_planned == 3);  // the three batches planned before it, all three
    CHECK(job.folded.size() == 6);
}

// The types libpqxx 6.4 really throws for a deadlock and a serialization failure.
TEST_CASE("batch engine: a transient database error is retried, the batch counts once") {
    FakeJob job(30);
    int failures = 0;
    job.on_run = [&failures](const Range& r) {
        if (r.upper != 20) return;
        ++failures;
        if (failures == 1) throw pqxx::deadlock_detected("ERROR:  deadlock detected");
        if (failures == 2) throw pqxx::serialization_failure("ERROR:  could not serialize");
    };
    std::atomic<bool> stop{false};
    auto workers = workers_of(1);
    const auto outcome =
        Engine<Worker, int, Batch>(job, config(10, 1), test_hooks(stop)).run(pointers(workers));
    CHECK(outcome.stop == Stop::kExhausted);
    CHECK(failures == 3);
    REQUIRE(job.folded.size() == 3);
    CHECK(job.folded[1].range.upper == 20);
}

TEST_CASE("batch engine: an error that is not transient is not retried") {
    FakeJob job(30);
    int runs = 0;
    job.on_run = [&runs](const Range& r) {
        if (r.upper == 10 && ++runs > 0)
            throw pqxx::unique_violation("ERROR:  duplicate key", "", "23505");
    };
    std::atomic<bool> stop{false};
    auto workers = workers_of(1);
    Engine<Worker, int, Batch> engine(job, config(10, 1), test_hooks(stop));
    CHECK_THROWS_AS(engine.run(pointers(workers)), pqxx::unique_violation);
    CHECK(runs == 1);
    CHECK(job.folded.empty());
}
