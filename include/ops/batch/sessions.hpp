#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "ops/batch/engine.hpp"
#include "ops/db/session.hpp"

namespace ops::batch {

// The engine's workers on a database: the run's session and parallel - 1 more connections
// with the same settings, open for the whole run.
class WorkerSessions {
  public:
    using Open = std::function<std::unique_ptr<Session>()>;
    WorkerSessions(Session& first, std::size_t parallel, const Open& open);

    const std::vector<Session*>& workers() const { return workers_; }

  private:
    std::vector<std::unique_ptr<Session>> extra_;
    std::vector<Session*> workers_;
};

// Runs `job` on config.parallel sessions (see Engine).
template <class Task, class Result>
Outcome run_on_sessions(Job<Session, Task, Result>& job, const Config& config, Session& first,
                        const WorkerSessions::Open& open) {
    const WorkerSessions sessions(first, config.parallel, open);
    return Engine<Session, Task, Result>(job, config).run(sessions.workers());
}

}  // namespace ops::batch
