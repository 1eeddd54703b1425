// After the demo day (which files no complaints and answers no surveys),
// obs_live_query_test runs this against the same suite so that the
// complaint and satisfaction metrics, and the follow-up clock, carry real
// series: it files complaints (five on one appliance model, completing a
// same-model cluster; one with strong emotion), acknowledges, investigates,
// resolves with compensation and reopens some, and answers surveys of the
// demo's confirmed orders (a five-star, a passive and a detractor answer).
//
//   obs_demo_extras --complaint=HOST:PORT --satisfaction=HOST:PORT --tokens=tokens.plain
//
// Exits 1 naming the call that failed.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "aftersales/v1/complaint.grpc.pb.h"
#include "aftersales/v1/satisfaction.grpc.pb.h"
#include "grpcpp/grpcpp.h"

namespace {

using namespace aftersales;

std::map<std::string, std::string> Flags(int argc, char** argv) {
  std::map<std::string, std::string> f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0 || a.find('=') == std::string::npos) continue;
    f[a.substr(2, a.find('=') - 2)] = a.substr(a.find('=') + 1);
  }
  return f;
}

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->AddMetadata("authorization", "Bearer " + token);
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return c;
}

bool Check(const grpc::Status& s, const std::string& what) {
  if (s.ok()) return true;
  std::cerr << "obs_demo_extras: " << what << ": " << s.error_code() << " "
            << s.error_message() << std::endl;
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  auto flags = Flags(argc, argv);
  std::ifstream in(flags["tokens"]);
  std::string line, agent;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string name, token;
    if (ls >> name >> token && name == "agent") agent = token;
  }
  if (agent.empty()) {
    std::cerr << "obs_demo_extras: no 'agent' token in " << flags["tokens"] << std::endl;
    return 1;
  }
  auto complaints = v1::ComplaintService::NewStub(
      grpc::CreateChannel(flags["complaint"], grpc::InsecureChannelCredentials()));
  auto surveys = v1::SatisfactionService::NewStub(
      grpc::CreateChannel(flags["satisfaction"], grpc::InsecureChannelCredentials()));

  // ---- complaints ----
  const std::vector<std::string> texts = {
      "The fridge stopped cooling again two days after delivery",
      "Fridge compressor noise, second time this week",
      "My fridge leaks water on the floor",
      "The fridge door seal came off",
      "Fridge not cooling, food spoiled, I am furious and will call 12315",
      "The engineer was late and did not explain the fee",
  };
  std::vector<std::string> ids;
  for (size_t i = 0; i < texts.size(); ++i) {
    v1::FileComplaintRequest r;
    r.set_request_id("obs-extras-" + std::to_string(i));
    r.set_customer_id("OBS-C" + std::to_string(i));
    r.set_channel(v1::COMPLAINT_CHANNEL_PHONE);
    r.set_text(texts[i]);
    r.set_region_code("CN-310000");
    if (i < 5) r.set_appliance_model("OBS-FRIDGE-100");  // same model: a cluster at 5
    v1::FileComplaintResponse resp;
    if (!Check(complaints->FileComplaint(Ctx(agent).get(), r, &resp), "FileComplaint " + std::to_string(i))) {
      return 1;
    }
    ids.push_back(resp.complaint().complaint_id());
  }
  for (size_t i = 0; i < 4; ++i) {
    v1::AcknowledgeComplaintRequest a;
    a.set_complaint_id(ids[i]);
    a.set_note("called the customer back");
    v1::Complaint c;
    if (!Check(complaints->Acknowledge(Ctx(agent).get(), a, &c), "Acknowledge " + ids[i])) return 1;
  }
  for (size_t i = 0; i < 3; ++i) {
    v1::StartInvestigationRequest s;
    s.set_complaint_id(ids[i]);
    v1::Complaint c;
    if (!Check(complaints->StartInvestigation(Ctx(agent).get(), s, &c), "StartInvestigation " + ids[i])) {
      return 1;
    }
    v1::ResolveComplaintRequest r;
    r.set_complaint_id(ids[i]);
    r.mutable_investigation()->set_root_cause("Batch of faulty compressors");
    r.mutable_investigation()->set_responsible_party(v1::RESPONSIBLE_PARTY_PRODUCT);
    r.mutable_investigation()->set_impact_scope(v1::IMPACT_SCOPE_SINGLE_CUSTOMER);
    r.mutable_resolution()->set_type(v1::RESOLUTION_TYPE_COMPENSATE);
    r.mutable_resolution()->set_description("Replaced the compressor, 100 points");
    r.mutable_resolution()->mutable_compensation()->set_points(100);
    if (!Check(complaints->Resolve(Ctx(agent).get(), r, &c), "Resolve " + ids[i])) return 1;
  }
  {
    v1::ReopenComplaintRequest r;
    r.set_complaint_id(ids[0]);
    r.set_reason("It broke again");
    v1::Complaint c;
    if (!Check(complaints->Reopen(Ctx(agent).get(), r, &c), "Reopen " + ids[0])) return 1;
  }

  // ---- surveys of the demo's confirmed orders ----
  v1::ListSurveysRequest list;
  list.mutable_page()->set_page_size(50);
  v1::ListSurveysResponse found;
  if (!Check(surveys->ListSurveys(Ctx(agent).get(), list, &found), "ListSurveys")) return 1;
  int answered = 0;
  for (const v1::Survey& s : found.surveys()) {
    if (answered == 3) break;
    v1::SubmitSurveyRequest r;
    r.set_survey_id(s.survey_id());
    r.set_request_id("obs-extras-survey-" + s.survey_id());
    v1::SurveyResponse* a = r.mutable_response();
    const int score = answered == 0 ? 5 : answered == 1 ? 4 : 1;
    a->set_csat(score);
    a->set_nps(answered == 0 ? 10 : answered == 1 ? 8 : 2);
    for (auto set : {&v1::DimensionScores::set_booking_convenience, &v1::DimensionScores::set_timeliness,
                     &v1::DimensionScores::set_engineer_attitude, &v1::DimensionScores::set_professionalism,
                     &v1::DimensionScores::set_fee_transparency, &v1::DimensionScores::set_site_etiquette}) {
      (a->mutable_dimensions()->*set)(score);
    }
    a->set_problem_solved(answered != 2);
    if (answered == 2) a->set_comment("terrible, rude and late");
    v1::SubmitSurveyResponse resp;
    grpc::Status st = surveys->SubmitSurvey(Ctx(agent).get(), r, &resp);
    if (st.error_code() == grpc::StatusCode::FAILED_PRECONDITION) continue;  // not answerable
    if (!Check(st, "SubmitSurvey " + s.survey_id())) return 1;
    ++answered;
  }
  std::cout << "obs_demo_extras: " << ids.size() << " complaints, " << answered << " of "
            << found.surveys_size() << " surveys answered" << std::endl;
  return answered > 0 ? 0 : 1;
}
