// offers list, queue list, dispatch orders (DispatchService).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "aftersales/v1/dispatch.grpc.pb.h"
#include "aftersalesctl/cli.h"

namespace aftersales::ctl {
namespace {

int ListOffers(Connection& c, const Options& o) {
  o.ExpectPositional({});
  v1::ListOffersRequest req;
  req.set_order_id(o.Get("order"));
  req.set_engineer_id(o.Get("engineer"));
  req.set_partner_id(o.Get("partner"));
  if (req.order_id().empty() && req.engineer_id().empty() && req.partner_id().empty()) {
    throw UsageError("give --order, --engineer or --partner");
  }
  if (o.Has("state")) req.set_state(ParseEnum<v1::OfferState>("state", o.Get("state")));
  const ListLimits limits = LimitsOf(o);
  auto stub = v1::DispatchService::NewStub(c.Channel("dispatch"));
  v1::ListOffersResponse all;
  grpc::Status s = FetchPages(
      req, limits,
      [&](const v1::ListOffersRequest& r, v1::ListOffersResponse* page) {
        return stub->ListOffers(c.NewContext().get(), r, page);
      },
      [](v1::ListOffersResponse* r) { return r->mutable_offers(); }, &all);
  if (!s.ok()) return CallFailed(c, "dispatch", s);
  if (c.json) {
    PrintJson(all, std::cout);
    return 0;
  }
  Table t({"OFFER_ID", "ORDER_ID", "ENGINEER", "PARTNER", "ATTEMPT", "STATE", "MADE", "EXPIRES",
           "DECIDED", "ETA", "SCORE", "NOTE"});
  for (const auto& of : all.offers()) {
    std::string note;
    if (of.reject_reason()) note = absl::StrCat("rejected: ", Enum(of.reject_reason()));
    if (!of.reject_note().empty()) absl::StrAppend(&note, note.empty() ? "" : " ", of.reject_note());
    if (of.manual_override()) {
      note = absl::StrCat("override by ", of.override_actor().principal_id(), ": ",
                          of.override_actor().reason());
    }
    t.Add({of.offer_id(), of.order_id(), of.engineer_id(), of.partner_id(),
           absl::StrCat(of.attempt()), Enum(of.state()), Time(of.made_at(), c.zone),
           Time(of.expires_at(), c.zone), Time(of.decided_at(), c.zone), Time(of.eta(), c.zone),
           of.has_candidate() ? Number(of.candidate().total_score(), 3) : "", note});
  }
  t.Print(std::cout);
  PrintMoreNote(all.next_page_token(), limits, std::cout);
  return 0;
}

int ListQueue(Connection& c, const Options& o) {
  o.ExpectPositional({});
  v1::ListUnassignedRequest req;
  req.set_region_code(o.Get("region"));
  const ListLimits limits = LimitsOf(o);
  auto stub = v1::DispatchService::NewStub(c.Channel("dispatch"));
  v1::ListUnassignedResponse all;
  grpc::Status s = FetchPages(
      req, limits,
      [&](const v1::ListUnassignedRequest& r, v1::ListUnassignedResponse* page) {
        return stub->ListUnassigned(c.NewContext().get(), r, page);
      },
      [](v1::ListUnassignedResponse* r) { return r->mutable_entries(); }, &all);
  if (!s.ok()) return CallFailed(c, "dispatch", s);
  if (c.json) {
    PrintJson(all, std::cout);
    return 0;
  }
  Table t({"ORDER_ID", "PRIORITY", "REGION", "DEADLINE", "QUEUED", "ATTEMPTS", "REASON",
           "BACKUP_TRIED", "NEIGHBOURS_TRIED"});
  for (const auto& e : all.entries()) {
    t.Add({e.order_id(), Enum(e.priority()), e.region_code(), Time(e.deadline(), c.zone),
           Time(e.queued_at(), c.zone), absl::StrCat(e.attempts()), Enum(e.reason()),
           Yes(e.backup_pool_tried()), Yes(e.neighbour_regions_tried())});
  }
  t.Print(std::cout);
  PrintMoreNote(all.next_page_token(), limits, std::cout);
  return 0;
}

int ListDispatchOrders(Connection& c, const Options& o) {
  o.ExpectPositional({});
  v1::ListDispatchOrdersRequest req;
  if (o.Has("state")) req.set_state(ParseEnum<v1::DispatchState>("state", o.Get("state")));
  const ListLimits limits = LimitsOf(o);
  auto stub = v1::DispatchService::NewStub(c.Channel("dispatch"));
  v1::ListDispatchOrdersResponse all;
  grpc::Status s = FetchPages(
      req, limits,
      [&](const v1::ListDispatchOrdersRequest& r, v1::ListDispatchOrdersResponse* page) {
        return stub->ListDispatchOrders(c.NewContext().get(), r, page);
      },
      [](v1::ListDispatchOrdersResponse* r) { return r->mutable_orders(); }, &all);
  if (!s.ok()) return CallFailed(c, "dispatch", s);
  if (c.json) {
    PrintJson(all, std::cout);
    return 0;
  }
  Table t({"ORDER_ID", "STATE", "PRIORITY", "REGION", "CATEGORY", "ENGINEER", "PARTNER",
           "OFFER", "ATTEMPTS", "DISPATCH_DEADLINE", "ARRIVAL_DEADLINE", "ETA"});
  for (const auto& d : all.orders()) {
    t.Add({d.order_id(), Enum(d.state()), Enum(d.priority()), d.service_area().region_code(),
           d.appliance_category(), d.assigned_engineer_id(), d.assigned_partner_id(),
           d.current_offer_id(), absl::StrCat(d.attempts()), Time(d.dispatch_deadline(), c.zone),
           Time(d.arrival_deadline(), c.zone), Time(d.eta(), c.zone)});
  }
  t.Print(std::cout);
  PrintMoreNote(all.next_page_token(), limits, std::cout);
  return 0;
}

}  // namespace

void AddDispatchCommands(std::vector<Command>& out) {
  out.push_back({"offers", "list",
                 "--order=ID | --engineer=ID | --partner=ID [--state=S] [--limit=N] "
                 "[--page-size=N]",
                 "offers made by dispatch, newest first",
                 {{"order", true},
                  {"engineer", true},
                  {"partner", true},
                  {"state", true},
                  {"limit", true},
                  {"page_size", true}},
                 ListOffers});
  out.push_back({"queue", "list", "[--region=R] [--limit=N] [--page-size=N]",
                 "the unassigned queue, earliest deadline first",
                 {{"region", true}, {"limit", true}, {"page_size", true}},
                 ListQueue});
  out.push_back({"dispatch", "orders", "[--state=S] [--limit=N] [--page-size=N]",
                 "dispatch's view of the orders",
                 {{"state", true}, {"limit", true}, {"page_size", true}},
                 ListDispatchOrders});
}

}  // namespace aftersales::ctl
