#include "ops/output/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>

#include "ops/core/errors.hpp"

namespace ops {
namespace {

// One JSON object a line, for log shippers. The message is escaped by nlohmann, not by hand.
class JsonStderrSink : public spdlog::sinks::base_sink<std::mutex> {
  public:
    explicit JsonStderrSink(bool dry_run) : dry_run_(dry_run) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const auto time = std::chrono::system_clock::to_time_t(msg.time);
        char stamp[32];
        std::tm utc{};
        gmtime_r(&time, &utc);
        std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
        nlohmann::ordered_json line;
        line["time"] = stamp;
        line["level"] = spdlog::level::to_string_view(msg.level).data();
        if (dry_run_) line["dry_run"] = true;
        line["message"] = std::string(msg.payload.begin(), msg.payload.end());
        const std::string text =
            line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        std::fwrite(text.data(), 1, text.size(), stderr);
    }
    void flush_() override { std::fflush(stderr); }

  private:
    bool dry_run_;
};

}  // namespace

void validate_log_level(const std::string& level) {
    static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
    for (const char* known : kLevels) {
        if (level == known) return;
    }
    throw UsageError("--log-level: expected one of trace, debug, info, warn, error, off; got '" +
                     level + "'");
}

void setup_logging(const std::string& level, LogFormat format, DryRun dry_run) {
    const bool dry = dry_run == DryRun::kYes;
    spdlog::sink_ptr sink;
    if (format == LogFormat::kJson) {
        sink = std::make_shared<JsonStderrSink>(dry);
    } else {
        sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
        sink->set_pattern(std::string("%Y-%m-%d %H:%M:%S %^%l%$: ") + (dry ? "[DRY-RUN] " : "") +
                          "%v");
    }
    auto logger = std::make_shared<spdlog::logger>("ops", sink);
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

}  // namespace ops
