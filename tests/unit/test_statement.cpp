#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ops/db/quota_repository.hpp"
#include "ops/db/statement.hpp"

using ops::Bindings;
using ops::Statement;

namespace {

std::vector<std::optional<std::string>> texts(const Bindings& b) {
    std::vector<std::optional<std::string>> out;
    for (const char* v : b.values()) {
        out.push_back(v == nullptr ? std::nullopt : std::optional<std::string>(v));
    }
    return out;
}

}  // namespace

TEST_CASE("named placeholders become $n in order of first use", "[statement]") {
    const Statement s("SELECT * FROM t WHERE a = :first AND b > :second_2 AND c < :first");
    CHECK(s.positional() == "SELECT * FROM t WHERE a = $1 AND b > $2 AND c < $1");
    CHECK(s.names() == std::vector<std::string>{"first", "second_2"});
    CHECK(s.index_of("second_2") == 1);
    CHECK_FALSE(s.index_of("third"));
}

TEST_CASE("casts, literals, identifiers and comments keep their colons", "[statement]") {
    const Statement s(
        "SELECT :v::json, x::text, 'a :not_me '' :nor_me', \"col :x\", arr[1:2] -- :comment\n"
        "/* :block */ FROM t WHERE y = :w::bigint::oid");
    CHECK(s.positional() ==
          "SELECT $1::json, x::text, 'a :not_me '' :nor_me', \"col :x\", arr[1:2] -- :comment\n"
          "/* :block */ FROM t WHERE y = $2::bigint::oid");
    CHECK(s.names() == std::vector<std::string>{"v", "w"});
}

TEST_CASE("a statement without placeholders is unchanged", "[statement]") {
    const Statement s("SELECT pg_is_in_recovery()");
    CHECK(s.positional() == "SELECT pg_is_in_recovery()");
    CHECK(s.names().empty());
    CHECK(Bindings(s).values().empty());
}

TEST_CASE("positional parameters, dollar quotes and open quotes are refused", "[statement]") {
    CHECK_THROWS_AS(Statement("SELECT $1"), std::invalid_argument);
    CHECK_THROWS_AS(Statement("SELECT $$text$$"), std::invalid_argument);
    CHECK_THROWS_AS(Statement("SELECT 'open"), std::invalid_argument);
    CHECK_THROWS_AS(Statement("SELECT \"open"), std::invalid_argument);
    CHECK_THROWS_AS(Statement("SELECT 1 /* open"), std::invalid_argument);
    CHECK_NOTHROW(Statement("SELECT '$1', \"$x\" -- $2"));
}

TEST_CASE("values are bound by name, each kind in its text form", "[statement]") {
    const Statement s(
        "SELECT :text, :number, :flag, :none, :maybe, :some, :literal, :negative, :off, "
        ":null_pointer");
    Bindings b(s);
    b.set("number", std::int64_t{42})
        .set("text", std::string("it's"))
        .set("flag", true)
        .set("none", std::nullopt)
        .set("maybe", std::optional<std::int64_t>{})
        .set("some", std::optional<std::string>("x"))
        .set("literal", "plain")
        .set("negative", -7)
        .set("off", false)
        .set("null_pointer", static_cast<const char*>(nullptr));
    CHECK(texts(b) == std::vector<std::optional<std::string>>{"it's", "42", "true", std::nullopt,
                                                              std::nullopt, "x", "plain", "-7",
                                                              "false", std::nullopt});
}

TEST_CASE("a value set twice keeps the last one", "[statement]") {
    const Statement s("SELECT :a");
    Bindings b(s);
    b.set("a", 1).set("a", 2);
    CHECK(texts(b) == std::vector<std::optional<std::string>>{"2"});
}

TEST_CASE("an unknown name or an unset parameter is a mistake", "[statement]") {
    const Statement s("SELECT :a, :b");
    Bindings b(s);
    CHECK_THROWS_AS(b.set("c", 1), std::logic_error);
    b.set("a", 1);
    CHECK_THROWS_WITH(b.values(), Catch::Contains(":b was not set"));
}

TEST_CASE("lists become one JSON array parameter", "[statement][json]") {
    const std::vector<std::int64_t> ids{3, -1, 9007199254740993};
    CHECK(ops::json_array(ids) == "[3,-1,9007199254740993]");
    CHECK(ops::json_array(std::vector<std::int64_t>{}) == "[]");
    const std::vector<std::string> names{"a\"b", "c\\d", "é", "\n"};
    CHECK(ops::json_array(names) == R"(["a\"b","c\\d","é","\n"])");
    CHECK(ops::json_array(std::vector<std::string>{}) == "[]");
}

TEST_CASE("an empty filter list is NULL (no filter)", "[statement][json]") {
    CHECK_FALSE(ops::json_filter(std::vector<std::int64_t>{}));
    CHECK_FALSE(ops::json_filter(std::vector<std::string>{}));
    CHECK(ops::json_filter(std::vector<std::int64_t>{5}) == "[5]");
    CHECK(ops::json_filter(std::vector<std::string>{"x"}) == R"(["x"])");
}

TEST_CASE("quota updates travel as one JSON recordset", "[statement][json]") {
    const std::vector<ops::QuotaUpdate> updates{{7, 12, true}, {9, 0, false}};
    CHECK(ops::quota_updates_json(updates) ==
          R"([{"changed":true,"tenant_id":7,"used":12},{"changed":false,"tenant_id":9,"used":0}])");
    CHECK(ops::quota_updates_json({}) == "[]");
}
