// orders get | list | timeline (IntakeService).
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "aftersales/v1/intake.grpc.pb.h"
#include "aftersalesctl/cli.h"
#include "rpc/rpc.h"

namespace aftersales::ctl {
namespace {

std::string Flags(const v1::WorkOrder& o) {
  bool breached = false, at_risk = false;
  for (const auto& c : o.sla_clocks()) {
    breached = breached || c.outcome() == v1::SLA_OUTCOME_BREACHED;
    at_risk = at_risk || (c.at_risk() && c.outcome() == v1::SLA_OUTCOME_RUNNING);
  }
  std::vector<std::string> flags;
  if (breached) flags.push_back("breached");
  if (at_risk) flags.push_back("at-risk");
  if (o.is_rework()) flags.push_back("rework");
  if (o.unassignable()) flags.push_back("unassignable");
  if (o.has_proposed_window()) flags.push_back("window-proposed");
  return absl::StrJoin(flags, ",");
}

std::string Window(const v1::AppointmentWindow& w, const absl::TimeZone& zone) {
  if (!w.has_start()) return "";
  return Time(w.start(), zone) + " .. " + Time(w.end(), zone);
}

std::string Reasons(const v1::PriorityDecision& d) {
  std::vector<std::string> reasons;
  for (int r : d.reasons()) reasons.push_back(Enum(static_cast<v1::PriorityReason>(r)));
  std::string out = absl::StrJoin(reasons, ", ");
  if (d.matched_terms_size() > 0) {
    absl::StrAppend(&out, "; matched: ", absl::StrJoin(d.matched_terms(), ", "));
  }
  return out;
}

std::string Principal(const v1::Actor& a) {
  if (a.principal_id().empty() || a.role() == v1::ROLE_UNSPECIFIED) return a.principal_id();
  return absl::StrCat(a.principal_id(), " (", absl::AsciiStrToLower(Enum(a.role())), ")");
}

int Get(Connection& c, const Options& o) {
  o.ExpectPositional({"ORDER_ID"});
  auto stub = v1::IntakeService::NewStub(c.Channel("intake"));
  v1::GetOrderRequest req;
  req.set_order_id(o.positional()[0]);
  v1::WorkOrder w;
  grpc::Status s = stub->GetOrder(c.NewContext().get(), req, &w);
  if (!s.ok()) return CallFailed(c, "intake", s);
  if (c.json) {
    PrintJson(w, std::cout);
    return 0;
  }
  const absl::TimeZone& z = c.zone;
  KeyValues kv;
  kv.Add("order", w.order_id());
  kv.Add("state", Enum(w.state()));
  kv.Add("priority", absl::StrCat(Enum(w.priority()), " (", Reasons(w.priority_decision()), ")"));
  kv.Add("type", Enum(w.order_type()));
  kv.Add("channel", Enum(w.channel()));
  kv.Add("handling", Enum(w.handling_mode()));
  kv.Add("customer", absl::StrCat(w.customer_id(), " ", Enum(w.customer().tier()),
                                  w.customer().masked_phone().empty()
                                      ? ""
                                      : " " + w.customer().masked_phone()));
  kv.Add("region", absl::StrCat(w.service_area().region_code(), " (tier ",
                                w.service_area().city_tier(), ")"));
  std::vector<std::string> appliance;
  for (const std::string& part :
       {w.appliance().category(), w.appliance().brand(), w.appliance().model()}) {
    if (!part.empty()) appliance.push_back(part);
  }
  kv.Add("appliance", absl::StrJoin(appliance, " "));
  kv.Add("serial", w.appliance().serial());
  kv.Add("warranty", Enum(w.appliance().warranty_status()));
  kv.Add("fault", w.fault().description());
  if (!w.fault().fault_code().empty()) kv.Add("fault code", w.fault().fault_code());
  kv.Add("fault kind", absl::StrCat(Enum(w.fault().kind()), " / ", Enum(w.fault().complexity())));
  if (!w.expectation().text().empty() || w.expectation().has_deadline()) {
    kv.Add("expectation", absl::StrCat(w.expectation().text(), w.expectation().has_deadline()
                                                                  ? " by " + Time(w.expectation().deadline(), z)
                                                                  : ""));
  }
  kv.Add("created", absl::StrCat(Time(w.created_at(), z), " by ", w.created_by()));
  kv.Add("updated", Time(w.updated_at(), z));
  kv.Add("version", absl::StrCat(w.version()));
  if (w.has_assignment()) {
    const auto& a = w.assignment();
    kv.Add("engineer", absl::StrCat(a.engineer_id(), " (partner ", a.partner_id(), ", ",
                                    a.engineer().display_name(), ", ",
                                    Enum(a.engineer().certification_level()),
                                    a.manual_override() ? ", manual override" : "", ")"));
    kv.Add("assigned", absl::StrCat(Time(a.assigned_at(), z), " (offer ", a.offer_id(),
                                    ", attempt ", a.attempt(), ")"));
    kv.Add("eta", Time(a.eta(), z));
  } else if (w.has_promised_eta()) {
    kv.Add("eta", Time(w.promised_eta(), z));
  }
  if (w.has_appointment()) kv.Add("appointment", Window(w.appointment(), z));
  if (w.has_proposed_window()) kv.Add("proposed window", Window(w.proposed_window(), z));
  if (w.is_rework()) kv.Add("rework of", w.rework_of_order_id());
  if (w.rework_order_ids_size()) kv.Add("reworked by", absl::StrJoin(w.rework_order_ids(), ", "));
  if (w.complaint_ids_size()) kv.Add("complaints", absl::StrJoin(w.complaint_ids(), ", "));
  if (w.linked_requests_size()) kv.Add("linked requests", absl::StrCat(w.linked_requests_size()));
  if (w.has_hold()) {
    kv.Add("on hold", absl::StrCat(Enum(w.hold().reason()), " since ", Time(w.hold().since(), z),
                                   " (from ", Enum(w.hold().held_from()), ")"));
  }
  if (w.cancel_reason()) kv.Add("cancelled", Enum(w.cancel_reason()));
  if (w.has_closed_at()) kv.Add("closed", Time(w.closed_at(), z));
  kv.Add("flags", Flags(w));
  kv.Print(std::cout);
  std::cout << "\nSLA clocks\n";
  PrintClocks(w.sla_clocks(), z, std::cout);
  return 0;
}

int List(Connection& c, const Options& o) {
  o.ExpectPositional({});
  v1::ListOrdersRequest req;
  if (o.Has("state")) {
    for (absl::string_view s : absl::StrSplit(o.Get("state"), ',', absl::SkipEmpty())) {
      req.add_states(ParseEnum<v1::OrderState>("state", std::string(s)));
    }
  }
  if (o.Has("priority")) req.set_priority(ParseEnum<v1::Priority>("priority", o.Get("priority")));
  if (o.Has("type")) req.set_order_type(ParseEnum<v1::OrderType>("type", o.Get("type")));
  req.set_region_code(o.Get("region"));
  req.set_customer_id(o.Get("customer"));
  req.set_partner_id(o.Get("partner"));
  req.set_engineer_id(o.Get("engineer"));
  req.set_breached_only(o.Switch("breached"));
  req.set_at_risk_only(o.Switch("at_risk"));
  req.set_rework_only(o.Switch("rework"));
  if (o.Has("since")) {
    *req.mutable_created()->mutable_start() =
        rpc::ToProto(ParseTimeArg("since", o.Get("since"), c.zone));
  }
  if (o.Has("until")) {
    *req.mutable_created()->mutable_end() =
        rpc::ToProto(ParseTimeArg("until", o.Get("until"), c.zone));
  }
  const ListLimits limits = LimitsOf(o);
  auto stub = v1::IntakeService::NewStub(c.Channel("intake"));
  v1::ListOrdersResponse all;
  grpc::Status s = FetchPages(
      req, limits,
      [&](const v1::ListOrdersRequest& r, v1::ListOrdersResponse* page) {
        return stub->ListOrders(c.NewContext().get(), r, page);
      },
      [](v1::ListOrdersResponse* r) { return r->mutable_orders(); }, &all);
  if (!s.ok()) return CallFailed(c, "intake", s);
  if (c.json) {
    PrintJson(all, std::cout);
    return 0;
  }
  Table t({"ORDER_ID", "STATE", "PRIORITY", "TYPE", "REGION", "CUSTOMER", "CATEGORY",
           "ENGINEER", "CREATED", "FLAGS"});
  for (const auto& w : all.orders()) {
    t.Add({w.order_id(), Enum(w.state()), Enum(w.priority()), Enum(w.order_type()),
           w.service_area().region_code(), w.customer_id(), w.appliance().category(),
           w.assignment().engineer_id(), Time(w.created_at(), c.zone), Flags(w)});
  }
  t.Print(std::cout);
  PrintMoreNote(all.next_page_token(), limits, std::cout);
  return 0;
}

int Timeline(Connection& c, const Options& o) {
  o.ExpectPositional({"ORDER_ID"});
  auto stub = v1::IntakeService::NewStub(c.Channel("intake"));
  v1::GetOrderTimelineRequest req;
  req.set_order_id(o.positional()[0]);
  v1::OrderTimeline tl;
  grpc::Status s = stub->GetOrderTimeline(c.NewContext().get(), req, &tl);
  if (!s.ok()) return CallFailed(c, "intake", s);
  if (c.json) {
    PrintJson(tl, std::cout);
    return 0;
  }
  const absl::TimeZone& z = c.zone;
  std::cout << "Order " << tl.order_id() << "\n\nTransitions\n";
  Table t({"#", "FROM", "TO", "MILESTONE", "BY", "AT", "DEVICE_TIME", "REASON"});
  for (const auto& tr : tl.transitions()) {
    const auto& a = tr.actor();
    t.Add({absl::StrCat(tr.index()), Enum(tr.from_state()), Enum(tr.to_state()),
           Enum(tr.milestone()), Principal(a), Time(a.server_time(), z), Time(a.device_time(), z),
           a.reason().empty() ? a.cause_ref() : a.reason()});
  }
  t.Print(std::cout);
  if (tl.priority_changes_size() > 0) {
    std::cout << "\nPriority decisions\n";
    Table p({"AT", "FROM", "TO", "REASONS", "BY", "WHY"});
    for (const auto& d : tl.priority_changes()) {
      p.Add({Time(d.decided_by().server_time(), z), Enum(d.previous()), Enum(d.priority()),
             Reasons(d), Principal(d.decided_by()), d.decided_by().reason()});
    }
    p.Print(std::cout);
  }
  std::cout << "\nSLA clocks\n";
  PrintClocks(tl.sla_clocks(), z, std::cout);
  std::cout << "\nSteps\n";
  Table st({"STEP", "STARTED", "ENDED", "ELAPSED"});
  for (const auto& step : tl.steps()) {
    st.Add({Enum(step.step()), Time(step.started_at(), z), Time(step.ended_at(), z),
            Duration(step.elapsed())});
  }
  st.Print(std::cout);
  return 0;
}

}  // namespace

void AddOrderCommands(std::vector<Command>& out) {
  out.push_back({"orders", "get", "ORDER_ID", "one work order with its SLA clocks", {}, Get});
  out.push_back({"orders", "list",
                 "[--state=S[,S...]] [--priority=P] [--type=T] [--region=R] [--customer=ID] "
                 "[--partner=ID] [--engineer=ID] [--breached] [--at-risk] [--rework] "
                 "[--since=T] [--until=T] [--limit=N] [--page-size=N]",
                 "work orders, newest first",
                 {{"state", true},
                  {"priority", true},
                  {"type", true},
                  {"region", true},
                  {"customer", true},
                  {"partner", true},
                  {"engineer", true},
                  {"breached", false},
                  {"at_risk", false},
                  {"rework", false},
                  {"since", true},
                  {"until", true},
                  {"limit", true},
                  {"page_size", true}},
                 List});
  out.push_back({"orders", "timeline", "ORDER_ID",
                 "an order's transitions, priority changes, SLA clocks and loop steps",
                 {},
                 Timeline});
}

}  // namespace aftersales::ctl
