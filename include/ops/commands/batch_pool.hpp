#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "ops/commands/command.hpp"

namespace ops {

// Runs a command's batches on up to N database sessions at once, one batch per session.
// The command plans each batch on the session acquire() hands out (idle by then) and
// launches it there. Batches must touch disjoint rows. The first failure is kept: acquire()
// returns nullptr from then on, and wait_all() rethrows it once every batch has ended, so
// a failure never leaves another batch half-done.
class BatchPool {
  public:
    BatchPool(CommandEnv& env, std::size_t sessions);  // opens sessions - 1 more connections
    ~BatchPool();
    BatchPool(const BatchPool&) = delete;
    BatchPool& operator=(const BatchPool&) = delete;

    // The first session free, waiting for one if all are busy; nullptr after a failure.
    Session* acquire();
    // Gives an acquired session back without launching a batch on it.
    void release(Session& session);
    void launch(Session& session, std::function<void()> batch);
    // Waits for every batch, then rethrows the first failure.
    void wait_all();

  private:
    struct Slot {
        explicit Slot(Session* s) : session(s) {}
        Session* session;
        std::thread worker;
        bool busy = false;
    };
    Slot& slot_of(const Session& session);
    void join_all();

    std::vector<std::unique_ptr<Session>> extra_sessions_;
    std::vector<Slot> slots_;
    std::mutex mutex_;
    std::condition_variable slot_freed_;
    std::exception_ptr failure_;
};

}  // namespace ops
