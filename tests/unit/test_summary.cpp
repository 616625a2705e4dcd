#include <catch2/catch.hpp>
#include <sstream>

#include "ops/output/summary.hpp"

using namespace ops;

TEST_CASE("text summaries align scalars and render objects and tables") {
    Summary s;
    s["command"] = "audit archive";
    s["dry_run"] = true;
    s["selected"] = 12;
    s["by_channel"] = {{"web", 10}, {"api", 2}};
    s["files"] = Summary::array({{{"path", "a.jsonl"}, {"rows", 12}}});
    s["left_alone"] = Summary::object();
    std::ostringstream out;
    render_text(s, out);
    CHECK(out.str() ==
          "command     audit archive\n"
          "dry_run     yes\n"
          "selected    12\n"
          "by_channel\n"
          "  web  10\n"
          "  api  2\n"
          "files\n"
          "  path     rows  \n"
          "  a.jsonl  12    \n"
          "left_alone  (none)\n");
}

TEST_CASE("long tables are cut in text but complete in JSON") {
    Summary s;
    s["drift"] = Summary::array();
    for (int i = 0; i < 30; ++i) s["drift"].push_back({{"tenant_id", i}});
    std::ostringstream text, json;
    render_text(s, text, 20);
    CHECK(text.str().find("10 more") != std::string::npos);
    render_json(s, json);
    CHECK(nlohmann::json::parse(json.str())["drift"].size() == 30);
    CHECK(json.str().find('\n') == json.str().size() - 1);
}
