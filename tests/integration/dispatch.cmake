aftersales_test(dispatch_test dispatch_test.cc)
add_dependencies(dispatch_test dispatch intake)
# Pins who is offered and the explanations (golden file recorded before the
# decision's CPU was cut; AFTERSALES_UPDATE_GOLDEN=1 re-records it).
aftersales_test(dispatch_decision_pin_test dispatch_decision_pin_test.cc)
add_dependencies(dispatch_decision_pin_test dispatch)
target_compile_definitions(dispatch_decision_pin_test PRIVATE
  DISPATCH_PIN_GOLDEN="${CMAKE_CURRENT_SOURCE_DIR}/dispatch_decision_pin.golden")
