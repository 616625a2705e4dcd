#pragma once

#include <functional>
#include <map>

#include "ops/commands/command.hpp"

namespace ops {

// `ops doctor`: can the commands run here? Connects, then checks what each command declares
// it uses (CommandSpec::needs: tables and columns with a compatible type, privileges,
// sequences, role memberships, ownership) and the archive folder, naming each problem and
// the commands it stops. CI smoke tests and the install check call it.
class DoctorCommand : public Command {
  public:
    static CommandSpec spec();

    void validate() override;
    void execute(CommandEnv& env) override;
    Summary summary() const override;
    ExitCode outcome() const override;

  private:
    using Commands = std::vector<std::pair<std::string, DatabaseNeeds>>;
    std::string needed_by(const Commands& commands, const std::string& what,
                          const std::function<bool(const DatabaseNeeds&)>& uses);
    void check_tables(class SchemaRepository& schema, const DatabaseNeeds& all,
                      const Commands& commands);
    void check_sequences(class SchemaRepository& schema, const DatabaseNeeds& all,
                         const Commands& commands);
    void check_roles(class SchemaRepository& schema, const DatabaseNeeds& all,
                     const Commands& commands);
    void add_check(const std::string& name, const std::string& problem);
    void add_row(const Summary& check);  // {check, status: ok|warning|problem, detail}
    void check_archive_folder();

    std::string archive_dir_ = "storage/app/audit-archives";
    std::string only_;                                         // --for
    std::map<std::string, std::vector<std::string>> blocked_;  // command -> what stops it
    std::string server_version_;
    std::string role_;
    Summary pooler_;  // report_pooler(): direct, session or transaction pooling
    Summary checks_ = Summary::array();
    Summary queue_ = Summary::object();  // doctor_queue_report()
    int problems_ = 0;
};

}  // namespace ops
