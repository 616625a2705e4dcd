// The payload of each Laravel release against what that release wrote for
// `SendWaMessageJob::dispatch(42)` (tests/laravel/payloads, copied from real runs of 8.83 to
// 13.26): byte for byte once the uuid and createdAt are the reference's.
#include <catch2/catch.hpp>
#include <fstream>
#include <regex>
#include <sstream>

#include "ops/queue/laravel_job_payload.hpp"

using namespace ops;

namespace {

struct Reference {
    std::string file;
    LaravelVersion version;
    LaravelVersion first_release;  // of its form, what detection reports
};

const std::vector<Reference>& references() {
    static const std::vector<Reference> all = {
        {"v8.83.26.json", {8, 83, 26}, {8, 0, 0}},   {"v9.52.16.json", {9, 52, 16}, {8, 0, 0}},
        {"v10.48.29.json", {10, 48, 29}, {8, 0, 0}}, {"v11.1.1.json", {11, 1, 1}, {8, 0, 0}},
        {"v11.56.0.json", {11, 56, 0}, {11, 2, 0}},  {"v12.10.2.json", {12, 10, 2}, {11, 2, 0}},
        {"v12.50.0.json", {12, 50, 0}, {12, 32, 0}}, {"v12.67.0.json", {12, 67, 0}, {12, 51, 0}},
        {"v13.0.0.json", {13, 0, 0}, {13, 0, 0}},    {"v13.26.1.json", {13, 26, 1}, {13, 24, 0}},
    };
    return all;
}

std::string read_reference(const std::string& file) {
    std::ifstream in(std::string(OPS_SOURCE_DIR) + "/tests/laravel/payloads/" + file);
    REQUIRE(in);
    std::stringstream text;
    text << in.rdbuf();
    std::string payload = text.str();
    REQUIRE(!payload.empty());
    REQUIRE(payload.back() == '\n');  // one newline that is not part of the payload
    payload.pop_back();
    return payload;
}

std::string uuid_of(const std::string& payload) {
    std::smatch m;
    REQUIRE(std::regex_search(payload, m, std::regex(R"re("uuid":"([0-9a-f-]{36})")re")));
    return m[1].str();
}

std::int64_t created_at_of(const std::string& payload) {
    std::smatch m;
    if (!std::regex_search(payload, m, std::regex(R"re("createdAt":([0-9]+))re"))) return 0;
    return std::stoll(m[1].str());
}

// The reference with the command as a SerializesModels class writes it (README of payloads).
std::string models_form_of(const std::string& payload) {
    return std::regex_replace(
        payload, std::regex(R"re("command":"O:25:.*?\}")re"),
        R"re("command":"O:25:\"App\\Jobs\\SendWaMessageJob\":1:{s:11:\"waMessageId\";i:42;}")re");
}

}  // namespace

TEST_CASE("payloads: each release's form equals what that release wrote") {
    for (const auto& ref : references()) {
        INFO("Laravel " << ref.version.text());
        const std::string expected = read_reference(ref.file);
        const LaravelJobPayload payload(std::nullopt, {}, PayloadForm{ref.version, false});
        CHECK(payload.build(uuid_of(expected), 42, created_at_of(expected)) == expected);
        CHECK(payload.has_created_at() == (created_at_of(expected) != 0));
    }
}

TEST_CASE("payloads: detection names the first release of each reference's form") {
    for (const auto& ref : references()) {
        INFO("Laravel " << ref.version.text());
        const auto form = detect_payload_form(read_reference(ref.file));
        REQUIRE(form.has_value());
        CHECK(form->version.text() == ref.first_release.text());
        CHECK_FALSE(form->serializes_models);
        // What detection chose writes the reference again.
        const std::string expected = read_reference(ref.file);
        CHECK(LaravelJobPayload(std::nullopt, {}, *form)
                  .build(uuid_of(expected), 42, created_at_of(expected)) == expected);
    }
    CHECK_FALSE(detect_payload_form(R"({"displayName":"App\\Jobs\\Other"})").has_value());
}

TEST_CASE("payloads: SerializesModels serializes only the id from 9.4, nothing changes on 8") {
    for (const std::string file : {"v11.56.0.json", "v12.67.0.json", "v13.26.1.json"}) {
        INFO(file);
        const std::string reference = read_reference(file);
        const std::string expected = models_form_of(reference);
        REQUIRE(expected != reference);
        const auto form = detect_payload_form(expected);
        REQUIRE(form.has_value());
        CHECK(form->serializes_models);
        const LaravelJobPayload payload(std::nullopt, {}, *form);
        CHECK(payload.build(uuid_of(expected), 42, created_at_of(expected)) == expected);
    }
    const std::string laravel8 = read_reference("v8.83.26.json");
    CHECK(LaravelJobPayload(std::nullopt, {}, PayloadForm{{8, 83, 26}, true})
              .build(uuid_of(laravel8), 42) == laravel8);
    // onQueue() is the one other property that differs from its default.
    const LaravelJobPayload queued(std::string("wa"), {}, PayloadForm{{12, 67, 0}, true});
    CHECK(queued.build("u", 7, 1).find(
              R"(1:{s:11:\"waMessageId\";i:7;s:5:\"queue\";s:2:\"wa\";})") == std::string::npos);
    CHECK(queued.build("u", 7, 1).find(
              R"(2:{s:11:\"waMessageId\";i:7;s:5:\"queue\";s:2:\"wa\";})") != std::string::npos);
}

TEST_CASE("payloads: forms are described by the releases that write them") {
    CHECK(PayloadForm{{8, 83, 26}, false}.describe() == "Laravel 8.0 to 11.1");
    CHECK(PayloadForm{{12, 67, 0}, false}.describe() == "Laravel 12.51 to 12.x");
    CHECK(PayloadForm{{13, 26, 1}, false}.describe() == "Laravel 13.24 to 13.x");
    CHECK(PayloadForm{{12, 10, 0}, true}.describe() == "Laravel 11.2 to 12.10, SerializesModels");
}
