#include <catch2/catch.hpp>

#include "ops/core/errors.hpp"

using namespace ops;

TEST_CASE("each error type carries its documented exit code") {
    CHECK(static_cast<int>(UsageError("x").code()) == 2);
    CHECK(static_cast<int>(ConfigError("x").code()) == 78);
    CHECK(static_cast<int>(DatabaseUnavailable("x").code()) == 69);
    CHECK(static_cast<int>(LockHeld("x").code()) == 75);
    CHECK(static_cast<int>(RunFailure("x").code()) == 1);
    CHECK(RunFailure("x", "do this").hint() == "do this");
    // Project codes stay out of CLI11's own 100-127 range.
    for (const auto code :
         {ExitCode::kSuccess, ExitCode::kFailure, ExitCode::kUsage, ExitCode::kDriftFound,
          ExitCode::kDatabaseUnavailable, ExitCode::kLockHeld, ExitCode::kConfig}) {
        CHECK((static_cast<int>(code) < 100 || static_cast<int>(code) > 127));
    }
}
