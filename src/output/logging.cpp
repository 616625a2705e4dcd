#include "ops/output/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "ops/core/errors.hpp"
#include "ops/core/text.hpp"

namespace ops {
namespace {

// std::cerr, or the stream an in-process run (a test) reports to.
std::ostream* g_stream = &std::cerr;

void write_line(std::string_view text) {
    g_stream->write(text.data(), static_cast<std::streamsize>(text.size()));
    g_stream->flush();
}

std::string utc_stamp(std::chrono::system_clock::time_point when) {
    const auto time = std::chrono::system_clock::to_time_t(when);
    char stamp[32];
    std::tm utc{};
    gmtime_r(&time, &utc);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return stamp;
}

// One JSON object a line, for log shippers. The message is escaped by nlohmann, not by hand.
class JsonStderrSink : public spdlog::sinks::base_sink<std::mutex> {
  public:
    explicit JsonStderrSink(bool dry_run) : dry_run_(dry_run) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        nlohmann::ordered_json line;
        line["time"] = utc_stamp(msg.time);
        line["level"] = spdlog::level::to_string_view(msg.level).data();
        if (dry_run_) line["dry_run"] = true;
        line["message"] = std::string(msg.payload.begin(), msg.payload.end());
        const std::string text =
            line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        write_line(text);
    }
    void flush_() override { g_stream->flush(); }

  private:
    bool dry_run_;
};

// Text lines for people, one event a line: control characters in the message (a channel name
// with a newline, an escape sequence) are escaped, so a value can never forge a log line.
class EscapingStderrSink : public spdlog::sinks::base_sink<std::mutex> {
  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const std::string_view payload(msg.payload.data(), msg.payload.size());
        const std::string escaped = escape_control(payload);
        spdlog::details::log_msg safe = msg;
        safe.payload = spdlog::string_view_t(escaped.data(), escaped.size());
        spdlog::memory_buf_t line;
        formatter_->format(safe, line);
        write_line(std::string_view(line.data(), line.size()));
    }
    void flush_() override { g_stream->flush(); }
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

namespace {
LogFormat g_format = LogFormat::kText;
bool g_dry_run = false;
}  // namespace

void setup_logging(const std::string& level, LogFormat format, DryRun dry_run) {
    const bool dry = dry_run == DryRun::kYes;
    g_format = format;
    g_dry_run = dry;
    spdlog::sink_ptr sink;
    if (format == LogFormat::kJson) {
        sink = std::make_shared<JsonStderrSink>(dry);
    } else {
        sink = std::make_shared<EscapingStderrSink>();
        sink->set_pattern(std::string("%Y-%m-%d %H:%M:%S %^%l%$: ") + (dry ? "[DRY-RUN] " : "") +
                          "%v");
    }
    auto logger = std::make_shared<spdlog::logger>("ops", sink);
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

}  // namespace ops

namespace ops {

// Printed whatever --log-level says: the reason for a non-zero exit is never filtered out.
void report_error(const std::string& what, const std::string& hint) {
    std::string text;
    if (g_format == LogFormat::kJson) {
        nlohmann::ordered_json line;
        line["time"] = utc_stamp(std::chrono::system_clock::now());
        line["level"] = "error";
        if (g_dry_run) line["dry_run"] = true;
        line["message"] = "ops: error: " + what;
        line["error"] = what;
        if (!hint.empty()) line["hint"] = hint;
        text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    } else {
        text = "ops: error: " + escape_control(what) + "\n";
        if (!hint.empty()) text += "HINT: " + escape_control(hint) + "\n";
    }
    write_line(text);
}

std::ostream& set_log_stream(std::ostream& stream) {
    std::ostream& previous = *g_stream;
    g_stream = &stream;
    return previous;
}

}  // namespace ops
