#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops audit verify FILE...`: is each archive file what its manifest says? Row count,
// byte size, SHA-256, and every line a whole JSON object with an id. A file without a
// manifest comes from a run that did not end cleanly and is reported with its count of
// whole lines. Reads files only; needs no database.
class AuditVerifyCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    ExitCode outcome() const override;

  private:
    Summary verify_file(const std::string& path);

    std::vector<std::string> files_;
    Summary results_ = Summary::array();
    int unsound_ = 0;
};

}  // namespace ops
