#include "ops/queue/redis_client.hpp"

#include <hiredis/hiredis.h>

#include <utility>

namespace ops {
namespace {

struct ReplyDeleter {
    void operator()(void* reply) const { freeReplyObject(reply); }
};
using Reply = std::unique_ptr<void, ReplyDeleter>;

RedisValue copied(const redisReply& reply) {
    RedisValue value;
    switch (reply.type) {
        case REDIS_REPLY_STRING:
            value.type = RedisValue::Type::kString;
            break;
        case REDIS_REPLY_STATUS:
            value.type = RedisValue::Type::kStatus;
            break;
        case REDIS_REPLY_ERROR:
            value.type = RedisValue::Type::kError;
            break;
        case REDIS_REPLY_INTEGER:
            value.type = RedisValue::Type::kInteger;
            value.integer = reply.integer;
            return value;
        case REDIS_REPLY_ARRAY:
            value.type = RedisValue::Type::kArray;
            for (std::size_t i = 0; i < reply.elements; ++i) {
                value.elements.push_back(copied(*reply.element[i]));
            }
            return value;
        default:
            return value;  // nil
    }
    value.text.assign(reply.str, reply.len);
    return value;
}

timeval as_timeval(std::chrono::milliseconds timeout) {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(timeout.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((timeout.count() % 1000) * 1000);
    return tv;
}

// hiredis's argv form: binary-safe, nothing is formatted.
void append(redisContext* context, const RedisCommand& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const auto& arg : args) {
        argv.push_back(arg.data());
        lengths.push_back(arg.size());
    }
    redisAppendCommandArgv(context, static_cast<int>(argv.size()), argv.data(), lengths.data());
}

}  // namespace

void RedisClient::ContextDeleter::operator()(redisContext* context) const { redisFree(context); }

RedisClient::RedisClient(RedisEndpoint endpoint, std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), timeout_(timeout) {
    connect();
}

RedisClient::~RedisClient() = default;

void RedisClient::connect() {
    context_.reset(
        redisConnectWithTimeout(endpoint_.host.c_str(), endpoint_.port, as_timeval(timeout_)));
    if (!context_ || context_->err != 0) {
        const std::string why = context_ ? context_->errstr : "out of memory";
        context_.reset();
        throw RedisUnavailable("cannot connect to Redis at " + endpoint_.describe() + ": " + why);
    }
    redisSetTimeout(context_.get(), as_timeval(timeout_));
    if (!endpoint_.password.empty()) {
        RedisCommand auth = {"AUTH"};
        if (!endpoint_.username.empty()) auth.push_back(endpoint_.username);
        auth.push_back(endpoint_.password);
        const RedisValue reply = command(auth);
        if (reply.type == RedisValue::Type::kError) {
            context_.reset();
            // The reply names no secret; the command (the password) is never repeated.
            throw RedisUnavailable("Redis at " + endpoint_.describe() +
                                   " refused the credentials: " + reply.text);
        }
    }
    const RedisValue info = checked(command({"INFO", "cluster"}), "INFO cluster");
    if (info.text.find("cluster_enabled:1") != std::string::npos) {
        context_.reset();
        throw ConfigError("Redis at " + endpoint_.describe() +
                          " is a Redis Cluster node, which ops cannot write to (Debian 12's "
                          "hiredis 0.14 has no cluster support)");
    }
    if (endpoint_.database != 0) {
        checked(command({"SELECT", std::to_string(endpoint_.database)}),
                "SELECT " + std::to_string(endpoint_.database));
    }
}

void RedisClient::reconnect() {
    context_.reset();
    connect();
}

void RedisClient::lost(const std::string& doing) {
    const std::string why =
        context_ && context_->err != 0 ? std::string(context_->errstr) : "no reply";
    context_.reset();
    throw RedisUnavailable("lost the connection to Redis at " + endpoint_.describe() + " (" +
                           doing + "): " + why);
}

RedisValue RedisClient::command(const RedisCommand& args) {
    auto replies = pipeline({args});
    return std::move(replies.front());
}

std::vector<RedisValue> RedisClient::pipeline(const std::vector<RedisCommand>& commands) {
    const std::string doing = commands.empty() ? "" : commands.front().front();
    if (!context_) throw RedisUnavailable("not connected to Redis at " + endpoint_.describe());
    for (const auto& args : commands) append(context_.get(), args);
    std::vector<RedisValue> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; i < commands.size(); ++i) {
        void* raw = nullptr;
        if (redisGetReply(context_.get(), &raw) != REDIS_OK || raw == nullptr) lost(doing);
        const Reply reply(raw);
        replies.push_back(copied(*static_cast<redisReply*>(reply.get())));
    }
    return replies;
}

// Replies of a server that will serve again shortly: still loading its data after a restart,
// busy with a script, or a replica that lost its primary. Retried like a lost connection.
static bool unavailable_reply(const std::string& text) {
    for (const char* code : {"LOADING ", "BUSY ", "TRYAGAIN ", "MASTERDOWN "}) {
        if (text.rfind(code, 0) == 0) return true;
    }
    return false;
}

const RedisValue& checked(const RedisValue& reply, const std::string& doing) {
    if (reply.type != RedisValue::Type::kError) return reply;
    if (unavailable_reply(reply.text)) {
        throw RedisUnavailable("Redis cannot serve " + doing + " yet: " + reply.text);
    }
    throw RunFailure("Redis refused " + doing + ": " + reply.text);
}

}  // namespace ops
