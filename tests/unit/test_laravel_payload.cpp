// The jobs.payload builder against payloads real Laravel 8.83 wrote (docs/QUEUE_PAYLOAD.md,
// and Queue::createPayload run for the variants below), byte for byte.
#include <catch2/catch.hpp>
#include <regex>
#include <set>
#include <stdexcept>

#include "ops/queue/laravel_job_payload.hpp"

using namespace ops;

namespace {

// docs/QUEUE_PAYLOAD.md section 2: `dispatch.php 42`, row 40, exactly as stored.
const std::string kDispatched42 =
    R"({"uuid":"7bae4e96-c7f2-42bc-93ea-9a655ee53884","displayName":"App\\Jobs\\SendWaMessageJob","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":null,"maxExceptions":null,"failOnTimeout":false,"backoff":null,"timeout":null,"retryUntil":null,"data":{"commandName":"App\\Jobs\\SendWaMessageJob","command":"O:25:\"App\\Jobs\\SendWaMessageJob\":11:{s:11:\"waMessageId\";i:42;s:3:\"job\";N;s:10:\"connection\";N;s:5:\"queue\";N;s:15:\"chainConnection\";N;s:10:\"chainQueue\";N;s:19:\"chainCatchCallbacks\";N;s:5:\"delay\";N;s:11:\"afterCommit\";N;s:10:\"middleware\";a:0:{}s:7:\"chained\";a:0:{}}"}})";

// The same class declaring `public $tries = 5; public $backoff = [10, 60]; public $timeout = 120;`
// (in that order, before the constructor), id 42, plain dispatch.
const std::string kWithProperties =
    R"({"uuid":"0ddf9faf-1f97-4147-b898-bdaa260b2fcd","displayName":"App\\Jobs\\SendWaMessageJob","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":5,"maxExceptions":null,"failOnTimeout":false,"backoff":"10,60","timeout":120,"retryUntil":null,"data":{"commandName":"App\\Jobs\\SendWaMessageJob","command":"O:25:\"App\\Jobs\\SendWaMessageJob\":14:{s:5:\"tries\";i:5;s:7:\"backoff\";a:2:{i:0;i:10;i:1;i:60;}s:7:\"timeout\";i:120;s:11:\"waMessageId\";i:42;s:3:\"job\";N;s:10:\"connection\";N;s:5:\"queue\";N;s:15:\"chainConnection\";N;s:10:\"chainQueue\";N;s:19:\"chainCatchCallbacks\";N;s:5:\"delay\";N;s:11:\"afterCommit\";N;s:10:\"middleware\";a:0:{}s:7:\"chained\";a:0:{}}"}})";

// `public $tries = 5; public $backoff = 30;`, id 42.
const std::string kScalarBackoff =
    R"({"uuid":"6019af7e-1de8-4841-ad33-339846c5fe90","displayName":"App\\Jobs\\SendWaMessageJob","job":"Illuminate\\Queue\\CallQueuedHandler@call","maxTries":5,"maxExceptions":null,"failOnTimeout":false,"backoff":"30","timeout":null,"retryUntil":null,"data":{"commandName":"App\\Jobs\\SendWaMessageJob","command":"O:25:\"App\\Jobs\\SendWaMessageJob\":13:{s:5:\"tries\";i:5;s:7:\"backoff\";i:30;s:11:\"waMessageId\";i:42;s:3:\"job\";N;s:10:\"connection\";N;s:5:\"queue\";N;s:15:\"chainConnection\";N;s:10:\"chainQueue\";N;s:19:\"chainCatchCallbacks\";N;s:5:\"delay\";N;s:11:\"afterCommit\";N;s:10:\"middleware\";a:0:{}s:7:\"chained\";a:0:{}}"}})";

// The serialized `queue` property as Laravel wrote it after ->onQueue(name).
struct QueueCase {
    std::string name;
    std::string fragment;  // between s:5:\"queue\"; and ;s:15:\"chainConnection\"
};

const std::vector<QueueCase>& queue_cases() {
    static const std::vector<QueueCase> cases = {
        {"wa-high", R"(s:7:\"wa-high\")"},
        {"wa/sends", R"(s:8:\"wa\/sends\")"},
        {"\xc3\xa4\xc3\xb6-q", "s:6:\\\"\xc3\xa4\xc3\xb6-q\\\""},
        {R"(we"ird\q)", R"(s:8:\"we\"ird\\q\")"},
        // tab, U+0001, DEL, U+2028, é
        {"tab\there\x01\x7f\xe2\x80\xa8\xc3\xa9",
         "s:15:\\\"tab\\there\\u0001\x7f\\u2028\xc3\xa9\\\""},
    };
    return cases;
}

std::string with_queue_fragment(std::string payload, const std::string& fragment) {
    const std::string plain = R"(s:5:\"queue\";N;)";
    payload.replace(payload.find(plain), plain.size(), R"(s:5:\"queue\";)" + fragment + ";");
    return payload;
}

}  // namespace

TEST_CASE("laravel payload: a plain dispatch gives exactly the payload Laravel wrote") {
    const LaravelJobPayload payload(std::nullopt);
    CHECK(payload.build("7bae4e96-c7f2-42bc-93ea-9a655ee53884", 42) == kDispatched42);
    CHECK(kDispatched42.size() == 601);
}

TEST_CASE("laravel payload: the id is written bare, whatever its size") {
    const LaravelJobPayload payload(std::nullopt);
    for (const std::int64_t id : {std::int64_t{1}, std::int64_t{42}, std::int64_t{1234567890123},
                                  std::int64_t{9223372036854775807}}) {
        INFO(id);
        const std::string built = payload.build("7bae4e96-c7f2-42bc-93ea-9a655ee53884", id);
        CHECK(built.size() == 599 + std::to_string(id).size());
        CHECK(built.find(R"(\"waMessageId\";i:)" + std::to_string(id) + ";s:3:") !=
              std::string::npos);
    }
}

TEST_CASE(
    "laravel payload: ->onQueue(name) serializes the name as Laravel does, escaped for JSON") {
    for (const auto& c : queue_cases()) {
        INFO(c.name);
        const LaravelJobPayload payload(c.name);
        CHECK(payload.build("7bae4e96-c7f2-42bc-93ea-9a655ee53884", 42) ==
              with_queue_fragment(kDispatched42, c.fragment));
    }
}

TEST_CASE(
    "laravel payload: a job class's $tries, $backoff and $timeout go into the fields and the "
    "object") {
    JobClassProperties properties;
    properties.tries = 5;
    properties.backoff = {10, 60};
    properties.timeout = 120;
    CHECK(LaravelJobPayload(std::nullopt, properties)
              .build("0ddf9faf-1f97-4147-b898-bdaa260b2fcd", 42) == kWithProperties);

    JobClassProperties scalar;
    scalar.tries = 5;
    scalar.backoff = {30};
    CHECK(
        LaravelJobPayload(std::nullopt, scalar).build("6019af7e-1de8-4841-ad33-339846c5fe90", 42) ==
        kScalarBackoff);
}

TEST_CASE("laravel payload: the payload is its three fixed parts around the uuid and the id") {
    const LaravelJobPayload payload(std::string("wa-high"));
    const std::string uuid = new_uuid_v4();
    CHECK(payload.before_uuid() + uuid + payload.before_id() + "77" + payload.after_id() ==
          payload.build(uuid, 77));
    std::string appended = "x";
    payload.append_to(appended, uuid, 77);
    CHECK(appended == "x" + payload.build(uuid, 77));
}

TEST_CASE("laravel payload: a queue name that is not UTF-8 cannot be dispatched") {
    CHECK_THROWS_AS(LaravelJobPayload(std::string("bad\xff")), std::invalid_argument);
    CHECK_THROWS_AS(LaravelJobPayload(std::string("\xc0\xaf")),
                    std::invalid_argument);  // overlong /
    CHECK_THROWS_AS(LaravelJobPayload(std::string("\xed\xa0\x80")),
                    std::invalid_argument);  // surrogate
    CHECK_THROWS_AS(LaravelJobPayload(std::string("\xe2\x82")),
                    std::invalid_argument);  // truncated
}

TEST_CASE("laravel payload: PHP's json_encode escaping") {
    CHECK(php_json_escape("App\\Jobs\\X") == "App\\\\Jobs\\\\X");
    CHECK(php_json_escape("a/b\"c") == "a\\/b\\\"c");
    CHECK(php_json_escape("\b\f\n\r\t") == "\\b\\f\\n\\r\\t");
    CHECK(php_json_escape(std::string("\x00\x1f", 2)) == "\\u0000\\u001f");
    CHECK(php_json_escape("\x7f") == "\x7f");
    CHECK(php_json_escape("\xe2\x80\xa8\xe2\x80\xa9") == "\\u2028\\u2029");
    CHECK(php_json_escape("\xf0\x9f\x98\x80 \xc3\xa4") == "\xf0\x9f\x98\x80 \xc3\xa4");
    CHECK(php_serialize_string("\xc3\xa4") == "s:2:\"\xc3\xa4\";");
}

TEST_CASE("laravel payload: uuids are fresh random version 4, lowercase") {
    static const std::regex kV4(
        "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    std::set<std::string> seen;
    for (int i = 0; i < 2000; ++i) {
        const std::string uuid = new_uuid_v4();
        REQUIRE(std::regex_match(uuid, kV4));
        seen.insert(uuid);
    }
    CHECK(seen.size() == 2000);
}
