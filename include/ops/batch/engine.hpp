#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ops::batch {

// One planned batch: the positions (after, upper] of what the source plans (ids of a table,
// indices of a list) and how many rows it held when planned.
struct Range {
    std::int64_t after = 0;  // exclusive
    std::int64_t upper = 0;  // inclusive
    std::int64_t rows = 0;
};

// Why planning ended. A failure is not among them: run() rethrows it.
enum class Stop {
    kExhausted,  // the source had no further range
    kLimit,      // --limit rows were planned
    kDeadline,   // --max-runtime passed
    kSignal,     // a stop was requested (signal, lost lock)
    kRefused,    // the admission check (replica lag) gave up
};
std::string_view to_string(Stop stop);

struct Limits {
    std::int64_t batch_size = 1;
    std::optional<std::int64_t> max_rows;  // rows planned at most
    std::optional<std::chrono::milliseconds> max_runtime;
    std::chrono::milliseconds sleep{0};  // between two plans, cut short at the deadline
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::int64_t start_after = 0;  // the first range begins after this position
};

// What the engine asks of the world, replaceable in tests.
struct Hooks {
    std::function<bool()> stop_requested;
    std::function<void(std::chrono::milliseconds)> sleep;  // wakes early on a stop
    std::function<std::chrono::steady_clock::time_point()> now;
    // Runs one plan or batch step, again while it fails transiently (db/retry).
    std::function<void(std::string_view, const std::function<void()>&)> retry;
};
// The real ones: the run's stop flag, interruptible_sleep, steady_clock, retry_transient.
Hooks default_hooks();

struct Config {
    std::string what;  // "audit archive": names the retry log lines and the progress
    std::size_t parallel = 1;
    Limits limits;
    std::optional<std::int64_t> progress_total;  // unset: no progress reporting
};

struct Outcome {
    Stop stop = Stop::kExhausted;
    std::int64_t planned_rows = 0;
    std::int64_t batches = 0;
};

// Lets batches running in parallel take turns at what they share (the archive's file), so
// that the command keeps no lock of its own.
class Serial {
  public:
    template <class Section>
    decltype(auto) run(Section&& section) {
        const std::lock_guard lock(mutex_);
        return std::forward<Section>(section)();
    }

  private:
    std::mutex mutex_;
};

struct NoTask {};  // a batch that needs nothing but its range

// Where planning stands when it asks for the next batch.
struct Next {
    std::int64_t after = 0;    // the previous range's upper (Limits::start_after at first)
    std::int64_t wanted = 0;   // rows at most: the batch size, or what --limit leaves
    std::int64_t planned = 0;  // rows planned so far
    // Returns once every batch planned before has ended (committed or failed), for a plan
    // whose rows may overlap theirs: it must not see rows they are still taking.
    std::function<void()> await_in_flight;
};

template <class Task>
struct Planned {
    Range range;
    Task task;
};

// What a command gives the engine. plan(), admit() and run() are called on the worker
// threads, each with the worker that owns its connection; plan() and admit() one at a time,
// in range order; fold() on the thread that called Engine::run(), in plan order, so the
// command's result needs no lock.
template <class Worker, class Task, class Result>
class Job {
  public:
    virtual ~Job() = default;
    // The next batch after position next.after with at most next.wanted rows; nullopt
    // when none is left.
    virtual std::optional<Planned<Task>> plan(Worker& worker, const Next& next) = 0;
    // Whether the planned batch may start now (the replica lag gate); false stops the run.
    virtual bool admit(Worker& /*worker*/) { return true; }
    // Runs (and commits) one batch; `serial` for what it shares with the others.
    virtual Result run(Worker& worker, const Planned<Task>& batch, Serial& serial) = 0;
    // Folds a finished batch into the command's result; returns the rows it counts as done.
    virtual std::int64_t fold(Result&& result) = 0;
};

// Reports progress (output/progress), hidden behind a pointer so this header stays light.
class Progress {
  public:
    Progress(const std::string& what, std::optional<std::int64_t> total);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;
    void add(std::int64_t rows);

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// The one batch loop: N workers (one thread each, for the whole run, each with its own
// connection) take turns planning the next range, then run their batch; results come back
// to the caller's thread. Stopping (signal, --limit, --max-runtime, admission) only stops
// planning: batches in flight finish, and so does every batch after the first failure,
// which run() rethrows once all ended.
template <class Worker, class Task, class Result>
class Engine {
  public:
    using JobType = Job<Worker, Task, Result>;

    Engine(JobType& job, Config config, Hooks hooks = default_hooks())
        : job_(job), config_(std::move(config)), hooks_(std::move(hooks)) {}

    // One worker per element (config.parallel is the caller's to honour).
    Outcome run(const std::vector<Worker*>& workers);

  private:
    struct Done {
        std::optional<Result> result;
        bool failed = false;
    };

    void work(Worker& worker);
    std::optional<std::pair<std::uint64_t, Planned<Task>>> take_turn(Worker& worker);
    std::optional<Planned<Task>> plan_next(Worker& worker);
    std::optional<Stop> stop_rule();
    void pause();
    void end_planning(Stop stop);
    void fail(std::exception_ptr error);
    void post(std::uint64_t seq, Done done);
    void await_in_flight();
    void fold_in_order(Progress& progress);
    bool planning_over();

    JobType& job_;
    const Config config_;
    const Hooks hooks_;

    Serial serial_;
    std::mutex plan_mutex_;  // one planner at a time; guards what planning advances
    std::int64_t after_ = 0;
    std::int64_t planned_rows_ = 0;
    std::uint64_t next_seq_ = 0;
    std::optional<std::chrono::steady_clock::time_point> not_before_;

    std::mutex mutex_;  // guards what workers hand to the caller's thread
    std::condition_variable changed_;
    std::map<std::uint64_t, Done> done_;
    std::uint64_t ended_ = 0;  // batches posted, folded or not
    std::size_t running_ = 0;
    std::optional<Stop> stop_;
    std::exception_ptr failure_;
};

template <class Worker, class Task, class Result>
Outcome Engine<Worker, Task, Result>::run(const std::vector<Worker*>& workers) {
    after_ = config_.limits.start_after;
    Progress progress(config_.what, config_.progress_total);
    running_ = workers.size();
    std::vector<std::thread> threads;
    threads.reserve(workers.size());
    try {
        for (Worker* worker : workers) threads.emplace_back([this, worker] { work(*worker); });
    } catch (...) {  // no thread for the rest: the ones started drain, then this rethrows
        fail(std::current_exception());
        const std::lock_guard lock(mutex_);
        running_ -= workers.size() - threads.size();
    }
    fold_in_order(progress);
    for (auto& thread : threads) thread.join();
    if (failure_) std::rethrow_exception(failure_);
    Outcome outcome;
    outcome.stop = stop_.value_or(Stop::kExhausted);
    outcome.planned_rows = planned_rows_;
    outcome.batches = static_cast<std::int64_t>(next_seq_);
    return outcome;
}

template <class Worker, class Task, class Result>
void Engine<Worker, Task, Result>::work(Worker& worker) {
    while (true) {
        auto turn = take_turn(worker);
        if (!turn) break;
        Done done;
        try {
            hooks_.retry(config_.what + " batch",
                         [&] { done.result.emplace(job_.run(worker, turn->second, serial_)); });
        } catch (...) {
            done.failed = true;
            fail(std::current_exception());
        }
        post(turn->first, std::move(done));
    }
    const std::lock_guard lock(mutex_);
    --running_;
    changed_.notify_all();
}

// Under the planning turn: stop rules, the pause, the plan, admission. nullopt: this worker
// is done (planning ended, or its plan failed).
template <class Worker, class Task, class Result>
std::optional<std::pair<std::uint64_t, Planned<Task>>> Engine<Worker, Task, Result>::take_turn(
    Worker& worker) {
    const std::lock_guard turn(plan_mutex_);
    try {
        auto planned = plan_next(worker);
        if (!planned) return std::nullopt;
        after_ = planned->range.upper;
        planned_rows_ += planned->range.rows;
        not_before_ = hooks_.now() + config_.limits.sleep;
        return std::make_pair(next_seq_++, std::move(*planned));
    } catch (...) {
        fail(std::current_exception());
        return std::nullopt;
    }
}

template <class Worker, class Task, class Result>
std::optional<Planned<Task>> Engine<Worker, Task, Result>::plan_next(Worker& worker) {
    if (planning_over()) return std::nullopt;
    for (const bool paused : {false, true}) {
        if (paused) pause();
        if (auto stop = stop_rule()) {
            end_planning(*stop);
            return std::nullopt;
        }
    }
    const auto& limits = config_.limits;
    const std::int64_t wanted = limits.max_rows
                                    ? std::min(limits.batch_size, *limits.max_rows - planned_rows_)
                                    : limits.batch_size;
    std::optional<Planned<Task>> planned;
    const Next next{after_, wanted, planned_rows_, [this] { await_in_flight(); }};
    hooks_.retry(config_.what + " plan", [&] { planned = job_.plan(worker, next); });
    if (!planned) {
        end_planning(Stop::kExhausted);
        return std::nullopt;
    }
    // A plan can take a while (it may await the batches in flight): a signal or the deadline
    // that came meanwhile stops the run before the batch, not after it.
    if (auto stop = stop_rule()) {
        end_planning(*stop);
        return std::nullopt;
    }
    if (!job_.admit(worker)) {
        end_planning(hooks_.stop_requested() ? Stop::kSignal : Stop::kRefused);
        return std::nullopt;
    }
    return planned;
}

template <class Worker, class Task, class Result>
std::optional<Stop> Engine<Worker, Task, Result>::stop_rule() {
    const auto& limits = config_.limits;
    if (hooks_.stop_requested()) return Stop::kSignal;
    if (limits.max_rows && planned_rows_ >= *limits.max_rows) return Stop::kLimit;
    if (limits.max_runtime && hooks_.now() - limits.started >= *limits.max_runtime)
        return Stop::kDeadline;
    return std::nullopt;
}

// The --sleep since the previous plan, cut short where --max-runtime ends.
template <class Worker, class Task, class Result>
void Engine<Worker, Task, Result>::pause() {
    if (!not_before_ || config_.limits.sleep.count() <= 0) return;
    auto until = *not_before_;
    const auto& limits = config_.limits;
    if (limits.max_runtime) until = std::min(until, limits.started + *limits.max_runtime);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - hooks_.now());
    if (left.count() > 0) hooks_.sleep(left);
}

template <class Worker, class Task, class Result>
bool Engine<Worker, Task, Result>::planning_over() {
    const std::lock_guard lock(mutex_);
    return stop_.has_value() || failure_ != nullptr;
}

template <class Worker, class Task, class Result>
void Engine<Worker, Task, Result>::end_planning(Stop stop) {
    const std::lock_guard lock(mutex_);
    if (!stop_) stop_ = stop;
}

template <class Worker, class Task, class Result>
void Engine<Worker, Task, Result>::fail(std::exception_ptr error) {
    const std::lock_guard lock(mutex_);
    if (!failure_) failure_ = std::move(error);
}

template <class Worker, class Task, class Result>
void Engine<Worker, Task, Result>::post(std::uint64_t seq, Done done) {
    const std::lock_guard lock(mutex_);
    done_.emplace(seq, std::move(done));
    ++ended_;
    changed_.notify_all();
}

// Called by a plan, so under the planning turn: next_seq_ cannot move meanwhile, and the
// workers it waits for post without that turn.
template <class Worker, class Task, class Result>
void Engine<Worker, Task, Result>::await_in_flight() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return ended_ == next_seq_; });
}

// The caller's thread: folds each batch's result in plan order as soon as it and every
// batch before it ended, until every worker has ended and nothing is left to fold.
template <class Worker, class Task, class Result>
void Engine<Worker, Task, Result>::fold_in_order(Progress& progress) {
    std::uint64_t next = 0;
    std::unique_lock lock(mutex_);
    while (true) {
        changed_.wait(lock, [&] { return done_.count(next) > 0 || running_ == 0; });
        const auto it = done_.find(next);
        if (it == done_.end()) return;  // every worker ended and every result was folded
        Done done = std::move(it->second);
        done_.erase(it);
        ++next;
        if (done.failed) continue;
        lock.unlock();
        try {
            progress.add(job_.fold(std::move(*done.result)));
        } catch (...) {
            fail(std::current_exception());
        }
        lock.lock();
    }
}

}  // namespace ops::batch
