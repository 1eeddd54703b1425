# The operator CLI (services/aftersalesctl) run as a child process against
# real intake, dispatch, complaint and satisfaction processes.
aftersales_test(aftersalesctl_test aftersalesctl_test.cc)
add_dependencies(aftersalesctl_test aftersalesctl intake dispatch complaint satisfaction)
target_compile_definitions(aftersalesctl_test PRIVATE
  AFTERSALESCTL_BINARY="$<TARGET_FILE:aftersalesctl>")
