aftersales_test(dispatch_test dispatch_test.cc)
add_dependencies(dispatch_test dispatch intake)
