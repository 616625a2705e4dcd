#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The `jobs.payload` text that Laravel 8's database queue writes when the application
// dispatches `new \App\Jobs\SendWaMessageJob($id)`, byte for byte (docs/QUEUE_PAYLOAD.md).
namespace ops {

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
    explicit LaravelJobPayload(std::optional<std::string> on_queue,
                               const JobClassProperties& properties = {});

    std::string build(std::string_view uuid, std::int64_t wa_message_id) const;
    // Appends the payload to `out`, for callers that build many.
    void append_to(std::string& out, std::string_view uuid, std::int64_t wa_message_id) const;

    // The payload is before_uuid() + uuid + before_id() + decimal id + after_id(), so that
    // the database can assemble many rows from these bytes without changing any of them.
    const std::string& before_uuid() const { return before_uuid_; }
    const std::string& before_id() const { return before_id_; }
    const std::string& after_id() const { return after_id_; }

  private:
    std::string before_uuid_;
    std::string before_id_;
    std::string after_id_;
};

// A fresh random UUID v4 as Ramsey\Uuid writes it: lowercase, 8-4-4-4-12.
std::string new_uuid_v4();

// The body of a JSON string as PHP's json_encode($value, JSON_UNESCAPED_UNICODE) writes it:
// `"` `\` `/` escaped, \b \f \n \r \t short, other control characters \u00xx (lowercase),
// U+2028/U+2029 as \u2028/\u2029, everything else raw UTF-8. Throws std::invalid_argument
// for invalid UTF-8.
std::string php_json_escape(std::string_view utf8);

// PHP's serialize() of a string: s:<bytes>:"<raw bytes>";
std::string php_serialize_string(std::string_view value);

bool is_valid_utf8(std::string_view text);

}  // namespace ops
