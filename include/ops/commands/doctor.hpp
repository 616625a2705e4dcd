#pragma once

#include "ops/commands/command.hpp"

namespace ops {

// `ops doctor`: can the commands run here? Connects, then checks every table and column
// they use (with a compatible type), the role's privileges and the archive folder, naming
// each problem. CI smoke tests and the install check call it.
class DoctorCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    ExitCode outcome() const override;

  private:
    void add_check(const std::string& name, const std::string& problem);
    void add_row(const Summary& check);  // {check, status: ok|warning|problem, detail}
    void check_archive_folder();

    std::string archive_dir_ = "storage/app/audit-archives";
    std::string server_version_;
    std::string role_;
    Summary pooler_;  // report_pooler(): direct, session or transaction pooling
    Summary checks_ = Summary::array();
    Summary queue_ = Summary::object();  // doctor_queue_report()
    int problems_ = 0;
};

}  // namespace ops
