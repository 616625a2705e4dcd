#include "ops/queue/job_settings.hpp"

#include <nlohmann/json.hpp>

namespace ops {
namespace {

nlohmann::json ours(const std::string& setting, const JobClassProperties& p) {
    if (setting == "maxTries") return p.tries ? nlohmann::json(*p.tries) : nlohmann::json();
    if (setting == "timeout") return p.timeout ? nlohmann::json(*p.timeout) : nlohmann::json();
    if (setting == "failOnTimeout") return false;
    if (setting == "backoff") {
        if (p.backoff.empty()) return nullptr;
        std::string text;
        for (const auto value : p.backoff)
            text += (text.empty() ? "" : ",") + std::to_string(value);
        return text;
    }
    return nullptr;  // maxExceptions, retryUntil: ops writes none
}

// The option that writes the application's value, when there is one.
std::string fix_for(const std::string& setting, const nlohmann::json& value) {
    if (value.is_null()) return {};
    if (setting == "maxTries" && value.is_number_integer()) return "--tries " + value.dump();
    if (setting == "timeout" && value.is_number_integer()) return "--timeout " + value.dump();
    if (setting == "backoff" && value.is_string()) return "--backoff " + value.get<std::string>();
    return {};
}

}  // namespace

std::vector<SettingMismatch> job_settings_mismatches(const std::string& application_payload,
                                                     const JobClassProperties& properties) {
    const auto payload = nlohmann::json::parse(application_payload, nullptr, false);
    if (payload.is_discarded() || !payload.is_object()) {
        return {{"payload", "unreadable JSON", "-", ""}};
    }
    std::vector<SettingMismatch> mismatches;
    for (const std::string setting :
         {"maxTries", "maxExceptions", "failOnTimeout", "backoff", "timeout", "retryUntil"}) {
        // A missing key reads as Laravel's fallback: null, or false for failOnTimeout.
        nlohmann::json theirs = payload.value(setting, nlohmann::json());
        if (setting == "failOnTimeout" && theirs.is_null()) theirs = false;
        const nlohmann::json mine = ours(setting, properties);
        // retryUntil is a time: any value means the class declares one, which ops cannot copy.
        if (theirs == mine) continue;
        mismatches.push_back({setting, theirs.dump(), mine.dump(), fix_for(setting, theirs)});
    }
    return mismatches;
}

}  // namespace ops
