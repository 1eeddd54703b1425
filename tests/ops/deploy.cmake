# Deployment (issue 9): the Maintenance.Checkpoint backup/restore of a real service.

# Backup and restore through Maintenance.Checkpoint, on a real intake process.
aftersales_test(backup_test ops/backup_test.cc)
add_dependencies(backup_test intake)
