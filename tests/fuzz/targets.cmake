# The libFuzzer targets: name -> the code under test it links (see
# CMakeLists.txt in this directory). Shared by the clang sub-build and by
# fuzz.cmake, which registers a short run of each as a ctest test.
set(AFTERSALES_FUZZ_TARGETS
  fuzz_rpc_edge          # Validator Id/Text/Enum/Range, page tokens
  fuzz_auth_tokens       # token file parsing, bearer header authorization
  fuzz_policies          # ParseTextPolicy + the five services' policy parsers
  fuzz_intake_create     # CreateOrderRequest validation, new order, priority, clocks, masking
  fuzz_intake_progress   # offline report batches validated and applied to an order
  fuzz_intake_events     # peers' events applied to an order (intake's consumers)
  fuzz_dispatch          # engineer validation, constraints, ranking
  fuzz_parts             # every parts request validator
  fuzz_complaint         # complaint filing/resolution validation, grading of free text
  fuzz_satisfaction      # survey response validation and answering
)
