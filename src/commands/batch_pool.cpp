#include "ops/commands/batch_pool.hpp"

#include <algorithm>

namespace ops {

BatchPool::BatchPool(CommandEnv& env, std::size_t sessions) {
    slots_.emplace_back(env.session);
    for (std::size_t i = 1; i < sessions; ++i) {
        extra_sessions_.push_back(env.open_session());
        slots_.emplace_back(extra_sessions_.back().get());
    }
}

BatchPool::~BatchPool() { join_all(); }

Session* BatchPool::acquire() {
    std::unique_lock lock(mutex_);
    std::vector<Slot>::iterator free;
    slot_freed_.wait(lock, [&] {
        free = std::find_if(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.busy; });
        return free != slots_.end();
    });
    if (free->worker.joinable()) free->worker.join();  // it has finished: only reap it
    if (failure_) return nullptr;
    free->busy = true;
    return free->session;
}

void BatchPool::release(Session& session) {
    const std::lock_guard lock(mutex_);
    slot_of(session).busy = false;
    slot_freed_.notify_one();
}

void BatchPool::launch(Session& session, std::function<void()> batch) {
    const std::lock_guard lock(mutex_);
    slot_of(session).worker = std::thread([this, &session, batch = std::move(batch)] {
        std::exception_ptr error;
        try {
            batch();
        } catch (...) {
            error = std::current_exception();
        }
        const std::lock_guard done(mutex_);
        if (error && !failure_) failure_ = error;
        slot_of(session).busy = false;
        slot_freed_.notify_one();
    });
}

void BatchPool::wait_all() {
    join_all();
    if (failure_) std::rethrow_exception(failure_);
}

BatchPool::Slot& BatchPool::slot_of(const Session& session) {
    return *std::find_if(slots_.begin(), slots_.end(),
                         [&](const Slot& s) { return s.session == &session; });
}

void BatchPool::join_all() {
    for (auto& slot : slots_) {
        if (slot.worker.joinable()) slot.worker.join();
    }
}

}  // namespace ops
