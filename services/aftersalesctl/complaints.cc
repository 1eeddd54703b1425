// complaints grade | list | get | explain (ComplaintService).
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersalesctl/cli.h"
#include "rpc/rpc.h"

namespace aftersales::ctl {
namespace {

void PrintGrading(const v1::GradingResult& g, const absl::TimeZone& zone) {
  KeyValues kv;
  kv.Add("grade", Enum(g.grade()));
  kv.Add("owner", Enum(g.owner_level()));
  kv.Add("acknowledge within", Duration(g.acknowledge_budget()));
  kv.Add("resolve within", Duration(g.resolve_budget()));
  std::string category = Enum(g.category());
  if (g.category_inferred()) {
    absl::StrAppend(&category, " (inferred",
                    g.category_evidence_size() > 0
                        ? " from: " + absl::StrJoin(g.category_evidence(), ", ")
                        : std::string(),
                    ")");
  }
  kv.Add("category", category);
  kv.Add("policy", absl::StrCat(g.policy().name(), " ", g.policy().version()));
  kv.Add("graded", Time(g.graded_at(), zone));
  kv.Print(std::cout);
  std::cout << "\nRules fired (floors first, then steps)\n";
  Table t({"RULE", "EFFECT", "FLOOR", "GRADE_AFTER", "EVIDENCE", "DESCRIPTION"});
  for (const auto& r : g.rules()) {
    t.Add({r.rule_id(), Enum(r.effect()), r.effect() == v1::RULE_EFFECT_FLOOR ? Enum(r.floor()) : "",
           Enum(r.grade_after()), absl::StrJoin(r.evidence(), ", "), r.description()});
  }
  t.Print(std::cout);
}

int Grade(Connection& c, const Options& o) {
  o.ExpectPositional({"TEXT"});
  v1::GradeTextRequest req;
  req.set_text(o.positional()[0]);
  if (o.Has("category")) {
    req.set_category(ParseEnum<v1::ComplaintCategory>("category", o.Get("category")));
  }
  if (o.Has("channel")) {
    req.set_channel(ParseEnum<v1::ComplaintChannel>("channel", o.Get("channel")));
  }
  if (o.Has("vip")) {
    req.set_customer_tier(o.Switch("vip") ? v1::CUSTOMER_TIER_VIP : v1::CUSTOMER_TIER_STANDARD);
  }
  req.set_order_id(o.Get("order"));
  req.set_customer_id(o.Get("customer"));
  req.set_appliance_model(o.Get("model"));
  auto stub = v1::ComplaintService::NewStub(c.Channel("complaint"));
  v1::GradingResult g;
  grpc::Status s = stub->GradeText(c.NewContext().get(), req, &g);
  if (!s.ok()) return CallFailed(c, "complaint", s);
  if (c.json) {
    PrintJson(g, std::cout);
    return 0;
  }
  std::cout << "Not filed: what-if grading only.\n\n";
  PrintGrading(g, c.zone);
  return 0;
}

int Explain(Connection& c, const Options& o) {
  o.ExpectPositional({"COMPLAINT_ID"});
  v1::ExplainGradeRequest req;
  req.set_complaint_id(o.positional()[0]);
  auto stub = v1::ComplaintService::NewStub(c.Channel("complaint"));
  v1::GradingResult g;
  grpc::Status s = stub->ExplainGrade(c.NewContext().get(), req, &g);
  if (!s.ok()) return CallFailed(c, "complaint", s);
  if (c.json) {
    PrintJson(g, std::cout);
    return 0;
  }
  std::cout << "Complaint " << req.complaint_id() << "\n\n";
  PrintGrading(g, c.zone);
  return 0;
}

int GetComplaint(Connection& c, const Options& o) {
  o.ExpectPositional({"COMPLAINT_ID"});
  v1::GetComplaintRequest req;
  req.set_complaint_id(o.positional()[0]);
  auto stub = v1::ComplaintService::NewStub(c.Channel("complaint"));
  v1::Complaint m;
  grpc::Status s = stub->GetComplaint(c.NewContext().get(), req, &m);
  if (!s.ok()) return CallFailed(c, "complaint", s);
  if (c.json) {
    PrintJson(m, std::cout);
    return 0;
  }
  const absl::TimeZone& z = c.zone;
  KeyValues kv;
  kv.Add("complaint", m.complaint_id());
  kv.Add("state", Enum(m.state()));
  kv.Add("grade", Enum(m.grade()));
  kv.Add("owner", absl::StrCat(Enum(m.owner_level()), m.owner_id().empty() ? "" : " " + m.owner_id()));
  kv.Add("category", Enum(m.category()));
  kv.Add("channel", Enum(m.channel()));
  kv.Add("customer", absl::StrCat(m.customer().customer_id(), " ", Enum(m.customer().tier())));
  kv.Add("order", m.order_id());
  kv.Add("region", m.region_code());
  kv.Add("partner", m.partner_id());
  kv.Add("model", m.appliance_model());
  if (!m.source_survey_id().empty()) kv.Add("from survey", m.source_survey_id());
  kv.Add("text", m.text());
  kv.Add("created", Time(m.created_at(), z));
  kv.Add("updated", Time(m.updated_at(), z));
  if (m.has_closed_at()) kv.Add("closed", Time(m.closed_at(), z));
  if (m.reopen_count()) kv.Add("reopened", absl::StrCat(m.reopen_count(), " time(s)"));
  if (m.has_resolution()) {
    kv.Add("resolution", absl::StrCat(Enum(m.resolution().type()), ": ",
                                      m.resolution().description()));
  }
  kv.Add("policy", absl::StrCat(m.policy().name(), " ", m.policy().version()));
  kv.Print(std::cout);
  std::cout << "\nClocks\n";
  PrintClocks(m.clocks(), z, std::cout);
  if (m.escalations_size() > 0) {
    std::cout << "\nEscalations\n";
    Table t({"AT", "FROM", "TO", "REASON"});
    for (const auto& e : m.escalations()) {
      t.Add({Time(e.escalated_at(), z), Enum(e.from_level()), Enum(e.to_level()),
             Enum(e.reason())});
    }
    t.Print(std::cout);
  }
  return 0;
}

int List(Connection& c, const Options& o) {
  o.ExpectPositional({});
  v1::ListComplaintsRequest req;
  req.set_order_id(o.Get("order"));
  req.set_customer_id(o.Get("customer"));
  req.set_region_code(o.Get("region"));
  req.set_partner_id(o.Get("partner"));
  if (o.Has("grade")) req.set_grade(ParseEnum<v1::ComplaintGrade>("grade", o.Get("grade")));
  if (o.Has("state")) req.set_state(ParseEnum<v1::ComplaintState>("state", o.Get("state")));
  if (o.Has("category")) {
    req.set_category(ParseEnum<v1::ComplaintCategory>("category", o.Get("category")));
  }
  if (o.Has("since")) {
    *req.mutable_created()->mutable_start() =
        rpc::ToProto(ParseTimeArg("since", o.Get("since"), c.zone));
  }
  if (o.Has("until")) {
    *req.mutable_created()->mutable_end() =
        rpc::ToProto(ParseTimeArg("until", o.Get("until"), c.zone));
  }
  const ListLimits limits = LimitsOf(o);
  auto stub = v1::ComplaintService::NewStub(c.Channel("complaint"));
  v1::ListComplaintsResponse all;
  grpc::Status s = FetchPages(
      req, limits,
      [&](const v1::ListComplaintsRequest& r, v1::ListComplaintsResponse* page) {
        return stub->ListComplaints(c.NewContext().get(), r, page);
      },
      [](v1::ListComplaintsResponse* r) { return r->mutable_complaints(); }, &all);
  if (!s.ok()) return CallFailed(c, "complaint", s);
  if (c.json) {
    PrintJson(all, std::cout);
    return 0;
  }
  Table t({"COMPLAINT_ID", "STATE", "GRADE", "CATEGORY", "CHANNEL", "CUSTOMER", "ORDER",
           "REGION", "OWNER", "CREATED"});
  for (const auto& m : all.complaints()) {
    t.Add({m.complaint_id(), Enum(m.state()), Enum(m.grade()), Enum(m.category()),
           Enum(m.channel()), m.customer().customer_id(), m.order_id(), m.region_code(),
           Enum(m.owner_level()), Time(m.created_at(), c.zone)});
  }
  t.Print(std::cout);
  PrintMoreNote(all.next_page_token(), limits, std::cout);
  return 0;
}

}  // namespace

void AddComplaintCommands(std::vector<Command>& out) {
  out.push_back({"complaints", "grade",
                 "TEXT [--category=C] [--channel=CH] [--order=ID] [--customer=ID] [--model=M] "
                 "[--vip]",
                 "grade a complaint text with every rule that fires, without filing it",
                 {{"category", true},
                  {"channel", true},
                  {"order", true},
                  {"customer", true},
                  {"model", true},
                  {"vip", false}},
                 Grade});
  out.push_back({"complaints", "list",
                 "[--order=ID] [--customer=ID] [--grade=G] [--state=S] [--category=C] "
                 "[--region=R] [--partner=ID] [--since=T] [--until=T] [--limit=N] "
                 "[--page-size=N]",
                 "complaints, newest first",
                 {{"order", true},
                  {"customer", true},
                  {"grade", true},
                  {"state", true},
                  {"category", true},
                  {"region", true},
                  {"partner", true},
                  {"since", true},
                  {"until", true},
                  {"limit", true},
                  {"page_size", true}},
                 List});
  out.push_back({"complaints", "get", "COMPLAINT_ID", "one complaint with its clocks", {},
                 GetComplaint});
  out.push_back({"complaints", "explain", "COMPLAINT_ID",
                 "the rules that graded a filed complaint", {}, Explain});
}

}  // namespace aftersales::ctl
