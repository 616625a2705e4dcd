#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ops/queue/redis_settings.hpp"

struct redisContext;

namespace ops {

// One reply, copied out of hiredis so that no caller sees its types.
struct RedisValue {
    enum class Type { kString, kArray, kInteger, kNil, kStatus, kError };
    Type type = Type::kNil;
    std::string text;  // kString, kStatus, kError
    long long integer = 0;
    std::vector<RedisValue> elements;  // kArray
};

using RedisCommand = std::vector<std::string>;

// A connection to one Redis server (hiredis 0.14, RESP2, no TLS): connected, authenticated and
// on its database when constructed, closed when destroyed. An I/O error or a timeout throws
// RedisUnavailable (exit 69) and leaves the client disconnected until reconnect(); an error
// reply is returned as a value, for the caller to judge.
class RedisClient {
  public:
    RedisClient(RedisEndpoint endpoint, std::chrono::milliseconds timeout);
    ~RedisClient();
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    RedisValue command(const RedisCommand& args);
    // Sends every command, then reads every reply: one round trip for many.
    std::vector<RedisValue> pipeline(const std::vector<RedisCommand>& commands);
    void reconnect();
    bool connected() const { return context_ != nullptr; }
    const RedisEndpoint& endpoint() const { return endpoint_; }

  private:
    struct ContextDeleter {
        void operator()(redisContext* context) const;
    };
    void connect();
    [[noreturn]] void lost(const std::string& doing);

    RedisEndpoint endpoint_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<redisContext, ContextDeleter> context_;
};

// Throws RunFailure naming `doing` when `reply` is an error reply; returns it otherwise.
const RedisValue& checked(const RedisValue& reply, const std::string& doing);

}  // namespace ops
