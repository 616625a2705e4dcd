#include "ops/batch/sessions.hpp"

namespace ops::batch {

WorkerSessions::WorkerSessions(Session& first, std::size_t parallel, const Open& open) {
    workers_.push_back(&first);
    for (std::size_t i = 1; i < parallel; ++i) {
        extra_.push_back(open());
        workers_.push_back(extra_.back().get());
    }
}

}  // namespace ops::batch
