#include <catch2/catch.hpp>

#include "ops/queue/reason_codes.hpp"

using namespace ops;

static_assert(classify_reason("timeout") == ReasonKind::kTransient);
static_assert(classify_reason("blocked") == ReasonKind::kPermanent);

TEST_CASE("reason codes: the contract's reason codes, matched exactly") {
    for (const char* code :
         {"timeout", "network_error", "rate_limited", "provider_unavailable", "provider_error"}) {
        INFO(code);
        CHECK(classify_reason(code) == ReasonKind::kTransient);
    }
    for (const char* code :
         {"invalid_recipient", "not_on_whatsapp", "blocked", "template_rejected", "auth_failed"}) {
        INFO(code);
        CHECK(classify_reason(code) == ReasonKind::kPermanent);
    }
    for (const char* code : {"TIMEOUT", " timeout", "timeout ", "time out", "", "none",
                             "timeout'; DELETE FROM wa_messages; --", "webhook_lost"}) {
        INFO(code);
        CHECK(classify_reason(code) == ReasonKind::kUnknown);
    }
    CHECK(reason_kind_name(ReasonKind::kTransient) == "transient");
    CHECK(reason_kind_name(ReasonKind::kPermanent) == "permanent");
    CHECK(reason_kind_name(ReasonKind::kUnknown) == "unknown");
}
