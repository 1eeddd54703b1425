# Deployment (issue 9): the Kubernetes manifests of deploy/k8s rendered with
# `kubectl kustomize` (offline) and checked for what they do; the Dockerfile's
# runtime packages checked against the libraries a built service links; the
# Maintenance.Checkpoint backup/restore of a real service.
# Scripts run on Debian's /usr/bin/python3 (python3-yaml, deploy/local/packages.txt).
find_program(KUBECTL kubectl)
if(KUBECTL)
  add_test(NAME k8s_render_test
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ops/k8s_render_test.py
                   --kubectl=${KUBECTL} --source=${PROJECT_SOURCE_DIR})
  set_tests_properties(k8s_render_test PROPERTIES TIMEOUT 180 LABELS ops
                       ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
elseif(DEFINED ENV{CI})
  message(FATAL_ERROR "kubectl not found (Debian package kubernetes-client, deploy/local/packages.txt)")
else()
  message(WARNING "kubectl not found: k8s_render_test not registered")
endif()

# deploy/docker/Dockerfile cannot be built here (no image registry); this
# checks that its runtime packages cover every library the built services link.
find_program(DPKG_QUERY dpkg-query)
if(DPKG_QUERY)
  add_test(NAME k8s_dockerfile_test
           COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/ops/k8s_dockerfile_test.py
                   --dockerfile=${PROJECT_SOURCE_DIR}/deploy/docker/Dockerfile
                   --build-dir=${PROJECT_BINARY_DIR}
                   $<TARGET_FILE:intake> $<TARGET_FILE:dispatch> $<TARGET_FILE:parts>
                   $<TARGET_FILE:complaint> $<TARGET_FILE:satisfaction>)
  set_tests_properties(k8s_dockerfile_test PROPERTIES TIMEOUT 120 LABELS ops
                       ENVIRONMENT "PYTHONDONTWRITEBYTECODE=1")
endif()

# Backup and restore through Maintenance.Checkpoint, on a real intake process.
aftersales_test(backup_test ops/backup_test.cc)
add_dependencies(backup_test intake aftersalesctl)

# The cell overlays' policy copies start the real services.
aftersales_test(k8s_policy_test ops/k8s_policy_test.cc)
add_dependencies(k8s_policy_test intake dispatch parts complaint satisfaction)
