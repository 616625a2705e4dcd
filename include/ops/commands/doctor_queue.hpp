#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ops/core/config.hpp"
#include "ops/db/session.hpp"
#include "ops/output/summary.hpp"
#include "ops/queue/queue_settings.hpp"

namespace ops {

// Adds one check: its name and the problem ("" when fine).
using AddCheck = std::function<void(const std::string& name, const std::string& problem)>;

// The queue `wa redrive-failed` would write to, as queue_settings() decides it, or why it
// refuses the settings: read once, for each of doctor's reports that needs it.
struct QueueChoice {
    std::optional<QueueSettings> settings;
    std::string refused;  // the ConfigError's text, when settings is empty
};
// `redis_url`: doctor's --redis-url, which puts the queue on Redis as redrive's does.
QueueChoice choose_queue(const ResolvedConfig* config, const std::string& redis_url);

// doctor's queue report: which connection, table and queue `wa redrive-failed` writes to (or
// why it refuses the connection), whether a worker takes jobs from that queue (a row due for
// longer than retry_after and never reserved says none does), the payload form of the
// application's newest own SendWaMessageJob and whether its job settings differ from what a
// plain redrive writes. Returns the report for the summary's "queue".
Summary doctor_queue_report(Transaction& tx, const QueueChoice& choice, const AddCheck& add_check);

}  // namespace ops
