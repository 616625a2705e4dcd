#include "ops/queue/laravel_job_payload.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <iterator>
#include <stdexcept>

#include "ops/core/text.hpp"

namespace ops {
namespace {

// The releases where the payload of the contract's class changed, oldest first.
constexpr LaravelVersion kFormReleases[] = {{8, 0, 0},   {11, 2, 0},  {12, 11, 0},
                                            {12, 28, 0}, {12, 32, 0}, {12, 51, 0},
                                            {13, 0, 0},  {13, 6, 0},  {13, 24, 0}};

// One property that Queueable and InteractsWithQueue contribute, serialized with its
// default value (the queue's value is filled in by the caller).
struct TraitProperty {
    std::string_view name;
    std::string_view value;
};

// serialize() writes them in declaration order: InteractsWithQueue's $job, then Queueable's
// properties, whose order and set changed over the releases.
std::vector<TraitProperty> trait_properties(const LaravelVersion& v) {
    std::vector<TraitProperty> out = {{"job", "N;"}, {"connection", "N;"}, {"queue", ""}};
    const std::vector<TraitProperty> chain = {
        {"chainConnection", "N;"}, {"chainQueue", "N;"}, {"chainCatchCallbacks", "N;"}};
    const std::vector<TraitProperty> rest = {
        {"delay", "N;"}, {"afterCommit", "N;"}, {"middleware", "a:0:{}"}, {"chained", "a:0:{}"}};
    if (!v.at_least(11, 2)) {
        out.insert(out.end(), chain.begin(), chain.end());
        out.insert(out.end(), rest.begin(), rest.end());
        return out;
    }
    if (v.at_least(12, 28)) out.push_back({"messageGroup", "N;"});
    if (v.at_least(12, 32)) out.push_back({"deduplicator", "N;"});
    if (v.at_least(13, 6)) out.push_back({"debounceOwner", "s:0:\"\";"});
    if (v.at_least(13, 24)) out.push_back({"uniqueLockOwner", "s:0:\"\";"});
    out.insert(out.end(), rest.begin(), rest.end());
    out.insert(out.end(), chain.begin(), chain.end());
    return out;
}

std::string integer_text(std::int64_t value) { return std::to_string(value); }

std::string serialized_int(std::int64_t value) { return "i:" + integer_text(value) + ";"; }

// Laravel's getJobBackoff: an array is joined with ',', a scalar becomes a string.
std::string backoff_text(const std::vector<std::int64_t>& backoff) {
    std::string text;
    for (const auto value : backoff) {
        if (!text.empty()) text += ',';
        text += integer_text(value);
    }
    return text;
}

std::string serialized_backoff(const std::vector<std::int64_t>& backoff) {
    if (backoff.size() == 1) return serialized_int(backoff.front());
    std::string out = "a:" + std::to_string(backoff.size()) + ":{";
    for (std::size_t i = 0; i < backoff.size(); ++i) {
        out += serialized_int(static_cast<std::int64_t>(i)) + serialized_int(backoff[i]);
    }
    return out + "}";
}

std::string json_nullable_int(const std::optional<std::int64_t>& value) {
    return value ? integer_text(*value) : "null";
}

// Length of the UTF-8 sequence starting at `text[i]`, 0 when it is not a valid one
// (overlong forms, surrogates and code points past U+10FFFF are invalid, as PHP holds).
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) return 1;
    std::size_t length = 0;
    unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0) low = 0xa0;
        if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0) low = 0x90;
        if (lead == 0xf4) high = 0x8f;
    } else {
        return 0;
    }
    if (i + length > text.size()) return 0;
    if (byte(i + 1) < low || byte(i + 1) > high) return 0;
    for (std::size_t k = 2; k < length; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return 0;
    }
    return length;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
    for (std::size_t i = 0; i < text.size();) {
        const std::size_t length = utf8_sequence_length(text, i);
        if (length == 0) return false;
        i += length;
    }
    return true;
}

namespace {

// One ASCII character as json_encode writes it.
void append_escaped_ascii(std::string& out, unsigned char c) {
    switch (c) {
        case '"':
            out += "\\\"";
            return;
        case '\\':
            out += "\\\\";
            return;
        case '/':
            out += "\\/";
            return;
        case '\b':
            out += "\\b";
            return;
        case '\f':
            out += "\\f";
            return;
        case '\n':
            out += "\\n";
            return;
        case '\r':
            out += "\\r";
            return;
        case '\t':
            out += "\\t";
            return;
        default:
            if (c < 0x20) {
                out += "\\u00";
                append_hex(out, c);
            } else {
                out += static_cast<char>(c);
            }
    }
}

}  // namespace

std::string php_json_escape(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size() + utf8.size() / 8);
    for (std::size_t i = 0; i < utf8.size();) {
        const std::size_t length = utf8_sequence_length(utf8, i);
        if (length == 0) throw std::invalid_argument("not valid UTF-8");
        const std::string_view sequence = utf8.substr(i, length);
        i += length;
        if (sequence == "\xe2\x80\xa8") {
            out += "\\u2028";
        } else if (sequence == "\xe2\x80\xa9") {
            out += "\\u2029";
        } else if (length > 1) {
            out += sequence;
        } else {
            append_escaped_ascii(out, static_cast<unsigned char>(sequence.front()));
        }
    }
    return out;
}

std::string php_serialize_string(std::string_view value) {
    return "s:" + std::to_string(value.size()) + ":\"" + std::string(value) + "\";";
}

namespace {

// serialize(clone $job) of the command: the class's declared properties first, then the
// promoted constructor property, then the traits' properties. With SerializesModels (9.4+),
// only those that differ from their defaults: the id, and the queue after onQueue().
std::string serialized_command_before_id(const JobClassProperties& properties,
                                         const PayloadForm& form, int& count) {
    std::string declared;
    if (!form.models_form()) {
        if (properties.tries) {
            declared += php_serialize_string("tries") + serialized_int(*properties.tries);
            ++count;
        }
        if (!properties.backoff.empty()) {
            declared += php_serialize_string("backoff") + serialized_backoff(properties.backoff);
            ++count;
        }
        if (properties.timeout) {
            declared += php_serialize_string("timeout") + serialized_int(*properties.timeout);
            ++count;
        }
    }
    return declared + php_serialize_string("waMessageId") + "i:";
}

std::string serialized_traits(const std::optional<std::string>& on_queue, const PayloadForm& form,
                              int& count) {
    const std::string queue_value = on_queue ? php_serialize_string(*on_queue) : "N;";
    std::string out;
    if (form.models_form()) {
        if (on_queue) {
            out += php_serialize_string("queue") + queue_value;
            ++count;
        }
        return out;
    }
    for (const auto& property : trait_properties(form.version)) {
        out += php_serialize_string(property.name);
        out += property.name == "queue" ? queue_value : std::string(property.value);
        ++count;
    }
    return out;
}

}  // namespace

LaravelVersion PayloadForm::first_release() const {
    LaravelVersion first = kFormReleases[0];
    for (const auto& release : kFormReleases) {
        if (version.at_least(release.major, release.minor)) first = release;
    }
    return first;
}

std::string PayloadForm::describe() const {
    const LaravelVersion first = first_release();
    std::string text = "Laravel " + std::to_string(first.major) + "." + std::to_string(first.minor);
    const auto* next = std::find_if(
        std::begin(kFormReleases), std::end(kFormReleases), [&](const LaravelVersion& r) {
            return r.major > first.major || (r.major == first.major && r.minor > first.minor);
        });
    if (next == std::end(kFormReleases)) {
        text += " to " + std::to_string(kNewestLaravel) + ".x";
    } else if (next->minor == 0) {
        text += " to " + std::to_string(next->major - 1) + ".x";
    } else {
        text += " to " + std::to_string(next->major) + "." + std::to_string(next->minor - 1);
    }
    if (serializes_models)
        text +=
            models_form() ? ", SerializesModels" : " (SerializesModels changes nothing before 9.4)";
    return text;
}

LaravelJobPayload::LaravelJobPayload(const std::optional<std::string>& on_queue,
                                     const JobClassProperties& properties,
                                     const PayloadForm& form) {
    int count = 1;
    const std::string class_name(kSendWaMessageJobClass);
    const std::string before_id_props = serialized_command_before_id(properties, form, count);
    const std::string traits = ";" + serialized_traits(on_queue, form, count);
    const std::string command_before_id = "O:" + std::to_string(class_name.size()) + ":\"" +
                                          class_name + "\":" + std::to_string(count) + ":{" +
                                          before_id_props;
    const std::string command_after_id = traits + "}";

    // Queue::createObjectPayload (+ createPayloadArray's additions), json_encode'd in order.
    const LaravelVersion& v = form.version;
    const std::string escaped_class = php_json_escape(class_name);
    before_uuid_ = "{\"uuid\":\"";
    before_id_ = "\",\"displayName\":\"" + escaped_class +
                 "\",\"job\":\"Illuminate\\\\Queue\\\\CallQueuedHandler@call\",\"maxTries\":" +
                 json_nullable_int(properties.tries) +
                 ",\"maxExceptions\":null,\"failOnTimeout\":false,\"backoff\":" +
                 (properties.backoff.empty() ? std::string("null")
                                             : "\"" + backoff_text(properties.backoff) + "\"") +
                 ",\"timeout\":" + json_nullable_int(properties.timeout) + ",\"retryUntil\":null" +
                 (v.at_least(13) ? ",\"deleteWhenMissingModels\":false" : "") +
                 ",\"data\":{\"commandName\":\"" + escaped_class + "\",\"command\":\"" +
                 php_json_escape(command_before_id);
    after_id_ = php_json_escape(command_after_id) + "\"" +
                (v.at_least(12, 51) ? ",\"batchId\":null" : "") + "}";
    has_created_at_ = v.at_least(12, 11);
    if (has_created_at_) {
        after_id_ += ",\"createdAt\":";
        after_created_at_ = ",\"delay\":null}";
    } else {
        after_id_ += "}";
    }
}

void LaravelJobPayload::append_to(std::string& out, std::string_view uuid,
                                  std::int64_t wa_message_id, std::int64_t created_at) const {
    char digits[24];
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, wa_message_id);
    (void)ec;  // 24 characters always hold an int64
    out += before_uuid_;
    out += uuid;
    out += before_id_;
    out.append(digits, end);
    out += after_id_;
    if (has_created_at_) {
        out += std::to_string(created_at);
        out += after_created_at_;
    }
}

std::string LaravelJobPayload::build(std::string_view uuid, std::int64_t wa_message_id,
                                     std::int64_t created_at) const {
    std::string out;
    append_to(out, uuid, wa_message_id, created_at);
    return out;
}

std::string LaravelJobPayload::build_redis(std::string_view uuid, std::int64_t wa_message_id,
                                           std::int64_t created_at,
                                           std::string_view redis_id) const {
    const std::string redis_keys = ",\"id\":\"" + std::string(redis_id) + "\",\"attempts\":0";
    std::string out = before_uuid_;
    out += uuid;
    out += before_id_;
    out += std::to_string(wa_message_id);
    if (!has_created_at_) {
        out += std::string_view(after_id_).substr(0, after_id_.size() - 1);  // without the '}'
        return out + redis_keys + "}";
    }
    out += after_id_;
    out += std::to_string(created_at);
    return out + redis_keys + after_created_at_;
}

std::string new_redis_job_id() {
    constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    std::string out;
    while (out.size() < 32) {
        unsigned char bytes[48];
        if (RAND_bytes(bytes, sizeof bytes) != 1) {
            throw std::runtime_error("cannot generate a random job id: OpenSSL RAND_bytes failed");
        }
        // 248 = 4 * 62: bytes at or above it are dropped, so every character is equally likely.
        for (const unsigned char b : bytes) {
            if (b < 248 && out.size() < 32) out += kAlphabet[b % 62];
        }
    }
    return out;
}

std::optional<PayloadForm> detect_payload_form(std::string_view payload) {
    const auto has = [&](std::string_view marker) {
        return payload.find(marker) != std::string_view::npos;
    };
    if (!has(R"("commandName":"App\\Jobs\\SendWaMessageJob")")) return std::nullopt;
    if (!has(R"(s:11:\"waMessageId\";i:)")) return std::nullopt;
    PayloadForm form;
    form.serializes_models = !has(R"(s:3:\"job\";)");
    // The newest marker decides; with SerializesModels only the top-level keys show.
    const std::pair<std::string_view, LaravelVersion> kMarkers[] = {
        {R"(s:15:\"uniqueLockOwner\")", {13, 24, 0}},
        {R"(s:13:\"debounceOwner\")", {13, 6, 0}},
        {R"("deleteWhenMissingModels":)", {13, 0, 0}},
        {R"("batchId":)", {12, 51, 0}},
        {R"(s:12:\"deduplicator\")", {12, 32, 0}},
        {R"(s:12:\"messageGroup\")", {12, 28, 0}},
        {R"("createdAt":)", {12, 11, 0}}};
    for (const auto& [marker, version] : kMarkers) {
        if (has(marker)) {
            form.version = version;
            return form;
        }
    }
    const auto delay = payload.find(R"(s:5:\"delay\")");
    const auto chain = payload.find(R"(s:15:\"chainConnection\")");
    if (delay != std::string_view::npos && chain != std::string_view::npos && delay < chain) {
        form.version = {11, 2, 0};
    } else if (form.serializes_models) {
        form.version = {9, 4, 0};
    }
    return form;
}

namespace {

// 16 random bytes as a version 4 UUID's text.
std::string uuid_v4_text(unsigned char* bytes) {
    bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
    bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
    std::string out;
    out.reserve(36);
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
        append_hex(out, bytes[i]);
    }
    return out;
}

void random_bytes(unsigned char* bytes, std::size_t count) {
    if (count > static_cast<std::size_t>(INT_MAX) ||
        RAND_bytes(bytes, static_cast<int>(count)) != 1) {
        throw std::runtime_error("cannot generate a random UUID: OpenSSL RAND_bytes failed");
    }
}

}  // namespace

std::string new_uuid_v4() {
    unsigned char bytes[16];
    random_bytes(bytes, sizeof bytes);
    return uuid_v4_text(bytes);
}

std::vector<std::string> new_uuids_v4(std::size_t count) {
    std::vector<unsigned char> bytes(count * 16);
    if (count > 0) random_bytes(bytes.data(), bytes.size());
    std::vector<std::string> uuids;
    uuids.reserve(count);
    for (std::size_t i = 0; i < count; ++i) uuids.push_back(uuid_v4_text(&bytes[i * 16]));
    return uuids;
}

}  // namespace ops
