#include "intake/domain/order.h"

#include "absl/strings/str_cat.h"
#include "intake/domain/lifecycle.h"
#include "rpc/rpc.h"
#include "rpc/validate.h"

namespace aftersales::intake::domain {
namespace {

bool HalfHourAligned(const google::protobuf::Timestamp& t) {
  return t.nanos() == 0 && t.seconds() % 1800 == 0;
}

}  // namespace

absl::Status ValidateCreateOrder(const v1::CreateOrderRequest& r, absl::Time now) {
  const auto& area = r.service_area();
  rpc::Validator v;
  v.Id("request_id", r.request_id(), 128)
      .Enum("channel", r.channel(), v1::Channel_IsValid(r.channel()))
      .Id("customer_id", r.customer_id(), 64)
      .Check("customer_tier", v1::CustomerTier_IsValid(r.customer_tier()), "unknown value")
      .Check("customer_segment", v1::CustomerSegment_IsValid(r.customer_segment()),
             "unknown value")
      .Check("order_type", v1::OrderType_IsValid(r.order_type()), "unknown value")
      .Check("service_area", r.has_service_area(), "required")
      .Id("service_area.region_code", area.region_code(), 32)
      .Range("service_area.city_tier", area.city_tier(), 1, 3)
      .Range("service_area.location.lat_deg", area.location().lat_deg(), -90, 90)
      .Range("service_area.location.lng_deg", area.location().lng_deg(), -180, 180)
      .Check("appliance", r.has_appliance(), "required")
      .Id("appliance.category", r.appliance().category(), 32)
      .Text("appliance.brand", r.appliance().brand(), 64, false)
      .Text("appliance.model", r.appliance().model(), 64, false)
      .Id("appliance.serial", r.appliance().serial(), 64)
      .Check("appliance.warranty_status",
             v1::WarrantyStatus_IsValid(r.appliance().warranty_status()), "unknown value")
      .Check("fault", r.has_fault(), "required")
      .Text("fault.description", r.fault().description(), 4000, true)
      .Text("fault.fault_code", r.fault().fault_code(), 32, false)
      .Check("fault.kind", v1::FaultKind_IsValid(r.fault().kind()), "unknown value")
      .Check("fault.complexity", v1::FaultComplexity_IsValid(r.fault().complexity()),
             "unknown value")
      .Check("fault.media_refs", r.fault().media_refs_size() <= 10, "at most 10");
  for (int i = 0; i < r.fault().media_refs_size(); ++i) {
    v.Id(absl::StrCat("fault.media_refs[", i, "]"), r.fault().media_refs(i), 128);
  }
  if (r.appliance().has_purchase_date()) {
    const auto& d = r.appliance().purchase_date();
    const absl::CivilDay day(d.year(), d.month(), d.day());
    v.Check("appliance.purchase_date",
            d.year() >= 1900 && day.year() == d.year() && day.month() == d.month() &&
                day.day() == d.day(),
            "not a valid date")
        .Check("appliance.purchase_date",
               absl::FromCivil(day, absl::UTCTimeZone()) <= now + absl::Hours(24),
               "must not be in the future");
  }
  // Device telemetry opens proactive orders before anyone talked to the customer.
  if (r.channel() != v1::CHANNEL_DEVICE_TELEMETRY || r.has_contact()) {
    v.Check("contact", r.has_contact(), "required")
        .Text("contact.name", r.contact().name(), 64, true)
        .Text("contact.phone", r.contact().phone(), 32, true)
        .Check("contact.phone",
               r.contact().phone().size() >= 5 &&
                   r.contact().phone().find_first_not_of("+0123456789- ") ==
                       std::string::npos,
               "5..32 digits, optionally with + and -")
        .Text("contact.full_address", r.contact().full_address(), 512, true)
        .Text("contact.alt_phone", r.contact().alt_phone(), 32, false);
  }
  if (r.has_expectation()) {
    v.Text("expectation.text", r.expectation().text(), 500, false);
  }
  if (r.has_preferred_window()) {
    const auto& w = r.preferred_window();
    const absl::Time start = rpc::FromProto(w.start()), end = rpc::FromProto(w.end());
    v.Check("preferred_window", HalfHourAligned(w.start()) && HalfHourAligned(w.end()),
            "must start and end on a 30-minute boundary")
        .Check("preferred_window", end > start && end - start <= absl::Hours(24),
               "end must be after start, at most 24 h later")
        .Check("preferred_window.end", end > now, "must be in the future");
  }
  v.Check("consents", r.consents_size() <= 10, "at most 10");
  for (int i = 0; i < r.consents_size(); ++i) {
    const auto& c = r.consents(i);
    const std::string f = absl::StrCat("consents[", i, "]");
    v.Enum(f + ".purpose", c.purpose(), v1::ConsentPurpose_IsValid(c.purpose()))
        .Enum(f + ".method", c.method(), v1::ConsentMethod_IsValid(c.method()))
        .Check(f + ".given_at", c.has_given_at(), "required")
        .Text(f + ".evidence_ref", c.evidence_ref(), 256, true);
  }
  return v.status();
}

std::string MaskPhone(const std::string& phone) {
  std::string digits;
  for (char c : phone) {
    if (c >= '0' && c <= '9') digits.push_back(c);
  }
  const size_t n = digits.size();
  // Mobile numbers keep the first 3 and last 4 digits (138****5678); shorter
  // numbers keep at most the last 4 and never more than half.
  const size_t head = n >= 11 ? 3 : 0;
  const size_t tail = n >= 11 ? 4 : std::min<size_t>(4, n / 2);
  return digits.substr(0, head) + std::string(n - head - tail, '*') +
         digits.substr(n - tail);
}

std::string MaskName(const std::string& name) {
  if (name.empty()) return "";
  // Keep the first UTF-8 character (family name or initial), star the rest.
  size_t first = 1;
  const unsigned char c = static_cast<unsigned char>(name[0]);
  if (c >= 0xf0) first = 4;
  else if (c >= 0xe0) first = 3;
  else if (c >= 0xc0) first = 2;
  first = std::min(first, name.size());
  size_t rest = 0;
  for (size_t i = first; i < name.size(); ++i) {
    if ((static_cast<unsigned char>(name[i]) & 0xc0) != 0x80) ++rest;
  }
  return name.substr(0, first) + std::string(std::max<size_t>(rest, 1), '*');
}

v1::WorkOrder NewOrder(const v1::CreateOrderRequest& request,
                       const std::string& order_id,
                       const std::string& principal_id, absl::Time now) {
  v1::WorkOrder order;
  order.set_order_id(order_id);
  order.set_request_id(request.request_id());
  order.set_state(v1::ORDER_STATE_CREATED);
  order.set_priority(v1::PRIORITY_NORMAL);
  order.set_channel(request.channel());
  order.set_customer_id(request.customer_id());
  *order.mutable_service_area() = request.service_area();
  *order.mutable_appliance() = request.appliance();
  *order.mutable_fault() = request.fault();
  if (order.fault().kind() == v1::FAULT_KIND_UNSPECIFIED) {
    order.mutable_fault()->set_kind(v1::FAULT_KIND_UNKNOWN);
  }
  if (order.fault().complexity() == v1::FAULT_COMPLEXITY_UNSPECIFIED) {
    order.mutable_fault()->set_complexity(v1::FAULT_COMPLEXITY_SIMPLE);
  }
  order.set_order_type(request.order_type() == v1::ORDER_TYPE_UNSPECIFIED
                           ? v1::ORDER_TYPE_REPAIR
                           : request.order_type());
  auto* customer = order.mutable_customer();
  customer->set_customer_id(request.customer_id());
  customer->set_tier(request.customer_tier() == v1::CUSTOMER_TIER_UNSPECIFIED
                         ? v1::CUSTOMER_TIER_STANDARD
                         : request.customer_tier());
  customer->set_segment(request.customer_segment());
  customer->set_display_name(MaskName(request.contact().name()));
  customer->set_masked_phone(MaskPhone(request.contact().phone()));
  if (request.has_contact()) *order.mutable_contact() = request.contact();
  if (request.has_expectation()) *order.mutable_expectation() = request.expectation();
  if (request.has_preferred_window()) {
    *order.mutable_preferred_window() = request.preferred_window();
  }
  for (int i = 0; i < request.consents_size(); ++i) {
    v1::ConsentRecord c = request.consents(i);
    c.set_consent_id(absl::StrCat(order_id, "-C", i + 1));
    c.set_recorded_by(principal_id);
    *order.add_consents() = std::move(c);
  }
  *order.mutable_created_at() = rpc::ToProto(now);
  *order.mutable_updated_at() = rpc::ToProto(now);
  order.set_created_by(principal_id);
  order.set_version(1);
  v1::OrderTransition* t = order.add_transitions();
  t->set_index(0);
  t->set_to_state(v1::ORDER_STATE_CREATED);
  t->set_milestone(v1::PROGRESS_MILESTONE_CREATED);
  t->mutable_actor()->set_principal_id(principal_id);
  *t->mutable_actor()->mutable_server_time() = rpc::ToProto(now);
  return order;
}

v1::Event OrderCreatedEvent(const v1::WorkOrder& order, absl::Time now) {
  v1::Event event;
  event.set_producer("intake");
  *event.mutable_occurred_at() = rpc::ToProto(now);
  event.set_subject_id(order.order_id());
  v1::WorkOrder* copy = event.mutable_order_created()->mutable_order();
  *copy = order;
  // Events never carry PII (SPEC §8, data minimisation): no contact, no
  // customer words, no masked view, no media or consent evidence. Consumers
  // need ids, the service area, the appliance and the clocks.
  copy->clear_contact();
  copy->mutable_fault()->clear_description();
  copy->mutable_fault()->clear_media_refs();
  if (copy->has_expectation()) copy->mutable_expectation()->clear_text();
  copy->mutable_customer()->clear_display_name();
  copy->mutable_customer()->clear_masked_phone();
  copy->clear_consents();
  return event;
}

std::optional<v1::WorkOrder> ReworkOf(const std::vector<v1::WorkOrder>& same_serial,
                                      absl::Time now, absl::Duration window) {
  std::optional<v1::WorkOrder> best;
  for (const auto& o : same_serial) {
    if (!o.has_repair() || !o.repair().has_repaired_at()) continue;
    if (o.state() == v1::ORDER_STATE_CANCELLED || o.state() == v1::ORDER_STATE_REOPENED) {
      continue;
    }
    const absl::Time repaired = rpc::FromProto(o.repair().repaired_at());
    if (now - repaired > window || repaired > now) continue;
    if (!best || repaired > rpc::FromProto(best->repair().repaired_at())) best = o;
  }
  return best;
}

std::optional<v1::WorkOrder> OpenOrderOf(const std::vector<v1::WorkOrder>& same_serial) {
  for (const auto& o : same_serial) {
    if (IsOpen(o.state())) return o;
  }
  return std::nullopt;
}

}  // namespace aftersales::intake::domain
