#include "support/fixtures.h"

namespace aftersales::testing {

v1::CreateOrderRequest SampleOrderRequest(const std::string& request_id,
                                          const std::string& serial) {
  v1::CreateOrderRequest r;
  r.set_request_id(request_id);
  r.set_channel(v1::CHANNEL_PARTNER_API);
  r.set_customer_id("C100");
  auto* area = r.mutable_service_area();
  area->set_region_code("CN-310000");
  area->set_city_tier(1);
  area->mutable_location()->set_lat_deg(31.23);
  area->mutable_location()->set_lng_deg(121.47);
  r.mutable_appliance()->set_category("FRIDGE");
  r.mutable_appliance()->set_serial(serial);
  r.mutable_fault()->set_description("冰箱不制冷 fridge not cooling");
  r.mutable_contact()->set_name("张三");
  r.mutable_contact()->set_phone("13812345678");
  r.mutable_contact()->set_full_address("上海市浦东新区世纪大道100号 1201室");
  return r;
}

}  // namespace aftersales::testing
