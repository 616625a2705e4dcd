#pragma once

#include <array>
#include <string_view>

// The application's reason codes for a failed WhatsApp send (wa_messages.error_code), as the
// contract defines them. Codes match exactly: `TIMEOUT` and ` timeout` are not `timeout`.
namespace ops {

enum class ReasonKind {
    kTransient,  // safe to retry
    kPermanent,  // retrying repeats the failure
    kUnknown,    // NULL or any other code: treated like a permanent one
};

inline constexpr std::array<std::string_view, 5> kTransientReasons = {
    "timeout", "network_error", "rate_limited", "provider_unavailable", "provider_error"};

inline constexpr std::array<std::string_view, 5> kPermanentReasons = {
    "invalid_recipient", "not_on_whatsapp", "blocked", "template_rejected", "auth_failed"};

// How `--reason` and the summaries name a NULL error_code.
inline constexpr std::string_view kNoReason = "none";

constexpr ReasonKind classify_reason(std::string_view code) {
    for (const auto transient : kTransientReasons) {
        if (code == transient) return ReasonKind::kTransient;
    }
    for (const auto permanent : kPermanentReasons) {
        if (code == permanent) return ReasonKind::kPermanent;
    }
    return ReasonKind::kUnknown;
}

constexpr std::string_view reason_kind_name(ReasonKind kind) {
    switch (kind) {
        case ReasonKind::kTransient:
            return "transient";
        case ReasonKind::kPermanent:
            return "permanent";
        case ReasonKind::kUnknown:
            break;
    }
    return "unknown";
}

}  // namespace ops
