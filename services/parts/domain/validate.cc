#include "parts/domain/validate.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "rpc/validate.h"

namespace aftersales::parts::domain {
namespace {

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

// An optional id: empty, or 1..max printable ASCII without spaces.
rpc::Validator& OptionalId(rpc::Validator& v, absl::string_view field, absl::string_view value,
                           size_t max) {
  if (!value.empty()) v.Id(field, value, max);
  return v;
}

absl::Status ValidTimestamp(absl::string_view field, const google::protobuf::Timestamp& t) {
  // 0001-01-01 .. 9999-12-31, as google.protobuf.Timestamp defines.
  if (t.seconds() < -62135596800LL || t.seconds() > 253402300799LL || t.nanos() < 0 ||
      t.nanos() > 999999999) {
    return Invalid(field, "not a valid timestamp");
  }
  return absl::OkStatus();
}

absl::Status ValidMoney(absl::string_view field, const v1::Money& m) {
  if (m.amount_minor() < 0) return Invalid(absl::StrCat(field, ".amount_minor"), "must be >= 0");
  const std::string& c = m.currency_code();
  bool ok = c.size() == 3;
  for (char ch : c) ok = ok && ch >= 'A' && ch <= 'Z';
  if (!ok) {
    return Invalid(absl::StrCat(field, ".currency_code"), "must be 3 upper-case letters (ISO 4217)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateGeoPoint(absl::string_view field, const v1::GeoPoint& p) {
  if (!std::isfinite(p.lat_deg()) || p.lat_deg() < -90 || p.lat_deg() > 90) {
    return Invalid(absl::StrCat(field, ".lat_deg"), "must be in [-90, 90]");
  }
  if (!std::isfinite(p.lng_deg()) || p.lng_deg() < -180 || p.lng_deg() > 180) {
    return Invalid(absl::StrCat(field, ".lng_deg"), "must be in [-180, 180]");
  }
  return absl::OkStatus();
}

absl::Status ValidatePart(const v1::Part& p) {
  rpc::Validator v;
  v.Id("part.sku", p.sku(), 64)
      .Text("part.name", p.name(), 256, true)
      .Text("part.description", p.description(), 2000, false)
      .Check("part.compatible_categories", p.compatible_categories_size() <= 50, "at most 50")
      .Check("part.compatible_models", p.compatible_models_size() <= 2000, "at most 2000")
      .Check("part.warranty_days", p.warranty_days() >= 0 && p.warranty_days() <= 3650,
             "must be in [0, 3650]");
  for (int i = 0; i < p.compatible_categories_size(); ++i) {
    v.Id(absl::StrCat("part.compatible_categories[", i, "]"), p.compatible_categories(i), 32);
  }
  for (int i = 0; i < p.compatible_models_size(); ++i) {
    v.Text(absl::StrCat("part.compatible_models[", i, "]"), p.compatible_models(i), 64, true);
  }
  if (!v.status().ok()) return v.status();
  if (p.has_unit_price()) return ValidMoney("part.unit_price", p.unit_price());
  return absl::OkStatus();
}

absl::Status ValidateLocation(const v1::StockLocation& l) {
  rpc::Validator v;
  v.Id("location.location_id", l.location_id(), 64)
      .Enum("location.kind", l.kind(), v1::LocationKind_IsValid(l.kind()))
      .Text("location.name", l.name(), 128, true)
      .Id("location.region_code", l.region_code(), 32);
  OptionalId(v, "location.partner_id", l.partner_id(), 64);
  OptionalId(v, "location.engineer_id", l.engineer_id(), 64);
  if (l.kind() == v1::LOCATION_KIND_ENGINEER_VAN) {
    v.Check("location.engineer_id", !l.engineer_id().empty(), "required for an ENGINEER_VAN");
  } else {
    v.Check("location.engineer_id", l.engineer_id().empty(), "only an ENGINEER_VAN has one");
  }
  v.Check("location.point", l.has_point(), "required");
  if (!v.status().ok()) return v.status();
  return ValidateGeoPoint("location.point", l.point());
}

absl::Status ValidateListParts(const v1::ListPartsRequest& r) {
  rpc::Validator v;
  OptionalId(v, "appliance_category", r.appliance_category(), 32);
  v.Text("model", r.model(), 64, false);
  return v.status();
}

absl::Status ValidateReceive(const v1::ReceiveRequest& r) {
  rpc::Validator v;
  v.Id("request_id", r.request_id(), 128)
      .Id("location_id", r.location_id(), 64)
      .Id("sku", r.sku(), 64)
      .Check("quantity", r.quantity() >= 1 && r.quantity() <= 100000, "must be in [1, 100000]")
      .Text("supplier_ref", r.supplier_ref(), 128, false);
  OptionalId(v, "lot_number", r.lot_number(), 64);
  return v.status();
}

absl::Status ValidateAdjust(const v1::AdjustRequest& r) {
  rpc::Validator v;
  v.Id("request_id", r.request_id(), 128)
      .Id("location_id", r.location_id(), 64)
      .Id("sku", r.sku(), 64)
      .Check("delta", r.delta() != 0, "must not be zero")
      .Check("delta", r.delta() >= -100000 && r.delta() <= 100000, "must be in [-100000, 100000]")
      .Enum("reason", r.reason(), v1::AdjustmentReason_IsValid(r.reason()))
      .Text("note", r.note(), 1000, false);
  OptionalId(v, "lot_number", r.lot_number(), 64);
  return v.status();
}

absl::Status ValidateTransfer(const v1::TransferRequest& r) {
  rpc::Validator v;
  v.Id("request_id", r.request_id(), 128)
      .Id("sku", r.sku(), 64)
      .Check("quantity", r.quantity() >= 1 && r.quantity() <= 100000, "must be in [1, 100000]")
      .Id("from_location_id", r.from_location_id(), 64)
      .Id("to_location_id", r.to_location_id(), 64)
      .Check("to_location_id", r.to_location_id() != r.from_location_id(),
             "must differ from from_location_id");
  OptionalId(v, "lot_number", r.lot_number(), 64);
  return v.status();
}

absl::Status ValidateReserve(const v1::ReserveRequest& r) {
  rpc::Validator v;
  v.Id("order_id", r.order_id(), 64)
      .Id("sku", r.sku(), 64)
      .Check("quantity", r.quantity() >= 1 && r.quantity() <= 1000, "must be in [1, 1000]")
      .Check("near", r.has_near(), "required")
      .Check("priority", v1::Priority_IsValid(r.priority()), "unknown value");
  OptionalId(v, "region_code", r.region_code(), 32);
  OptionalId(v, "engineer_id", r.engineer_id(), 64);
  if (!v.status().ok()) return v.status();
  if (absl::Status s = ValidateGeoPoint("near", r.near()); !s.ok()) return s;
  if (r.has_needed_by()) return ValidTimestamp("needed_by", r.needed_by());
  return absl::OkStatus();
}

absl::Status ValidateConsume(const v1::ConsumeRequest& r) {
  rpc::Validator v;
  v.Id("request_id", r.request_id(), 128)
      .Id("reservation_id", r.reservation_id(), 64)
      .Check("quantity", r.quantity() >= 0 && r.quantity() <= 1000,
             "must be in [1, 1000], or 0 for all");
  OptionalId(v, "lot_number", r.lot_number(), 64);
  OptionalId(v, "engineer_id", r.engineer_id(), 64);
  return v.status();
}

absl::Status ValidateRelease(const v1::ReleaseRequest& r) {
  rpc::Validator v;
  v.Id("order_id", r.order_id(), 64)
      .Check("reason", v1::ReleaseReason_IsValid(r.reason()), "unknown value");
  OptionalId(v, "sku", r.sku(), 64);
  return v.status();
}

absl::Status ValidateAvailability(const v1::GetAvailabilityRequest& r) {
  rpc::Validator v;
  v.Id("sku", r.sku(), 64)
      .Check("near", r.has_near(), "required")
      .Check("radius_km", std::isfinite(r.radius_km()) && r.radius_km() >= 0 &&
                              r.radius_km() <= 20100,
             "must be in [0, 20100] (0 = unlimited)")
      .Check("limit", r.limit() >= 0 && r.limit() <= 100, "must be in [1, 100], or 0 for 10");
  if (!v.status().ok()) return v.status();
  return ValidateGeoPoint("near", r.near());
}

absl::Status ValidateSetReorder(const v1::SetReorderPolicyRequest& r) {
  return rpc::Validator()
      .Id("location_id", r.location_id(), 64)
      .Id("sku", r.sku(), 64)
      .Check("reorder_point", r.reorder_point() >= 0 && r.reorder_point() <= 1000000,
             "must be in [0, 1000000]")
      .Check("reorder_qty", r.reorder_qty() >= 0 && r.reorder_qty() <= 1000000,
             "must be in [0, 1000000]")
      .status();
}

absl::Status ValidateTraceLot(const v1::TraceLotRequest& r) {
  rpc::Validator v;
  v.Id("lot_number", r.lot_number(), 64);
  OptionalId(v, "sku", r.sku(), 64);
  return v.status();
}

absl::Status ValidateListLowStock(const v1::ListLowStockRequest& r) {
  rpc::Validator v;
  OptionalId(v, "region_code", r.region_code(), 32);
  v.Check("location_kind", v1::LocationKind_IsValid(r.location_kind()), "unknown value");
  return v.status();
}

}  // namespace aftersales::parts::domain
