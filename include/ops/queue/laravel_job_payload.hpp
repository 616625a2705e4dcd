#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/core/laravel_version.hpp"

// The `jobs.payload` text that Laravel 8 to 13's database queue writes when the application
// dispatches `new \App\Jobs\SendWaMessageJob($id)`, byte for byte (docs/QUEUE_PAYLOAD.md).
namespace ops {

// Which release's payload to write: the releases where it changed (8.0, 11.2, 12.11, 12.28,
// 12.32, 12.51, 13.0, 13.6, 13.24) and whether the class uses SerializesModels (which from 9.4
// serializes only the properties that differ from their defaults).
struct PayloadForm {
    LaravelVersion version{8, 0, 0};
    bool serializes_models = false;

    // The first release that writes this form, e.g. 12.51 for 12.67.
    LaravelVersion first_release() const;
    bool models_form() const { return serializes_models && version.at_least(9, 4); }
    // "Laravel 8.0 to 11.1", "Laravel 12.51 to 12.x", "... with SerializesModels"
    std::string describe() const;
};

// The form a stored payload of the contract's class has (the first release writing it);
// std::nullopt when it is not one of the forms above.
std::optional<PayloadForm> detect_payload_form(std::string_view payload);

// The contract's job class.
inline constexpr std::string_view kSendWaMessageJobClass = "App\\Jobs\\SendWaMessageJob";

// Properties an application's job class may declare, which Laravel copies into the payload
// (`maxTries`, `backoff`, `timeout`) and which serialize() writes first, in this order, before
// the promoted `waMessageId`. The contract's class declares none of them.
struct JobClassProperties {
    std::optional<std::int64_t> tries;    // public $tries = N;
    std::vector<std::int64_t> backoff;    // public $backoff = N; (one) or [N, M, ...] (several)
    std::optional<std::int64_t> timeout;  // public $timeout = N;
};

// Builds payloads for one queue and one set of class properties; only the uuid and the
// wa_messages id vary per job, so everything else is escaped once, up front.
class LaravelJobPayload {
  public:
    // `on_queue`: std::nullopt for a plain dispatch (the serialized `queue` property is N),
    // or the name given to ->onQueue(). Throws std::invalid_argument for invalid UTF-8
    // (PHP's json_encode refuses it, so the application could not dispatch it either).
    explicit LaravelJobPayload(const std::optional<std::string>& on_queue,
                               const JobClassProperties& properties = {},
                               const PayloadForm& form = {});

    // `created_at`: the dispatch time in epoch seconds (the `createdAt` of 12.11+).
    std::string build(std::string_view uuid, std::int64_t wa_message_id,
                      std::int64_t created_at = 0) const;
    // Appends the payload to `out`, for callers that build many.
    void append_to(std::string& out, std::string_view uuid, std::int64_t wa_message_id,
                   std::int64_t created_at = 0) const;

    // The payload Laravel's redis driver pushes for the same dispatch: the database payload plus
    // `"id":<redis_id>,"attempts":0` after `data` (8.0 to 12.10) or after `createdAt`, before
    // `delay` (12.11+). A payload without `attempts` is lost by the worker's pop script.
    std::string build_redis(std::string_view uuid, std::int64_t wa_message_id,
                            std::int64_t created_at, std::string_view redis_id) const;

    // The payload is before_uuid() + uuid + before_id() + decimal id + after_id(), and for a
    // form with `createdAt`, + decimal epoch seconds + after_created_at(), so that the database
    // can assemble many rows from these bytes without changing any of them.
    const std::string& before_uuid() const { return before_uuid_; }
    const std::string& before_id() const { return before_id_; }
    const std::string& after_id() const { return after_id_; }
    bool has_created_at() const { return has_created_at_; }
    const std::string& after_created_at() const { return after_created_at_; }

  private:
    std::string before_uuid_;
    std::string before_id_;
    std::string after_id_;
    bool has_created_at_ = false;
    std::string after_created_at_;
};

// A fresh random job id as the redis driver's Str::random(32) makes it: 32 of [A-Za-z0-9].
std::string new_redis_job_id();

// A fresh random UUID v4 as Ramsey\Uuid writes it: lowercase, 8-4-4-4-12.
std::string new_uuid_v4();
// `count` of them from one draw of the random generator (OpenSSL's per-call cost, not
// the bytes, is what a batch of single draws pays).
std::vector<std::string> new_uuids_v4(std::size_t count);

// The body of a JSON string as PHP's json_encode($value, JSON_UNESCAPED_UNICODE) writes it:
// `"` `\` `/` escaped, \b \f \n \r \t short, other control characters \u00xx (lowercase),
// U+2028/U+2029 as \u2028/\u2029, everything else raw UTF-8. Throws std::invalid_argument
// for invalid UTF-8.
std::string php_json_escape(std::string_view utf8);

// PHP's serialize() of a string: s:<bytes>:"<raw bytes>";
std::string php_serialize_string(std::string_view value);

bool is_valid_utf8(std::string_view text);

}  // namespace ops
