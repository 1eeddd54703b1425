#ifndef AFTERSALES_TESTS_SUPPORT_FIXTURES_H_
#define AFTERSALES_TESTS_SUPPORT_FIXTURES_H_

#include <string>

#include "aftersales/v1/intake.pb.h"

namespace aftersales::testing {

// A complete, valid CreateOrder request: a Shanghai fridge that stopped
// cooling, from a partner system.
v1::CreateOrderRequest SampleOrderRequest(const std::string& request_id,
                                          const std::string& serial = "SN-1");

}  // namespace aftersales::testing

#endif  // AFTERSALES_TESTS_SUPPORT_FIXTURES_H_
