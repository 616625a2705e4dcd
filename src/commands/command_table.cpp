#include "ops/commands/audit_archive.hpp"
#include "ops/commands/audit_restore.hpp"
#include "ops/commands/audit_verify.hpp"
#include "ops/commands/command.hpp"
#include "ops/commands/doctor.hpp"
#include "ops/commands/quota_reconcile.hpp"
#include "ops/commands/schedule_crontab.hpp"
#include "ops/commands/schedule_laravel.hpp"
#include "ops/commands/schedule_list.hpp"
#include "ops/commands/schedule_systemd.hpp"
#include "ops/commands/wa_redrive_failed.hpp"

namespace ops {

// Every command of the CLI, in the order `ops --help` lists them.
const std::vector<CommandSpec>& command_table() {
    // clang-format off
    static const std::vector<CommandSpec> table = {
        doctor_spec(),
        audit_archive_spec(),
        AuditVerifyCommand::spec(),
        audit_restore_spec(),
        wa_redrive_failed_spec(),
        quota_reconcile_spec(),
        schedule_list_spec(),
        schedule_crontab_spec(),
        schedule_systemd_spec(),
        schedule_laravel_spec(),
    };
    // clang-format on
    return table;
}

}  // namespace ops
