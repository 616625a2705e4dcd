#pragma once

#include <vector>

#include "ops/commands/doctor_queue.hpp"
#include "ops/core/config.hpp"
#include "ops/output/summary.hpp"

namespace ops {

// Doctor's rows for an application whose queue is on Redis (QUEUE_CONNECTION=redis); none
// otherwise: the connection (and whether it persists: without appendonly a restart can lose
// pushed jobs and their markers, which voids exactly-once), the prefix (the queue's keys under
// it, or the prefixes it finds instead) and whether a worker seems to consume the queue. Each
// row is {check, status ok|problem, detail}. Reads only.
// `redis_url` (doctor's --redis-url) names the server, as redrive's does.
std::vector<Summary> redis_checks(const QueueChoice& queue, const ResolvedConfig* config,
                                  const std::string& redis_url);

}  // namespace ops
